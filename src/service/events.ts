import { can, canReadUnder } from '../auth/authorize.js';
import { requirePrincipal, type OperationContext } from '../core/context.js';
import { BatonError } from '../core/errors.js';
import { globMatcher, globReachesUnder } from '../core/glob.js';
import { parsePath, workspaceRoot } from '../core/paths.js';
import type { BatonEvent } from '../events/event.js';
import type { EventLog } from '../events/event-log.js';
import type { WorkspaceRegistry } from '../workspaces/registry.js';
import { pageLimit } from './cursor.js';

/** Per-workspace positions in the event logs: `{workspace: lastSeenSeq}`. */
export type EventCursor = Record<string, number>;

export function encodeEventCursor(c: EventCursor): string {
  return Buffer.from(JSON.stringify(c)).toString('base64url');
}

/**
 * The one decoder for event cursors (reads and replays alike). A position must be a safe integer:
 * anything larger (1e308) would reach Redis as a stream id it cannot parse.
 */
export function decodeEventCursor(s: string, param = 'after'): EventCursor {
  try {
    const c = JSON.parse(Buffer.from(s, 'base64url').toString('utf8')) as unknown;
    if (c && typeof c === 'object' && !Array.isArray(c) && Object.values(c).every((v) => Number.isSafeInteger(v) && (v as number) >= 0)) {
      return c as EventCursor;
    }
  } catch {
    // fall through
  }
  throw new BatonError('bad_request', `${param} is not a cursor this API returned: pass back the cursor of an earlier page, or 0 for the oldest event`);
}

export interface EventQuery {
  glob?: string;
  /** A cursor from an earlier page; '0' for the oldest retained event; absent for "from now". */
  after?: string;
  waitSeconds?: number;
  limit?: number;
}

const MAX_WAIT_SECONDS = 300;

/**
 * Interleave per-workspace batches by time while keeping each workspace in `seq` order: times
 * are stamped by whichever replica wrote, so within one workspace only `seq` is the truth, and a
 * cursor that went by time could step backwards and repeat or skip events.
 */
function mergeByTime(batches: BatonEvent[][]): BatonEvent[] {
  const heads = batches.map(() => 0);
  const out: BatonEvent[] = [];
  for (;;) {
    let best = -1;
    for (let i = 0; i < batches.length; i++) {
      const e = batches[i]![heads[i]!];
      if (e && (best < 0 || e.time < batches[best]![heads[best]!]!.time)) best = i;
    }
    if (best < 0) return out;
    out.push(batches[best]![heads[best]!++]!);
  }
}

/** Reading the event logs: filtered to what the key may read, paged, long-polled. */
export class EventService {
  private readonly waiting = new Set<() => void>();
  /** Set at shutdown: waits end at once, so long-polls answer and event streams finish. */
  closed = false;

  constructor(
    private readonly log: EventLog,
    private readonly workspaces: WorkspaceRegistry,
  ) {}

  /** Ends every wait now and every later one at once: a long-poll or stream must not hold shutdown. */
  close(): void {
    this.closed = true;
    for (const wake of this.waiting) wake();
  }

  private scope(ctx: OperationContext, glob: string): string[] {
    const p = ctx.principal!;
    const segs = (ws: string) => [ws];
    return this.workspaces
      .list()
      .map((w) => w.def.name)
      .filter((ws) => globReachesUnder(glob, segs(ws)) && canReadUnder(p, workspaceRoot(ws)));
  }

  /** The starting cursor: explicit, from the oldest ('0'), or from now. */
  async startCursor(ctx: OperationContext, q: EventQuery): Promise<{ glob: string; workspaces: string[]; cursor: EventCursor }> {
    requirePrincipal(ctx);
    ctx.audit.action = 'events.read';
    const glob = q.glob ?? '/**';
    if (!glob.startsWith('/')) throw new BatonError('bad_request', 'path must be a glob starting with /');
    ctx.audit.path = glob;
    const workspaces = this.scope(ctx, glob);
    if (workspaces.length === 0 && glob !== '/**') throw new BatonError('forbidden', `no events under ${glob} are readable with this key`);
    let cursor: EventCursor;
    if (q.after === '0') cursor = Object.fromEntries(workspaces.map((w) => [w, 0]));
    else if (q.after) cursor = decodeEventCursor(q.after);
    else cursor = Object.fromEntries(await Promise.all(workspaces.map(async (w) => [w, await this.log.lastSeq(w)] as const)));
    for (const w of workspaces) cursor[w] ??= 0;
    return { glob, workspaces, cursor };
  }

  /**
   * One page after `cursor` (which it advances): events in time order across workspaces,
   * waiting up to `waitSeconds` for the first one when there is none yet.
   */
  async page(ctx: OperationContext, glob: string, workspaces: string[], cursor: EventCursor, limitIn: number | undefined, waitSeconds = 0): Promise<BatonEvent[]> {
    const limit = pageLimit(limitIn);
    const p = ctx.principal!;
    const match = globMatcher(glob);
    const visible = (e: BatonEvent) => (match(e.path) || (e.from !== undefined && match(e.from))) && can(p, 'read', parsePath(e.path));
    const deadline = Date.now() + Math.min(waitSeconds, MAX_WAIT_SECONDS) * 1000;
    for (;;) {
      const woke = this.nextAppend(workspaces, deadline);
      const out = await this.collect(workspaces, cursor, limit, visible);
      if (out.length > 0 || Date.now() >= deadline || this.closed) {
        woke.cancel();
        return out;
      }
      await woke.promise;
      // A key revoked or expired while this request waited gets nothing more.
      await ctx.recheck?.();
    }
  }

  private async collect(workspaces: string[], cursor: EventCursor, limit: number, visible: (e: BatonEvent) => boolean): Promise<BatonEvent[]> {
    const out: BatonEvent[] = [];
    for (let round = 0; round < 20 && out.length < limit; round++) {
      const batches = await Promise.all(workspaces.map((w) => this.log.read(w, cursor[w] ?? 0, limit)));
      const merged = mergeByTime(batches);
      if (merged.length === 0) break;
      for (const e of merged) {
        if (out.length === limit) return out;
        cursor[e.workspace] = e.seq;
        if (visible(e)) out.push(e);
      }
    }
    return out;
  }

  /** Resolves at the next append to one of the workspaces, or at the deadline. */
  private nextAppend(workspaces: string[], deadline: number): { promise: Promise<void>; cancel(): void } {
    let off = () => {};
    let timer: NodeJS.Timeout | undefined;
    let wake = () => {};
    const promise = new Promise<void>((resolve) => {
      wake = resolve;
      this.waiting.add(wake);
      const wanted = new Set(workspaces);
      off = this.log.onAppend((ws) => {
        if (wanted.has(ws)) resolve();
      });
      timer = setTimeout(resolve, Math.max(0, deadline - Date.now()));
    }).finally(() => {
      off();
      clearTimeout(timer);
      this.waiting.delete(wake);
    });
    return {
      promise,
      cancel: () => {
        off();
        clearTimeout(timer);
        this.waiting.delete(wake);
      },
    };
  }

  async read(ctx: OperationContext, q: EventQuery): Promise<{ events: BatonEvent[]; cursor: string }> {
    const { glob, workspaces, cursor } = await this.startCursor(ctx, q);
    const events = await this.page(ctx, glob, workspaces, cursor, q.limit, q.waitSeconds ?? 0);
    return { events, cursor: encodeEventCursor(cursor) };
  }
}
