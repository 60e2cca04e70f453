import type { z } from 'zod';
import type { Principal } from '../auth/principal.js';
import { requirePrincipal, type OperationContext } from '../core/context.js';
import { BatonError } from '../core/errors.js';
import { globBase, globReachesUnder } from '../core/glob.js';
import { type BatonEvent, type EventType } from '../events/event.js';
import type { EventLog } from '../events/event-log.js';
import type { WorkspaceRegistry } from '../workspaces/registry.js';
import type { Attempt, AttemptLog } from '../webhooks/attempts.js';
import { NewSubscriptionBody, ReplayBody } from '../api/schemas.js';
import { deliveryJobId, type Dispatcher } from '../webhooks/dispatcher.js';
import { publicView, subscriptionMatches, type Subscription, type SubscriptionStore } from '../webhooks/subscriptions.js';
import { UrlPolicy } from '../webhooks/url-policy.js';
import { decodeEventCursor, type EventCursor } from './events.js';

export const newSubscriptionSchema = NewSubscriptionBody;

export const replaySchema = ReplayBody;

/** Held events queued per round of a resume. */
const RESUME_BATCH = 500;
/** Held events shown among the deliveries. */
const HELD_LISTED = 1000;

/** A subscribe grant covers a subscription glob when the glob stays inside the grant's folder. */
function covers(grantGlob: string, glob: string): boolean {
  if (grantGlob === glob) return true;
  if (!grantGlob.endsWith('/**')) return false;
  const base = grantGlob.slice(0, -3);
  return glob === base || glob.startsWith(`${base}/`);
}

function ownerOf(p: Principal): string {
  return p.kind === 'admin' ? 'admin' : p.id;
}

/** Creating, listing and replaying webhook subscriptions, authorized per caller. */
export class SubscriptionService {
  constructor(
    private readonly store: SubscriptionStore,
    private readonly attempts: AttemptLog,
    private readonly events: EventLog,
    private readonly dispatcher: Dispatcher,
    private readonly policy: UrlPolicy,
    private readonly workspaces: WorkspaceRegistry,
  ) {}

  private principal(ctx: OperationContext, action: string, path: string | null = null): Principal {
    ctx.audit.action = action;
    ctx.audit.path = path;
    return requirePrincipal(ctx);
  }

  private async owned(p: Principal, id: string): Promise<Subscription> {
    const sub = await this.store.get(id);
    if (!sub || (p.kind !== 'admin' && sub.owner !== ownerOf(p))) throw new BatonError('not_found', `no subscription ${id}`);
    return sub;
  }

  async create(ctx: OperationContext, input: z.infer<typeof newSubscriptionSchema>) {
    const p = this.principal(ctx, 'subscription.create', input.paths.join(','));
    for (const glob of input.paths) {
      if (p.kind !== 'admin' && !p.grants.some((g) => g.action === 'subscribe' && covers(g.glob, glob))) {
        throw new BatonError('forbidden', `subscribe on ${glob} is not granted to this key`);
      }
    }
    UrlPolicy.parse(input.url);
    await this.policy.check(input.url).catch((err) => {
      if (err instanceof BatonError) throw err;
      // An unresolvable name may resolve later; delivery checks again on every attempt.
    });
    const sub = await this.store.create({ url: input.url, paths: input.paths, events: input.events as EventType[] | undefined, owner: ownerOf(p) });
    return { ...publicView(sub), secret: sub.secret };
  }

  async list(ctx: OperationContext) {
    const p = this.principal(ctx, 'subscription.list');
    const all = await this.store.all();
    const mine = all.filter((s) => p.kind === 'admin' || s.owner === ownerOf(p));
    return Promise.all(mine.map(async (s) => ({ ...publicView(s), backlog: s.paused ? await this.store.backlogSize(s.id) : 0 })));
  }

  async get(ctx: OperationContext, id: string) {
    const p = this.principal(ctx, 'subscription.read', `sub:${id}`);
    return { ...publicView(await this.owned(p, id)), backlog: await this.store.backlogSize(id) };
  }

  async remove(ctx: OperationContext, id: string) {
    const p = this.principal(ctx, 'subscription.delete', `sub:${id}`);
    const sub = await this.owned(p, id);
    if (sub.owner.startsWith('yaml:')) throw new BatonError('conflict', 'this subscription is declared in workspace YAML; remove it there');
    await this.store.remove(id);
    await this.attempts.remove(id);
    return { id, deleted: true };
  }

