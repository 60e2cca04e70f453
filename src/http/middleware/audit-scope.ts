import type { MiddlewareHandler } from 'hono';
import { newContext } from '../../core/context.js';
import { BatonError, type ErrorCode } from '../../core/errors.js';
import type { Recorder } from '../../core/recorder.js';
import type { AppEnv } from '../env.js';

const CODE_BY_STATUS: Record<number, ErrorCode> = { 404: 'not_found', 405: 'bad_request', 413: 'payload_too_large' };

/**
 * Opens the operation context of a request and, once the response is decided, writes its
 * one audit entry: allowed or denied, whatever layer refused it.
 */
export function auditScope(recorder: Recorder, unaudited: ReadonlySet<string>): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const ctx = newContext(null, `http.${c.req.method.toLowerCase()}`);
    c.set('ctx', ctx);
    await next();
    // Probes and scrapes that succeed are not actions of anyone; refusals still are.
    if (unaudited.has(c.req.path) && !c.error && c.res.status < 400) return;
    let err: unknown = c.error;
    if (!err && c.res.status >= 400) {
      err = new BatonError(CODE_BY_STATUS[c.res.status] ?? 'bad_request', `HTTP ${c.res.status}`);
    }
    void recorder.finish(ctx, err);
  };
}
