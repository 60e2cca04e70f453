import { timingSafeEqual, createHash } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import { ADMIN, actorOf } from '../../auth/principal.js';
import type { KeyStore } from '../../auth/key-store.js';
import type { RateLimiter } from '../../guards/rate-limit.js';
import { BatonError } from '../../core/errors.js';
import type { AppEnv } from '../env.js';

function sameSecret(a: string, b: string): boolean {
  const ha = createHash('sha256').update(a).digest();
  const hb = createHash('sha256').update(b).digest();
  return timingSafeEqual(ha, hb);
}

/** Bearer key → principal. Key records may be held in process, but never past a revocation (KeyStore). */
export function authenticate(keys: KeyStore, adminToken: string, rates: RateLimiter): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const header = c.req.header('authorization') ?? '';
    const m = /^Bearer\s+(\S+)$/i.exec(header);
    if (!m) throw new BatonError('unauthorized', 'missing bearer key (Authorization: Bearer <key>)');
    const presented = m[1]!;
    const principal = sameSecret(presented, adminToken) ? ADMIN : await keys.authenticate(presented);
    const ctx = c.get('ctx');
    ctx.principal = principal;
    ctx.actor = actorOf(principal);
    if (principal.kind === 'key') {
      ctx.recheck = async () => void (await keys.authenticate(presented));
      // A key's own limits hold on every route; a write's declared size counts against its quota.
      await rates.admit(principal.id, principal.limits, c.req.method === 'PUT' ? Number(c.req.header('content-length') ?? 0) : 0);
    }
    await next();
  };
}