  /** Hold deliveries: events keep arriving into the backlog and nothing is sent until resume. */
  async pause(ctx: OperationContext, id: string) {
    const p = this.principal(ctx, 'subscription.pause', `sub:${id}`);
    await this.owned(p, id);
    const sub = await this.store.pause(id);
    return { ...publicView(sub), backlog: await this.store.backlogSize(id) };
  }

  /** Queue the backlog, oldest first, ahead of anything newer; then deliveries go on live. */
  async resume(ctx: OperationContext, id: string) {
    const p = this.principal(ctx, 'subscription.resume', `sub:${id}`);
    let sub = await this.owned(p, id);
    let released = 0;
    while (sub.paused) {
      const pausedAt = sub.pausedAt ?? '';
      // One job id per held event and pause: a resume cut short and run again queues nothing twice.
      const stamp = `p${Date.parse(pausedAt).toString(36)}`;
      const held = await this.store.backlog(id, RESUME_BATCH);
      if (held.events.length > 0) {
        await this.dispatcher.queue.addBulk(
          held.events.map((event) => ({ name: event.event, data: { subId: id, event, releasedFrom: pausedAt }, opts: this.dispatcher.jobOptions(deliveryJobId(id, event.id, stamp)) })),
        );
      }
      released += held.events.length;
      const left = await this.store.release(sub, held.ids);
      if (left === 0) break;
      if (left === -1) sub = await this.owned(p, id);
    }
    return { ...publicView({ ...sub, paused: false, pausedAt: null }), backlog: 0, released };
  }

  async deliveries(ctx: OperationContext, id: string, status?: string) {
    const p = this.principal(ctx, 'subscription.deliveries', `sub:${id}`);
    await this.owned(p, id);
    const [done, queued, { events: held }] = await Promise.all([this.attempts.list(id), this.dispatcher.queuedFor(id), this.store.backlog(id, HELD_LISTED)]);
    // Still queued: listed first, as the attempt each will be; one waiting for a retry says when.
    const pending: Attempt[] = queued.map((q) => ({
      eventId: q.eventId,
      attempt: q.attempt,
      status: 'pending',
      responseStatus: null,
      at: q.queuedAt,
      nextAttemptAt: done.find((a) => a.eventId === q.eventId && a.status === 'failed')?.nextAttemptAt ?? null,
    }));
    // Held by a pause: pending too, with no attempt planned until the subscription is resumed.
    const waiting: Attempt[] = held.map((e) => ({ eventId: e.id, attempt: 1, status: 'pending', responseStatus: null, at: e.time, nextAttemptAt: null, error: 'held: the subscription is paused' }));
    const all = [...pending, ...waiting, ...done];
    return status ? all.filter((a) => a.status === status) : all;
  }

  /** Deliver again: named events, or everything matching since a cursor; dead letters included. */
  async replay(ctx: OperationContext, id: string, input: z.infer<typeof replaySchema>) {
    const p = this.principal(ctx, 'subscription.replay', `sub:${id}`);
    const sub = await this.owned(p, id);
    if (!input.eventIds && input.since === undefined) throw new BatonError('bad_request', 'replay needs eventIds or since');
    const workspaces = this.workspaces
      .list()
      .map((w) => w.def.name)
      .filter((ws) => sub.paths.some((g) => globReachesUnder(g, [ws]) || globBase(g) === '/'));
    const picked: BatonEvent[] = [];
    const live = { ...sub, enabled: true };
    if (input.eventIds) {
      for (const eid of input.eventIds) {
        for (const ws of workspaces) {
          const e = await this.events.byId(ws, eid);
          if (e && subscriptionMatches(live, e)) picked.push(e);
        }
      }
    } else {
      let start: EventCursor = {};
      if (input.since && input.since !== '0') start = decodeEventCursor(input.since, 'since');
      for (const ws of workspaces) {
        let after = Number(start[ws] ?? 0);
        for (;;) {
          const batch = await this.events.read(ws, after, 500);
          if (batch.length === 0) break;
          picked.push(...batch.filter((e) => subscriptionMatches(live, e)));
          after = batch.at(-1)!.seq;
        }
      }
    }
    // Replaying is the operator saying the receiver is back: a 410-disabled subscription resumes.
    await this.store.enable(sub.id);
    const stamp = `r${Date.now().toString(36)}`;
    const { queued, alreadyQueued } = await this.dispatcher.enqueueReplay(sub, picked, stamp);
    return { replayed: queued.length, eventIds: queued.map((e) => e.id), alreadyQueued };
  }
}
