import { Hono } from 'hono';
import { BatonError, toBatonError } from '../core/errors.js';
import type { Core } from '../server/core.js';
import type { AppEnv } from './env.js';
import { auditScope } from './middleware/audit-scope.js';
import { authenticate } from './middleware/authenticate.js';
import { coordinationHeaders } from './middleware/coordination-headers.js';
import { observe } from './middleware/observe.js';
import { mcpChallenge, oauthDiscoveryRoutes } from '../mcp/http-edges.js';
import { assertNoDotSegments } from './raw-path.js';
import { adminRoutes } from './routes/admin.js';
import { auditRoutes } from './routes/audit.js';
import { browseRoutes } from './routes/browse.js';
import { docsRoutes } from './routes/docs.js';
import { eventRoutes } from './routes/events.js';
import { filesRoutes } from './routes/files.js';
import { healthRoutes } from './routes/health.js';
import { redisReady } from './middleware/redis-ready.js';
import { ticketRoutes } from './routes/tickets.js';
import { gateRoutes } from './routes/gates.js';
import { consoleRoutes } from '../console/routes.js';
import { SessionStore } from '../console/session.js';

// The console's page and assets are public too: loading them is not an operation worth an audit entry.
const PUBLIC_PATHS = new Set(['/healthz', '/readyz', '/metrics', '/openapi.json', '/docs', '/docs/scalar.js', '/', '/console/app.js', '/console/app.css', '/console/favicon.svg', '/favicon.ico']);

/** The REST interface: a thin shell that turns HTTP into calls on the shared core. */
export function createHttpApp(core: Core): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  app.onError((err, c) => {
    const e = toBatonError(err);
    if (e.code === 'internal') core.log.error({ err: e.cause ?? err, path: c.req.path }, 'unhandled error');
    for (const [k, v] of Object.entries(e.headers)) c.header(k, v);
    // HEAD answers carry no body; the code travels in a header too.
    c.header('Baton-Error-Code', e.code);
    return c.json(e.toJSON(), e.status as 400);
  });
  app.notFound((c) => c.json(new BatonError('not_found', `no route ${c.req.method} ${c.req.path}`).toJSON(), 404));

  app.use('*', observe(core.metrics, core.log));
  app.use('*', auditScope(core.recorder, PUBLIC_PATHS));
  // Before any route, public ones included: the router only ever sees normalized paths.
  app.use('*', async (c, next) => {
    assertNoDotSegments(c);
    await next();
  });
  app.route('/', healthRoutes(core));
  app.route('/', docsRoutes());
  app.route('/', oauthDiscoveryRoutes());
  app.use('/mcp', mcpChallenge());
  app.use('/v1/*', redisReady(core.redis));
  app.use('/mcp', redisReady(core.redis));
  // The web console: its pages are public (sign-in), everything it shows comes through the routes below.
  const sessions = new SessionStore();
  app.route('/', consoleRoutes(core.keys, core.adminToken, sessions));
  app.use('*', authenticate(core.keys, core.adminToken, core.rates, sessions));
  app.use('*', coordinationHeaders());
  app.route('/', filesRoutes(core));
  app.route('/', browseRoutes(core));
  app.route('/', adminRoutes(core));
  app.route('/', auditRoutes(core));
  app.route('/', eventRoutes(core));
  app.route('/', ticketRoutes(core));
  app.route('/', gateRoutes(core));
  app.route('/', lazyMcpRoutes(core));
  return app;
}

/**
 * The MCP interface loads on the first /mcp request: the SDK it brings is about 13 MiB resident
 * and 4 MiB of heap that a server nobody reaches over MCP should not carry (and a larger live
 * heap lets V8 grow the heap further before it collects).
 */
function lazyMcpRoutes(core: Core): Hono<AppEnv> {
  let loaded: Promise<Hono<AppEnv>> | undefined;
  const app = new Hono<AppEnv>();
  app.on(['GET', 'POST', 'DELETE'], '/mcp', async (c, next) => {
    loaded ??= import('../mcp/http-transport.js').then((m) => m.mcpRoutes(core));
    const route = (await loaded).routes.find((r) => r.method === c.req.method && r.path === '/mcp');
    if (!route) throw new BatonError('not_found', `no route ${c.req.method} ${c.req.path}`);
    return route.handler(c, next) as Response | Promise<Response>;
  });
  return app;
}
