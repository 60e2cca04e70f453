import { actorOf, type Principal } from '../auth/principal.js';
import { BatonError } from './errors.js';

/**
 * One request or tool call as it travels through the core. Interfaces create it; the services
 * fill in what the audit entry should say (action, path, etag) as they learn it.
 */
export interface OperationContext {
  principal: Principal | null;
  actor: string;
  audit: { action: string; path: string | null; etag: string | null; note?: string };
  /** From `Baton-Causation`: the event this request answers. */
  causedBy?: string;
  /** Resolved by the loop guard: recorded on every event this request makes. */
  causation?: { eventId: string; depth: number };
  /** From `Baton-Ticket` + `Baton-Fencing-Token`: writes only go through with the current token. */
  fencing?: { ticket: string; token: number };
  /** Re-check the credentials: long-lived requests (long-poll, SSE) call it before each answer. */
  recheck?: () => Promise<void>;
}

export function newContext(principal: Principal | null, action: string, path: string | null = null): OperationContext {
  return { principal, actor: actorOf(principal), audit: { action, path, etag: null } };
}

/** The caller, or `unauthorized`: every entry point that needs credentials asks here. */
export function requirePrincipal(ctx: OperationContext): Principal {
  if (!ctx.principal) throw new BatonError('unauthorized', 'no credentials');
  return ctx.principal;
}
