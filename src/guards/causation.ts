import type { OperationContext } from '../core/context.js';
import { BatonError } from '../core/errors.js';
import type { EventLog } from '../events/event-log.js';
import type { WorkspaceRegistry } from '../workspaces/registry.js';

/**
 * The loop guard. A request naming the event that caused it (`Baton-Causation`) makes events one
 * level deeper than that event; past the limit it is refused before it changes anything, which
 * ends two agents answering each other forever.
 */
export class CausationGuard {
  constructor(
    private readonly events: EventLog,
    private readonly workspaces: WorkspaceRegistry,
    private readonly maxDepth: number,
  ) {}

  async check(ctx: OperationContext, workspaceHint: string): Promise<void> {
    if (!ctx.causedBy || ctx.causation) return;
    const names = [workspaceHint, ...this.workspaces.list().map((w) => w.def.name).filter((n) => n !== workspaceHint)];
    // A cause no longer in the log (trimmed by retention) still counts as one level.
    let depth = 1;
    for (const ws of names) {
      const cause = await this.events.byId(ws, ctx.causedBy);
      if (cause) {
        depth = (cause.causation?.depth ?? 0) + 1;
        break;
      }
    }
    if (depth > this.maxDepth) {
      throw new BatonError('conflict', `causation chain is ${depth} deep, past the limit of ${this.maxDepth}: refusing a likely loop`);
    }
    ctx.causation = { eventId: ctx.causedBy, depth };
  }
}
