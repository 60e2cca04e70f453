import { Readable } from 'node:stream';
import { ClaimBody, CompleteBody, FailBody, HeartbeatBody } from '../api/schemas.js';
import type { z } from 'zod';
import { can } from '../auth/authorize.js';
import type { Principal } from '../auth/principal.js';
import { requirePrincipal, type OperationContext } from '../core/context.js';
import { BatonError } from '../core/errors.js';
import { parsePath, type BatonPath } from '../core/paths.js';
import type { Recorder } from '../core/recorder.js';
import { newEvent, type BatonEvent, type EventType, type NewEvent } from '../events/event.js';
import type { Metrics } from '../observability/metrics.js';
import { BufferedBody } from '../storage/buffered-body.js';
import type { EntryMeta } from '../storage/driver.js';
import { inQueue, notAQueue, requireTicket, ticketPathOf, type TicketPath } from '../tickets/queue-path.js';
import type { TicketStore } from '../tickets/ticket-store.js';
import type { WorkspaceRegistry } from '../workspaces/registry.js';
import type { FileService } from './files.js';

export const claimSchema = ClaimBody;
export const heartbeatSchema = HeartbeatBody;
export const completeSchema = CompleteBody;
export const failSchema = FailBody;

export interface TicketSettings {
  leaseSeconds: number;
  maxAttempts: number;
}

/** How many stale candidates (files gone from pending/) one claim may skip before giving up. */
const MAX_SKIPS = 50;
const REAP_MS = 1000;

/**
 * The supervisor pattern made safe. Claiming is decided in Redis (one atomic pop per ticket,
 * with a fencing token that only grows) and carried out as a move on storage, which is the
 * second arbiter: on any driver, across any number of processes, a ticket has one claimant.
 * Lease, token and attempt count live in Redis, never in the ticket file.
 */
export class TicketService {
  private timer: NodeJS.Timeout | null = null;
  private reaping: Promise<void> | null = null;

  constructor(
    private readonly store: TicketStore,
    private readonly files: FileService,
    private readonly workspaces: WorkspaceRegistry,
    private readonly recorder: Recorder,
    private readonly settings: TicketSettings,
    private readonly log: { warn(obj: object, msg: string): void },
    private readonly metrics: Pick<Metrics, 'leaseExpiries'>,
  ) {
    recorder.onEvent((e) => this.track(e));
  }

  /** Keep each queue's pending set in step with what lands in or leaves a `pending/` folder. */
  private async track(e: BatonEvent): Promise<void> {
    if (!e.event.startsWith('file.')) return;
    const from = e.from ? ticketPathOf(parsePath(e.from)) : null;
    if (from?.folder === 'pending') await this.store.removePending(from.queue.full, from.name);
    const at = ticketPathOf(parsePath(e.path));
    if (at?.folder !== 'pending') return;
    if (e.event === 'file.deleted') await this.store.removePending(at.queue.full, at.name);
    else await this.store.addPending(at.queue.full, at.name, Date.parse(e.time));
  }

  start(): void {
    const tick = () => {
      this.reaping ??= this.reap()
        .catch((err) => this.log.warn({ err: String(err) }, 'lease reaper failed'))
        .finally(() => (this.reaping = null));
    };
    this.timer = setInterval(tick, REAP_MS);
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.reaping;
  }

  private principal(ctx: OperationContext, action: string, path: string): Principal {
    ctx.audit.action = action;
    ctx.audit.path = path;
    return requirePrincipal(ctx);
  }

  private authorizeClaim(p: Principal, path: BatonPath): void {
    if (!can(p, 'claim', path)) throw new BatonError('forbidden', `claim on ${path.full} is not granted to this key`);
  }

  /** A queue seen for the first time (or emptied in Redis) is filled from its pending/ folder. */
  private async seed(queue: BatonPath): Promise<void> {
    if ((await this.store.pendingCount(queue.full)) > 0) return;
    const driver = this.workspaces.resolve(queue).driver;
    const pending = inQueue(queue, 'pending');
    if (!(await driver.stat(pending))) throw notAQueue(queue);
    for await (const batch of driver.walk(pending, { after: null, recursive: false })) {
      for (const e of batch) {
        if (e.type !== 'file') continue;
        const st = await driver.stat(e.path);
        if (st) await this.store.addPending(queue.full, e.path.segments.at(-1)!, Date.parse(st.modifiedAt));
      }
    }
  }

