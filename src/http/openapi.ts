/**
 * The API description served at /openapi.json. Kept by hand beside the routes: the contract is
 * small, and a reader should be able to see it whole.
 */
const err = { $ref: '#/components/responses/Error' };
const pathParam = { name: 'path', in: 'path', required: true, schema: { type: 'string' }, description: 'namespace path: /<workspace>/<path inside it>' };
const json = (schema: object) => ({ content: { 'application/json': { schema } } });
const ok = (description: string, schema: object = { type: 'object' }) => ({ description, ...json(schema) });

const writeResult = {
  type: 'object',
  properties: { path: { type: 'string' }, size: { type: 'integer' }, etag: { type: 'string' }, version: { type: 'integer' }, mimeType: { type: 'string' } },
};

export const openApiDocument = {
  openapi: '3.1.0',
  info: { title: 'Baton', version: '0.1.0', description: 'Agents hand work to each other through files.' },
  components: {
    securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
    responses: {
      Error: ok('error', {
        type: 'object',
        properties: { error: { type: 'object', properties: { code: { type: 'string' }, message: { type: 'string' } } } },
      }),
    },
  },
  security: [{ bearer: [] }],
  paths: {
    '/v1/files/{path}': {
      parameters: [pathParam],
      put: {
        summary: 'Write a file atomically (If-None-Match: * creates only; If-Match compares and swaps)',
        requestBody: { content: { '*/*': { schema: { type: 'string', format: 'binary' } } } },
        responses: { '200': ok('updated', writeResult), '201': ok('created', writeResult), '412': err, '413': err, default: err },
      },
      get: {
        summary: 'Read a file (?version=N for an older version)',
        responses: { '200': { description: 'the bytes, with ETag and Content-Type' }, '304': { description: 'not modified' }, default: err },
      },
      head: { summary: 'Metadata of a file', responses: { '200': { description: 'headers only' }, default: err } },
      delete: { summary: 'Delete a file; its versions stay restorable', responses: { '200': ok('deleted'), default: err } },
    },
    '/v1/list/{dir}': {
      parameters: [pathParam],
      get: { summary: 'List a folder (?recursive=1&limit=&cursor=)', responses: { '200': ok('entries and cursor'), default: err } },
    },
    '/v1/search': { get: { summary: 'Search by name glob and/or content (?root=&glob=&q=&limit=&cursor=)', responses: { '200': ok('results and cursor'), default: err } } },
    '/v1/move': { post: { summary: 'Move a file: {from,to,overwrite?}; exactly one of racing movers wins', responses: { '200': ok('moved', writeResult), default: err } } },
    '/v1/versions/{path}': { parameters: [pathParam], get: { summary: 'Versions of a file, newest first', responses: { '200': ok('versions'), default: err } } },
    '/v1/restore': { post: { summary: 'Make an old version current: {path,version}', responses: { '200': ok('restored', writeResult), default: err } } },
    '/v1/keys': {
      post: { summary: 'Create a key: {agent,grants,human?,expiresAt?,limits?} → {id,key}', responses: { '201': ok('the key, shown once'), default: err } },
      get: { summary: 'List keys (never their secrets)', responses: { '200': ok('keys'), default: err } },
    },
    '/v1/keys/{id}': { delete: { summary: 'Revoke a key', parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }], responses: { '200': ok('revoked'), default: err } } },
    '/v1/workspaces': {
      get: { summary: 'List workspaces (admin)', responses: { '200': ok('workspaces'), default: err } },
      post: { summary: 'Create a workspace (admin); same fields as the YAML', responses: { '201': ok('created'), default: err } },
    },
    '/v1/audit': { get: { summary: 'Audit entries (?path=&actor=&action=&since=&limit=&cursor=)', responses: { '200': ok('entries and cursor'), default: err } } },
    '/v1/audit/verify': { get: { summary: 'Walk the hash chain; name the first broken entry', responses: { '200': ok('verdict'), default: err } } },
    '/v1/events': {
      get: { summary: 'Ordered events the key may read (?path=GLOB&after=CURSOR&wait=SECONDS&limit=); no after = from now, after=0 = oldest', responses: { '200': ok('events and cursor'), default: err } },
    },
    '/v1/events/stream': { get: { summary: 'The same as Server-Sent Events; resumable with Last-Event-ID', responses: { '200': { description: 'text/event-stream' }, default: err } } },
    '/v1/subscriptions': {
      post: { summary: 'Create a webhook: {url,paths,events?} → {id,secret}', responses: { '201': ok('subscription with its secret, shown once'), default: err } },
      get: { summary: "The caller's subscriptions (admin: all)", responses: { '200': ok('subscriptions'), default: err } },
    },
    '/v1/subscriptions/{id}': {
      parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
      get: { summary: 'One subscription', responses: { '200': ok('subscription'), default: err } },
      delete: { summary: 'Remove a subscription', responses: { '200': ok('removed'), default: err } },
    },
    '/v1/subscriptions/{id}/deliveries': {
      parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
      get: { summary: 'Delivery attempts, newest first (?status=pending|delivered|failed|dead)', responses: { '200': ok('deliveries'), default: err } },
    },
    '/v1/subscriptions/{id}/replay': {
      parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
      post: { summary: 'Deliver again: {eventIds?, since?}; dead letters included', responses: { '200': ok('replayed'), default: err } },
    },
    '/v1/tickets/claim': { post: { summary: 'Claim the oldest pending ticket: {queue, leaseSeconds?}', responses: { '200': ok('ticket with fencingToken and lease'), '204': { description: 'queue empty' }, default: err } } },
    '/v1/tickets/heartbeat': { post: { summary: 'Extend a lease: {path, fencingToken, leaseSeconds?}', responses: { '200': ok('new lease'), '409': err, default: err } } },
    '/v1/tickets/complete': { post: { summary: 'Move to done/: {path, fencingToken, result?}', responses: { '200': ok('completed'), '409': err, default: err } } },
    '/v1/tickets/fail': { post: { summary: 'Move to failed/, or back to pending/ with retry: {path, fencingToken, retry?, reason?}', responses: { '200': ok('failed'), '409': err, default: err } } },
    '/healthz': { get: { security: [], summary: 'Liveness', responses: { '200': ok('alive') } } },
    '/readyz': { get: { security: [], summary: 'Readiness of Redis and every workspace', responses: { '200': ok('ready'), '503': ok('not ready') } } },
    '/metrics': { get: { security: [], summary: 'Prometheus metrics', responses: { '200': { description: 'text exposition format' } } } },
  },
} as const;
