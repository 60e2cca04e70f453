import { Hono } from 'hono';
import { authorizeAdmin, can } from '../../auth/authorize.js';
import { BatonError } from '../../core/errors.js';
import { parsePath } from '../../core/paths.js';
import type { Core } from '../../server/core.js';
import { pageLimit } from '../../service/cursor.js';
import type { AppEnv } from '../env.js';
import { intQuery } from '../json-body.js';

/** A namespace path an audit entry names, if it names one (moves name two). */
function pathsOf(entryPath: string | null): string[] {
  if (!entryPath || !entryPath.startsWith('/')) return [];
  return entryPath.split(' -> ');
}

export function auditRoutes(core: Core) {
  const app = new Hono<AppEnv>();

  app.get('/v1/audit', async (c) => {
    const ctx = c.get('ctx');
    ctx.audit.action = 'audit.read';
    const p = ctx.principal;
    if (!p) throw new BatonError('unauthorized', 'no credentials');
    const since = c.req.query('since');
    if (since && Number.isNaN(Date.parse(since))) throw new BatonError('bad_request', 'since must be an ISO 8601 time');
    const cursor = c.req.query('cursor');
    if (cursor !== undefined && !/^\d+$/.test(cursor)) throw new BatonError('bad_request', 'cursor is not one this listing returned');
    const visible = (entryPath: string | null) =>
      pathsOf(entryPath).length > 0 &&
      pathsOf(entryPath).every((x) => {
        try {
          return can(p, 'read', parsePath(x));
        } catch {
          return false;
        }
      });
    const page = await core.audit.query({
      path: c.req.query('path') || undefined,
      actor: c.req.query('actor') || undefined,
      action: c.req.query('action') || undefined,
      since,
      after: cursor === undefined ? undefined : Number(cursor),
      limit: pageLimit(intQuery(c, 'limit')),
      visible: p.kind === 'admin' ? undefined : (e) => visible(e.path),
    });
    return c.json(page);
  });

  app.get('/v1/audit/verify', async (c) => {
    const ctx = c.get('ctx');
    ctx.audit.action = 'audit.verify';
    if (!ctx.principal) throw new BatonError('unauthorized', 'no credentials');
    authorizeAdmin(ctx.principal);
    return c.json(await core.audit.verify());
  });

  return app;
}