  /** The ticket event about a file's new place, built from the entry the move reports. */
  private ticketEventOf(ctx: OperationContext, type: EventType, extra: Record<string, unknown>): (entry: EntryMeta) => NewEvent {
    return (entry) => newEvent(type, this.workspaces.resolve(parsePath(entry.path)).def, entry, ctx.actor, { ...(ctx.causation ? { causation: ctx.causation } : {}), ...extra });
  }

  async claim(ctx: OperationContext, input: z.infer<typeof claimSchema>) {
    const queue = parsePath(input.queue);
    const p = this.principal(ctx, 'ticket.claim', queue.full);
    this.authorizeClaim(p, inQueue(queue, 'pending', 'x'));
    const leaseMs = (input.leaseSeconds ?? this.settings.leaseSeconds) * 1000;
    let seeded = false;
    for (let skips = 0; skips < MAX_SKIPS; skips++) {
      let won = await this.store.claim(queue.full, leaseMs, ctx.actor);
      // Nothing pending in Redis: a queue seen for the first time (or emptied there) is filled
      // from its pending/ folder, once per claim, and asked again. The common case is one script.
      if (!won && !seeded) {
        seeded = true;
        await this.seed(queue);
        won = await this.store.claim(queue.full, leaseMs, ctx.actor);
      }
      if (!won) return null;
      const from = inQueue(queue, 'pending', won.name);
      const to = inQueue(queue, 'in-progress', won.name);
      this.authorizeClaim(p, from);
      const leaseExpiresAt = new Date(won.leaseExpiresAt).toISOString();
      const claimed = this.ticketEventOf(ctx, 'ticket.claimed', { ticket: { fencingToken: won.token, attempt: won.attempt, leaseExpiresAt } });
      try {
        // The move's event and ticket.claimed are appended together: a crash cannot leave one.
        await this.files.commitMove(ctx, from, to, false, {}, claimed);
      } catch (err) {
        // Moved or removed by someone else since it was queued: not ours; try the next one.
        if (err instanceof BatonError && (err.code === 'not_found' || err.code === 'conflict')) {
          await this.store.forget(queue.full, won.name, won.token);
          continue;
        }
        await this.store.forget(queue.full, won.name, won.token);
        throw err;
      }
      const { entry, body } = await this.workspaces.resolve(to).driver.read(to);
      const content = await textOf(body);
      ctx.audit.path = to.full;
      ctx.audit.etag = entry.etag;
      return { path: to.full, content, fencingToken: won.token, leaseExpiresAt, attempt: won.attempt };
    }
    return null;
  }

  private async fence(ctx: OperationContext, t: TicketPath, token: number, transition: 'extend' | 'done' | 'failed' | 'pending', newExpiry = 0): Promise<void> {
    const r = await this.store.fenced(t.queue.full, t.name, token, transition, newExpiry);
    if (!r.ok) {
      const why = r.current.state !== 'in-progress' ? `the ticket is ${r.current.state || 'not claimed'}` : Number(r.current.leaseExpiresAt) <= Date.now() ? 'its lease has expired' : `the current token is ${r.current.token}`;
      throw new BatonError('conflict', `fencing token ${token} is stale for ${inQueue(t.queue, 'in-progress', t.name).full}: ${why}`);
    }
  }

  async heartbeat(ctx: OperationContext, input: z.infer<typeof heartbeatSchema>) {
    this.principal(ctx, 'ticket.heartbeat', input.path);
    const t = requireTicket(input.path, 'in-progress');
    this.authorizeClaim(ctx.principal!, parsePath(input.path));
    const expiry = Date.now() + (input.leaseSeconds ?? this.settings.leaseSeconds) * 1000;
    await this.fence(ctx, t, input.fencingToken, 'extend', expiry);
    return { path: input.path, fencingToken: input.fencingToken, leaseExpiresAt: new Date(expiry).toISOString() };
  }

