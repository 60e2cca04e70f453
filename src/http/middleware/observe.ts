import type { MiddlewareHandler } from 'hono';
import { matchedRoutes, routePath } from 'hono/route';
import type { Context } from 'hono';
import type { Logger } from 'pino';
import type { Metrics } from '../../observability/metrics.js';
import type { AppEnv } from '../env.js';

const MIDDLEWARE_PATHS = new Set(['*', '/*', '/v1/*', '']);

/** Request metrics by route pattern (never the raw path: unbounded label values) and a log line. */
export function observe(metrics: Metrics, log: Logger): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const start = performance.now();
    await next();
    const seconds = (performance.now() - start) / 1000;
    const route = routeLabel(c);
    const method = c.req.method;
    const status = c.res.status;
    metrics.requests.inc({ method, route, status: String(status) });
    metrics.latency.observe({ method, route }, seconds);
    const inBytes = Number(c.req.header('content-length') ?? 0);
    if (inBytes > 0) metrics.bytesIn.inc({ route }, inBytes);
    const outBytes = Number(c.res.headers.get('content-length') ?? 0);
    if (outBytes > 0) metrics.bytesOut.inc({ route }, outBytes);
    const ctx = c.var.ctx;
    log.debug({ method, route, status, ms: Math.round(seconds * 1e4) / 10, actor: ctx?.actor, code: c.error && 'code' in c.error ? c.error.code : undefined }, 'request');
  };
}

/**
 * The pattern of the handler that answered. Catch-all middleware registered after a route also matches it,
 * so "the last matched route" is not the answer; when a middleware answered (401, 429) the label is the
 * most specific route the request would have reached.
 */
function routeLabel(c: Context<AppEnv>): string {
  const answered = routePath(c);
  if (!MIDDLEWARE_PATHS.has(answered)) return answered;
  const routes = matchedRoutes(c);
  for (let i = routes.length - 1; i >= 0; i--) {
    const path = routes[i]!.path;
    if (!MIDDLEWARE_PATHS.has(path)) return path;
  }
  return 'unmatched';
}
