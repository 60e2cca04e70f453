import type { Grant } from './grants.js';

export interface RateLimits {
  requestsPerSecond?: number;
  burst?: number;
  bytesPerDay?: number;
}

/** Who is asking: the operator's admin token, or an agent's key. */
export type Principal =
  | { kind: 'admin' }
  | { kind: 'key'; id: string; agent: string; human: boolean; grants: Grant[]; limits?: RateLimits };

export const ADMIN: Principal = Object.freeze({ kind: 'admin' });

/** The actor string of events and audit entries. */
export function actorOf(p: Principal | null): string {
  if (!p) return 'anonymous';
  if (p.kind === 'admin') return 'admin';
  return `${p.human ? 'human' : 'agent'}:${p.agent}`;
}
