import type { Principal } from '../auth/principal.js';
import { newContext } from '../core/context.js';
import { isBatonError } from '../core/errors.js';
import type { Core } from '../server/core.js';
import type { EventCursor } from '../service/events.js';
import type { ResourceSubscriptions } from './resources.js';

/** How long one read of the event log waits for an append before checking the key again. */
const WAIT_SECONDS = 25;
const RETRY_MS = 1000;

/**
 * One MCP session's resource subscriptions: follows the event log (the same reader, wake-ups
 * and visibility filter as `GET /v1/events/stream`) from the first subscription on, and calls
 * `notify` for each event on a subscribed path (either end of a move). Events the key may not
 * read are never seen here; a key revoked or expired ends the session through `onRevoked`.
 */
export class ResourceWatch implements ResourceSubscriptions {
  private readonly paths = new Set<string>();
  private started: Promise<void> | null = null;
  private stopped = false;

  constructor(
    private readonly core: Core,
    private readonly principal: Principal,
    private readonly recheck: (() => Promise<void>) | undefined,
    private readonly notify: (path: string) => Promise<void>,
    private readonly onRevoked: () => void,
  ) {}

  get size(): number {
    return this.paths.size;
  }

  async add(path: string): Promise<void> {
    this.started ??= this.start();
    try {
      await this.started;
    } catch (err) {
      // Nothing follows the log yet: the next subscription tries again.
      this.started = null;
      throw err;
    }
    this.paths.add(path);
  }

  remove(path: string): void {
    this.paths.delete(path);
  }

  stop(): void {
    this.stopped = true;
    this.paths.clear();
  }

  /** Takes the log's current end as the starting point, then follows it in the background. */
  private async start(): Promise<void> {
    const ctx = newContext(this.principal, '');
    if (this.recheck) ctx.recheck = this.recheck;
    const { glob, workspaces, cursor } = await this.core.events.startCursor(ctx, { glob: '/**' });
    void this.follow(ctx, glob, workspaces, cursor);
  }

  private async follow(ctx: ReturnType<typeof newContext>, glob: string, workspaces: string[], cursor: EventCursor): Promise<void> {
    while (!this.stopped) {
      try {
        await ctx.recheck?.();
        const events = await this.core.events.page(ctx, glob, workspaces, cursor, 100, WAIT_SECONDS);
        for (const e of events) {
          for (const p of e.from === undefined ? [e.path] : [e.from, e.path]) {
            if (this.paths.has(p)) await this.notify(p).catch(() => undefined);
          }
        }
      } catch (err) {
        if (isBatonError(err) && err.code === 'unauthorized') {
          this.stop();
          this.onRevoked();
          return;
        }
        this.core.log.warn({ err }, 'mcp resource subscriptions: reading the event log failed; retrying');
        await new Promise((r) => setTimeout(r, RETRY_MS));
      }
    }
  }
}
