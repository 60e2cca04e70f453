/**
 * The OpenAPI 3.1 document, generated from the zod schemas in ./schemas.ts: zod emits JSON
 * Schema 2020-12, which is OpenAPI 3.1's own dialect, so component schemas are zod's output
 * unchanged and nothing is described twice.
 */
import { z } from 'zod';
import * as S from './schemas.js';

type Json = Record<string, unknown>;

const ref = (schema: z.ZodType): Json => {
  const id = z.globalRegistry.get(schema)?.id;
  if (!id) throw new Error('every schema in the API document needs a meta id');
  return { $ref: `#/components/schemas/${id}` };
};
const json = (description: string, schema: z.ZodType): Json => ({ description, content: { 'application/json': { schema: ref(schema) } } });
const body = (schema: z.ZodType): Json => ({ required: true, content: { 'application/json': { schema: ref(schema) } } });
const optionalBody = (schema: z.ZodType): Json => ({ required: false, content: { 'application/json': { schema: ref(schema) } } });
const errors = (...statuses: number[]): Json =>
  Object.fromEntries([...statuses.map((s) => [String(s), { $ref: '#/components/responses/Error' }]), ['default', { $ref: '#/components/responses/Error' }]]);

const str = (name: string, description: string, extra: Json = {}): Json => ({ name, in: 'query', required: false, description, schema: { type: 'string', ...extra } });
const int = (name: string, description: string, extra: Json = {}): Json => ({ name, in: 'query', required: false, description, schema: { type: 'integer', minimum: 1, ...extra } });
const limit = int('limit', 'page size (default 100)', { maximum: 1000 });
const cursor = str('cursor', 'a cursor an earlier page returned');
const id = { name: 'id', in: 'path', required: true, schema: { type: 'string' } };
/**
 * A namespace path as one path parameter. The server decodes the whole remainder of the URL, so
 * a generated client's `demo%2Finbox%2Ftask.md` and a hand-written `demo/inbox/task.md` name the
 * same file.
 */
const nsParam = (name: string, what: string): Json => ({
  name,
  in: 'path',
  required: true,
  description: `${what}: <workspace>/<path inside it>, without the leading slash; "/" may be sent as is or as %2F`,
  schema: { type: 'string' },
  example: 'demo/inbox/task.md',
});
const etagHeader = { description: 'the quoted etag', schema: { type: 'string' } };
const fileHeaders: Json = {
  ETag: etagHeader,
  'Baton-Version': { description: 'version number of these bytes', schema: { type: 'integer' } },
  'Last-Modified': { schema: { type: 'string' } },
  'Content-Length': { schema: { type: 'integer' } },
};

const op = (operationId: string, tag: string, summary: string, rest: Json): Json => ({ operationId, tags: [tag], summary, ...rest });
const mcpSession = (required: boolean): Json => ({ name: 'Mcp-Session-Id', in: 'header', required, schema: { type: 'string' }, description: 'the session initialize opened' });
const jsonRpcError = (description: string): Json => ({
  description: `${description} (a JSON-RPC error)`,
  content: { 'application/json': { schema: { type: 'object', properties: { jsonrpc: { type: 'string' }, error: { type: 'object' }, id: {} } } } },
});

