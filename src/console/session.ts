import { randomBytes, timingSafeEqual } from 'node:crypto';

/** One signed-in browser: the key stays on the server, the browser holds only an opaque id. */
export interface Session {
  key: string;
  csrf: string;
  expiresAt: number;
}

export const SESSION_COOKIE = 'baton_session';
export const SESSION_TTL_MS = 8 * 60 * 60 * 1000;

/**
 * Sessions live in this process's memory: a restart signs everyone out, which is the safe
 * failure for a credential holder, and the key is never written anywhere.
 */
export class SessionStore {
  private readonly sessions = new Map<string, Session>();

  constructor(private readonly ttlMs = SESSION_TTL_MS, private readonly now = () => Date.now()) {}

  create(key: string): { id: string; session: Session } {
    this.sweep();
    const id = randomBytes(32).toString('base64url');
    const session = { key, csrf: randomBytes(24).toString('base64url'), expiresAt: this.now() + this.ttlMs };
    this.sessions.set(id, session);
    return { id, session };
  }

  get(id: string | undefined): Session | undefined {
    if (!id) return undefined;
    const s = this.sessions.get(id);
    if (!s) return undefined;
    if (s.expiresAt <= this.now()) {
      this.sessions.delete(id);
      return undefined;
    }
    return s;
  }

  end(id: string | undefined): void {
    if (id) this.sessions.delete(id);
  }

  private sweep(): void {
    const t = this.now();
    for (const [id, s] of this.sessions) if (s.expiresAt <= t) this.sessions.delete(id);
  }
}

export function sameToken(a: string, b: string): boolean {
  const ba = Buffer.from(a);
  const bb = Buffer.from(b);
  return ba.length === bb.length && timingSafeEqual(ba, bb);
}