  async complete(ctx: OperationContext, input: z.infer<typeof completeSchema>) {
    this.principal(ctx, 'ticket.complete', input.path);
    const t = requireTicket(input.path, 'in-progress');
    this.authorizeClaim(ctx.principal!, parsePath(input.path));
    await this.files.guardChange(ctx, parsePath(input.path));
    await this.fence(ctx, t, input.fencingToken, 'done');
    const to = inQueue(t.queue, 'done', t.name);
    const completed = (result: string | null) => this.ticketEventOf(ctx, 'ticket.completed', { ticket: { fencingToken: input.fencingToken, result } });
    if (input.result === undefined) {
      await this.files.commitMove(ctx, parsePath(input.path), to, true, {}, completed(null));
      return { path: to.full, fencingToken: input.fencingToken, result: null };
    }
    // With a result, ticket.completed names the result file, so it follows that file's write.
    const { to: entry } = await this.files.commitMove(ctx, parsePath(input.path), to, true);
    const text = typeof input.result === 'string' ? input.result : JSON.stringify(input.result, null, 2);
    const rp = inQueue(t.queue, 'done', `${t.name}.result`);
    await this.files.commitWrite(ctx, rp, Readable.from([Buffer.from(text)]), { mimeType: typeof input.result === 'string' ? 'text/plain' : 'application/json' });
    await this.recorder.emit(completed(rp.full)(entry), { index: 'none' });
    return { path: to.full, fencingToken: input.fencingToken, result: rp.full };
  }

  async fail(ctx: OperationContext, input: z.infer<typeof failSchema>) {
    this.principal(ctx, 'ticket.fail', input.path);
    const t = requireTicket(input.path, 'in-progress');
    this.authorizeClaim(ctx.principal!, parsePath(input.path));
    await this.files.guardChange(ctx, parsePath(input.path));
    const state = await this.store.get(t.queue.full, t.name);
    const retry = input.retry === true && (state?.attempt ?? 0) < this.settings.maxAttempts;
    await this.fence(ctx, t, input.fencingToken, retry ? 'pending' : 'failed');
    const to = inQueue(t.queue, retry ? 'pending' : 'failed', t.name);
    const failed = this.ticketEventOf(ctx, 'ticket.failed', { ticket: { fencingToken: input.fencingToken, retry, reason: input.reason ?? null } });
    const writesReason = !retry && !!input.reason;
    // A reason file is written after the move, and ticket.failed follows it.
    const { to: entry } = await this.files.commitMove(ctx, parsePath(input.path), to, true, {}, writesReason ? undefined : failed);
    if (writesReason) {
      await this.files.commitWrite(ctx, inQueue(t.queue, 'failed', `${t.name}.reason`), Readable.from([Buffer.from(input.reason!)]), { mimeType: 'text/plain' });
      await this.recorder.emit(failed(entry), { index: 'none' });
    }
    return { path: to.full, retried: retry, attempt: state?.attempt ?? null };
  }

  /** Expired leases go back to pending/ (or to failed/ after the last attempt), once each. */
  private async reap(): Promise<void> {
    for (const q of await this.store.queues()) {
      const queue = parsePath(q);
      if (!this.workspaces.get(queue.workspace)) continue;
      for (const { name, attempt, holder } of await this.store.reap(q)) {
        // The lease that lapsed was this agent's: the expiry (and the move back) is told as its.
        const ctx = { principal: null, actor: holder, audit: { action: 'ticket.expire', path: null, etag: null } } satisfies OperationContext;
        const giveUp = attempt >= this.settings.maxAttempts;
        this.metrics.leaseExpiries.inc({ next: giveUp ? 'failed' : 'pending' });
        try {
          const expired = this.ticketEventOf(ctx, 'ticket.expired', { ticket: { attempt, next: giveUp ? 'failed' : 'pending' } });
          await this.files.commitMove(ctx, inQueue(queue, 'in-progress', name), inQueue(queue, giveUp ? 'failed' : 'pending', name), true, {}, expired);
        } catch (err) {
          this.log.warn({ queue: q, name, err: String(err) }, 'could not return an expired ticket');
        }
      }
    }
  }
}

async function textOf(body: Readable): Promise<string> {
  if (body instanceof BufferedBody) return body.bytes.toString('utf8');
  const chunks: Buffer[] = [];
  for await (const c of body) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
