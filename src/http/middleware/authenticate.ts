import { timingSafeEqual, createHash } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import { ADMIN, actorOf } from '../../auth/principal.js';
import type { KeyStore } from '../../auth/key-store.js';
import type { RateLimiter } from '../../guards/rate-limit.js';
import { BatonError } from '../../core/errors.js';
import type { AppEnv } from '../env.js';
import { getCookie } from 'hono/cookie';
import { SESSION_COOKIE, sameToken, type SessionStore } from '../../console/session.js';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

function sameSecret(a: string, b: string): boolean {
  const ha = createHash('sha256').update(a).digest();
  const hb = createHash('sha256').update(b).digest();
  return timingSafeEqual(ha, hb);
}

/** The admin token or a stored key → its principal; throws for anything else. */
export async function principalFor(keys: KeyStore, adminToken: string, presented: string) {
  return sameSecret(presented, adminToken) ? ADMIN : await keys.authenticate(presented);
}

/**
 * Bearer key (or the console's session cookie) → principal. Key records may be held in process,
 * but never past a revocation (KeyStore).
 */
export function authenticate(keys: KeyStore, adminToken: string, rates: RateLimiter, sessions?: SessionStore): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const header = c.req.header('authorization') ?? '';
    const m = /^Bearer\s+(\S+)$/i.exec(header);
    let presented = m?.[1];
    if (!presented && sessions) {
      const session = sessions.get(getCookie(c, SESSION_COOKIE));
      // A cookie rides along on any request the browser makes, so a change must also prove it came from the console page.
      if (session && !SAFE_METHODS.has(c.req.method) && !sameToken(c.req.header('x-csrf-token') ?? '', session.csrf)) {
        throw new BatonError('forbidden', 'missing or wrong X-CSRF-Token for this console session (reload the console)');
      }
      presented = session?.key;
    }
    if (!presented) throw new BatonError('unauthorized', 'missing bearer key (Authorization: Bearer <key>)');
    const principal = await principalFor(keys, adminToken, presented);
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
