import type { MiddlewareHandler } from 'hono';
import { routePath } from 'hono/route';
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
    const last = routePath(c, -1);
    const route = MIDDLEWARE_PATHS.has(last) ? 'unmatched' : last;
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