const paths: Record<string, Json> = {
  '/v1/files/{path}': {
    parameters: [nsParam('path', 'the file')],
    put: op('putFile', 'files', 'Write a file atomically', {
      description: 'If-None-Match: * creates only; If-Match compares and swaps. The body is stored as sent.',
      parameters: [
        { name: 'If-Match', in: 'header', required: false, schema: { type: 'string' }, description: 'write only if the current etag is this' },
        { name: 'If-None-Match', in: 'header', required: false, schema: { type: 'string', enum: ['*'] }, description: 'create only' },
      ],
      requestBody: { required: true, content: { 'application/octet-stream': { schema: { type: 'string', contentMediaType: 'application/octet-stream' } } } },
      responses: { '200': { ...json('replaced', S.WriteResult), headers: { ETag: etagHeader } }, '201': { ...json('created', S.WriteResult), headers: { ETag: etagHeader } }, ...errors(400, 403, 412, 413) },
    }),
    get: op('getFile', 'files', 'Read a file', {
      parameters: [
        int('version', 'an older version (see listVersions)'),
        { name: 'If-None-Match', in: 'header', required: false, schema: { type: 'string' } },
      ],
      responses: {
        '200': { description: 'the bytes, with their Content-Type', headers: fileHeaders, content: { 'application/octet-stream': { schema: { type: 'string', contentMediaType: 'application/octet-stream' } } } },
        '304': { description: 'not modified', headers: { ETag: etagHeader } },
        ...errors(403, 404),
      },
    }),
    head: op('headFile', 'files', 'Metadata of a file', { responses: { '200': { description: 'headers only', headers: fileHeaders }, ...errors(404) } }),
    delete: op('deleteFile', 'files', 'Delete a file; its versions stay restorable', {
      parameters: [{ name: 'If-Match', in: 'header', required: false, schema: { type: 'string' } }],
      responses: { '200': json('deleted', S.DeleteResult), ...errors(403, 404, 412) },
    }),
  },
  '/v1/list': {
    get: op('listRoot', 'files', 'List the workspaces the key can see', {
      parameters: [str('recursive', 'list the whole subtree', { enum: ['1', 'true', '0', 'false'] }), limit, cursor],
      responses: { '200': json('entries and cursor', S.ListPage), ...errors(400) },
    }),
  },
  '/v1/list/{dir}': {
    parameters: [nsParam('dir', 'the folder')],
    get: op('listFolder', 'files', 'List a folder', {
      parameters: [str('recursive', 'list the whole subtree', { enum: ['1', 'true', '0', 'false'] }), limit, cursor],
      responses: { '200': json('entries and cursor', S.ListPage), ...errors(400, 403, 404) },
    }),
  },
  '/v1/search': {
    get: op('search', 'files', 'Search by name glob and/or content', {
      parameters: [
        str('root', 'folder to search under (default /)'),
        str('glob', 'name glob relative to root'),
        str('q', 'text the content must contain'),
        { name: 'exclude', in: 'query', required: false, description: 'globs relative to root to leave out', schema: { type: 'array', items: { type: 'string' } }, style: 'form', explode: true },
        limit,
        cursor,
      ],
      responses: { '200': json('results and cursor', S.SearchPage), ...errors(400, 403) },
    }),
  },
  '/v1/move': {
    post: op('moveFile', 'files', 'Move a file; exactly one of racing movers wins', { requestBody: body(S.MoveBody), responses: { '200': json('moved', S.MoveResult), ...errors(400, 403, 404, 409, 412) } }),
  },
  '/v1/versions/{path}': {
    parameters: [nsParam('path', 'the file')],
    get: op('listVersions', 'files', 'Versions of a file, newest first', { responses: { '200': json('versions', S.VersionList), ...errors(403, 404) } }),
  },
  '/v1/restore': {
    post: op('restoreVersion', 'files', 'Make an old version current', {
      requestBody: body(S.RestoreBody),
      responses: { '200': json('restored over the current file', S.RestoreResult), '201': json('restored a deleted file', S.RestoreResult), ...errors(400, 403, 404) },
    }),
  },
  '/v1/keys': {
    post: op('createKey', 'admin', 'Create a key (admin)', { requestBody: body(S.NewKeyBody), responses: { '201': json('the key, its secret shown once', S.CreatedKey), ...errors(400, 403) } }),
    get: op('listKeys', 'admin', 'List keys, never their secrets (admin)', { responses: { '200': json('keys', S.KeyList), ...errors(403) } }),
  },
  '/v1/keys/{id}': {
    parameters: [id],
    delete: op('revokeKey', 'admin', 'Revoke a key (admin)', { responses: { '200': json('the revoked key', S.KeyRecord), ...errors(403, 404) } }),
  },
  '/v1/workspaces': {
    get: op('listWorkspaces', 'admin', 'List workspaces (admin)', { responses: { '200': json('workspaces', S.WorkspaceList), ...errors(403) } }),
    post: op('createWorkspace', 'admin', 'Create a workspace (admin); the fields of the workspace YAML', {
      requestBody: body(S.NewWorkspaceBody),
      responses: { '201': json('created', S.WorkspaceInfo), ...errors(400, 403, 409) },
    }),
  },
  '/v1/audit': {
    get: op('queryAudit', 'audit', 'Audit entries the key may see', {
      parameters: [str('path', 'entries naming this path'), str('actor', 'entries by this actor'), str('action', 'entries of this action'), str('since', 'ISO 8601 time'), limit, str('cursor', 'a cursor an earlier page returned', { pattern: '^[0-9]+$' })],
      responses: { '200': json('entries and cursor', S.AuditPage), ...errors(400) },
    }),
  },
  '/v1/audit/verify': {
    get: op('verifyAudit', 'audit', 'Walk the hash chain; name the first broken entry (admin)', { responses: { '200': json('verdict', S.AuditVerifyResult), ...errors(403) } }),
  },
  '/v1/events': {
    get: op('readEvents', 'events', 'Ordered events the key may read (long-poll)', {
      parameters: [
        str('path', 'a glob, e.g. /demo/inbox/**'),
        str('after', 'a cursor from an earlier page; 0 = oldest retained; absent = from now'),
        { name: 'wait', in: 'query', required: false, description: 'seconds to wait for the first event', schema: { type: 'integer', minimum: 0, maximum: 300 } },
        limit,
      ],
      responses: { '200': json('events and cursor', S.EventPage), ...errors(400, 403) },
    }),
  },
  '/v1/events/stream': {
    get: op('streamEvents', 'events', 'The same events as Server-Sent Events; resumable with Last-Event-ID', {
      parameters: [str('path', 'a glob'), str('after', 'a cursor'), { name: 'Last-Event-ID', in: 'header', required: false, schema: { type: 'string' } }],
      responses: {
        '200': { description: 'frames: ready, one per event (data: BatonEvent), ping, error', content: { 'text/event-stream': { schema: { type: 'string' } } } },
        ...errors(400, 403),
      },
    }),
  },
  '/v1/subscriptions': {
    post: op('createSubscription', 'webhooks', 'Create a webhook', { requestBody: body(S.NewSubscriptionBody), responses: { '201': json('the subscription, its secret shown once', S.CreatedSubscription), ...errors(400, 403) } }),
    get: op('listSubscriptions', 'webhooks', "The caller's subscriptions (admin: all)", { responses: { '200': json('subscriptions', S.SubscriptionList), ...errors(403) } }),
  },
  '/v1/subscriptions/{id}': {
    parameters: [id],
    get: op('getSubscription', 'webhooks', 'One subscription', { responses: { '200': json('subscription', S.Subscription), ...errors(404) } }),
    delete: op('deleteSubscription', 'webhooks', 'Remove a subscription', { responses: { '200': json('removed', S.RemovedSubscription), ...errors(404) } }),
  },
  '/v1/subscriptions/{id}/deliveries': {
    parameters: [id],
    get: op('listDeliveries', 'webhooks', 'Delivery attempts, newest first', {
      parameters: [str('status', 'only attempts in this state', { enum: [...S.DELIVERY_STATUSES] })],
      responses: { '200': json('deliveries', S.DeliveryList), ...errors(400, 404) },
    }),
  },
  '/v1/subscriptions/{id}/replay': {
    parameters: [id],
    post: op('replayDeliveries', 'webhooks', 'Deliver again (dead letters included)', { requestBody: body(S.ReplayBody), responses: { '200': json('replayed', S.ReplayResult), ...errors(400, 404) } }),
  },
  '/v1/subscriptions/{id}/pause': {
    parameters: [id],
    post: op('pauseSubscription', 'webhooks', 'Hold deliveries: events keep arriving into the backlog, nothing is sent', {
      requestBody: optionalBody(S.NoBody),
      responses: { '200': json('paused', S.Subscription), ...errors(404) },
    }),
  },
  '/v1/subscriptions/{id}/resume': {
    parameters: [id],
    post: op('resumeSubscription', 'webhooks', 'Deliver the held backlog, oldest first, then go on live', {
      requestBody: optionalBody(S.NoBody),
      responses: { '200': json('resumed', S.ResumedSubscription), ...errors(404) },
    }),
  },
  '/v1/gates': {
    get: op('listGates', 'gates', 'Each human gate with a waiting list, and the items waiting that this key may read', { responses: { '200': json('gates', S.GateList), ...errors(403) } }),
  },
  '/v1/gates/approve': {
    post: op('approveGateItem', 'gates', 'A human key approves a waiting item: it moves into the gate', {
      requestBody: body(S.GateDecisionBody),
      responses: { '200': json('approved', S.GateDecision), ...errors(400, 403, 404, 409) },
    }),
  },
  '/v1/gates/reject': {
    post: op('rejectGateItem', 'gates', 'A human key rejects a waiting item with a note: it moves to <from>/rejected/', {
      requestBody: body(S.GateDecisionBody),
      responses: { '200': json('rejected', S.GateDecision), ...errors(400, 403, 404) },
    }),
  },
  '/v1/tickets/claim': {
    post: op('claimTicket', 'tickets', 'Claim the oldest pending ticket of a queue', {
      requestBody: body(S.ClaimBody),
      responses: { '200': json('the ticket with its fencing token and lease', S.ClaimedTicket), '204': { description: 'queue empty' }, ...errors(400, 403) },
    }),
  },
  '/v1/tickets/heartbeat': {
    post: op('heartbeatTicket', 'tickets', 'Extend a lease', { requestBody: body(S.HeartbeatBody), responses: { '200': json('new lease', S.HeartbeatResult), ...errors(400, 409) } }),
  },
  '/v1/tickets/complete': {
    post: op('completeTicket', 'tickets', 'Move a claimed ticket to done/', { requestBody: body(S.CompleteBody), responses: { '200': json('completed', S.CompleteResult), ...errors(400, 409) } }),
  },
  '/v1/tickets/fail': {
    post: op('failTicket', 'tickets', 'Move a claimed ticket to failed/, or back to pending/ with retry', { requestBody: body(S.FailBody), responses: { '200': json('failed', S.FailResult), ...errors(400, 409) } }),
  },
  '/mcp': {
    post: op('mcp', 'mcp', 'MCP over Streamable HTTP (JSON-RPC 2.0); the tools mirror this API', {
      description: 'initialize opens a session: the answer carries Mcp-Session-Id, which later requests send. A request without one that is not initialize is answered statelessly.',
      parameters: [mcpSession(false)],
      requestBody: { required: true, content: { 'application/json': { schema: { type: 'object', description: 'a JSON-RPC 2.0 request or batch' } } } },
      responses: {
        '200': {
          description: 'a JSON-RPC response, or an event stream of them',
          headers: { 'Mcp-Session-Id': { description: 'the session initialize opened', schema: { type: 'string' } } },
          content: { 'application/json': { schema: { type: 'object' } }, 'text/event-stream': { schema: { type: 'string' } } },
        },
        '202': { description: 'a notification or response was accepted' },
        '404': jsonRpcError('no such session for this key: send initialize again'),
        ...errors(400, 401),
      },
    }),
    get: op('mcpStream', 'mcp', "A session's stream of server notifications (notifications/resources/updated)", {
      parameters: [mcpSession(true)],
      responses: {
        '200': { description: 'server-sent events, one JSON-RPC notification each', content: { 'text/event-stream': { schema: { type: 'string' } } } },
        '400': jsonRpcError('no Mcp-Session-Id'),
        '404': jsonRpcError('no such session for this key'),
        ...errors(401),
      },
    }),
    delete: op('mcpEndSession', 'mcp', 'End a session', {
      parameters: [mcpSession(true)],
      responses: { '200': { description: 'ended' }, '400': jsonRpcError('no Mcp-Session-Id'), '404': jsonRpcError('no such session for this key'), ...errors(401) },
    }),
  },
  '/healthz': { get: op('health', 'operations', 'Liveness', { security: [], responses: { '200': json('alive', S.Health), ...errors(400) } }) },
  '/readyz': { get: op('ready', 'operations', 'Readiness of Redis and every workspace', { security: [], responses: { '200': json('ready', S.Readiness), '503': json('not ready', S.Readiness), ...errors(400) } }) },
  '/metrics': {
    get: op('metrics', 'operations', 'Prometheus metrics', { security: [], responses: { '200': { description: 'text exposition format', content: { 'text/plain': { schema: { type: 'string' } } } }, ...errors(400) } }),
  },
  '/openapi.json': {
    get: op('openapi', 'operations', 'This document', { security: [], responses: { '200': { description: 'OpenAPI 3.1', content: { 'application/json': { schema: { type: 'object' } } } }, ...errors(400) } }),
  },
  '/docs': {
    get: op('apiReference', 'operations', 'This document as a readable reference page', { security: [], responses: { '200': { description: 'HTML', content: { 'text/html': { schema: { type: 'string' } } } }, ...errors(400) } }),
  },
};

