import type { OperationContext } from '../core/context.js';
import { BatonError } from '../core/errors.js';
import { parsePath } from '../core/paths.js';
import { ticketPathOf } from './queue-path.js';
import type { TicketStore } from './ticket-store.js';

/**
 * A write that carries `Baton-Ticket` and `Baton-Fencing-Token` goes through only while that
 * token is the ticket's current one and its lease is live: a worker that stalled and lost its
 * lease cannot overwrite the work of the one that took over.
 */
export class FencingGuard {
  constructor(private readonly store: TicketStore) {}

  async check(ctx: OperationContext): Promise<void> {
    if (!ctx.fencing) return;
    let t;
    try {
      t = ticketPathOf(parsePath(ctx.fencing.ticket));
    } catch {
      t = null;
    }
    if (!t) throw new BatonError('bad_request', 'Baton-Ticket must name a ticket in a queue folder');
    const state = await this.store.get(t.queue.full, t.name);
    if (!state || state.token !== ctx.fencing.token || state.state !== 'in-progress' || state.leaseExpiresAt <= Date.now()) {
      throw new BatonError('conflict', `fencing token ${ctx.fencing.token} is not the current one for ${ctx.fencing.ticket}`);
    }
  }
}