/** Every named schema, with references between them, as zod renders them. */
function componentSchemas(): Record<string, Json> {
  const rendered = z.toJSONSchema(z.globalRegistry, {
    target: 'draft-2020-12',
    uri: (id) => `#/components/schemas/${id}`,
    unrepresentable: 'any',
    // zod names a startsWith check as a format of its own; the pattern beside it already says it.
    override: ({ jsonSchema }) => {
      if (jsonSchema.format === 'starts_with') delete jsonSchema.format;
    },
  }) as { schemas: Record<string, Json> };
  const out: Record<string, Json> = {};
  for (const s of Object.values(S)) {
    if (!(s instanceof z.ZodType)) continue;
    const id = z.globalRegistry.get(s)?.id;
    if (!id || !rendered.schemas[id]) continue;
    const { $schema: _s, $id: _i, id: _d, ...schema } = rendered.schemas[id];
    out[id] = schema;
  }
  // Sorted, so the document is byte-for-byte the same however the module was loaded.
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => a.localeCompare(b)));
}

export function buildOpenApiDocument(version: string): Json {
  return {
    openapi: '3.1.0',
    info: {
      title: 'Baton',
      version,
      description: 'Agents hand work to each other through files.',
      license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
    },
    servers: [{ url: '/', description: 'this server' }],
    tags: [
      { name: 'files', description: 'Files in workspaces' },
      { name: 'events', description: 'The event log' },
      { name: 'webhooks', description: 'Webhook subscriptions and deliveries' },
      { name: 'tickets', description: 'Work queues with leases and fencing tokens' },
      { name: 'gates', description: 'Human gates: what waits for approval, approve, reject with a note' },
      { name: 'admin', description: 'Keys and workspaces' },
      { name: 'audit', description: 'The hash-chained audit log' },
      { name: 'mcp', description: 'Model Context Protocol' },
      { name: 'operations', description: 'Health, readiness, metrics, this description' },
    ],
    security: [{ bearer: [] }],
    paths,
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'a key (bk_…) or the admin token' } },
      schemas: componentSchemas(),
      responses: { Error: json('an error with a machine-readable code', S.ErrorBody) },
    },
  };
}
