import { Queue, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { BatonEvent } from '../events/event.js';
import type { EventLog } from '../events/event-log.js';
import type { DeliveryQueueStats } from '../observability/operator-metrics.js';
import { subscriptionMatches, type Subscription, type SubscriptionStore } from './subscriptions.js';

export const DELIVERY_QUEUE = 'baton-deliveries';
export const BULL_PREFIX = 'baton:bull';

export interface DeliveryJob {
  subId: string;
  event: BatonEvent;
  /** Set on a job queued by resume: the `pausedAt` of the pause it was held by (see SubscriptionStore). */
  releasedFrom?: string;
}

/** One job per (event, subscription); the id makes a second enqueue of the same pair a no-op. */
export function deliveryJobId(subId: string, eventId: string, replay?: string): string {
  return replay ? `${subId}__${eventId}__${replay}` : `${subId}__${eventId}`;
}

const CATCH_UP_MS = 1000;
/** The seq up to which catch-up has queued the deliveries of a workspace's events. */
const dispatchedKey = (ws: string) => `baton:ev:${ws}:dispatched`;
/** How many queued jobs `queuedFor` looks through. */
const QUEUED_SCAN = 10_000;
/** Bound on event ids remembered as fanned out (beyond it, catch-up merely re-adds some jobs). */
const FANNED_OUT_MAX = 100_000;

/**
 * Turns events into delivery jobs. The write path calls `fanout` right after an event is
 * recorded (the fast path); a catch-up loop walks each workspace's log from a stored cursor and
 * fans out again, so an event recorded just before a crash still gets its jobs. Deterministic
 * job ids make the overlap harmless.
 */
export class Dispatcher {
  readonly queue: Queue<DeliveryJob>;
  private timer: NodeJS.Timeout | null = null;
  private catchingUp: Promise<void> | null = null;
  private readonly connection: Redis;
  /**
   * Events this process has already turned into jobs on the fast path: catch-up skips them
   * rather than adding every job a second time (a no-op for BullMQ, but a script run each).
   */
  private readonly fannedOut = new Set<string>();

  constructor(
    redisUrl: string,
    private readonly redis: Redis,
    private readonly events: EventLog,
    private readonly subs: SubscriptionStore,
    private readonly attempts: number,
    private readonly workspaces: () => string[],
    private readonly log: Logger,
  ) {
    this.connection = new Redis(redisUrl, { maxRetriesPerRequest: null });
    this.connection.on('error', () => undefined);
    this.queue = new Queue<DeliveryJob>(DELIVERY_QUEUE, { connection: this.connection, prefix: BULL_PREFIX });
  }

  start(): void {
    const tick = () => {
      this.catchingUp ??= this.catchUp()
        .catch((err) => this.log.warn({ err: String(err) }, 'delivery catch-up failed'))
        .finally(() => (this.catchingUp = null));
    };
    tick();
    this.timer = setInterval(tick, CATCH_UP_MS);
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.catchingUp;
    await this.queue.close();
    await this.connection.quit().catch(() => undefined);
  }

  async fanout(event: BatonEvent, only?: Subscription[]): Promise<number> {
    const jobs = this.jobsFor(event, only ?? (await this.subs.all()));
    if (jobs.length > 0) await this.queue.addBulk(jobs);
    if (!only) this.markFannedOut([event]);
    return jobs.length;
  }

  /** `fanout` of many events to every subscription, in one addBulk. */
  async fanoutEvents(events: readonly BatonEvent[]): Promise<number> {
    const subs = await this.subs.all();
    const jobs = events.flatMap((event) => this.jobsFor(event, subs));
    if (jobs.length > 0) await this.queue.addBulk(jobs);
    this.markFannedOut(events);
    return jobs.length;
  }

  private markFannedOut(events: readonly BatonEvent[]): void {
    if (this.fannedOut.size + events.length > FANNED_OUT_MAX) this.fannedOut.clear();
    for (const e of events) this.fannedOut.add(e.id);
  }

  /**
   * How far the catch-up cursor of `ws` trails its log: events past it, and the age of the
   * oldest of them. The fast path usually queued their deliveries already; this is the bound
   * on what a crash right now could leave to catch-up.
   */
  async dispatchLag(ws: string): Promise<{ events: number; oldestSeconds: number }> {
    const [stored, last] = await Promise.all([this.redis.get(dispatchedKey(ws)), this.events.lastSeq(ws)]);
    const cursor = Number(stored ?? 0);
    if (last <= cursor) return { events: 0, oldestSeconds: 0 };
    const [oldest] = await this.events.read(ws, cursor, 1);
    return { events: last - cursor, oldestSeconds: oldest ? Math.max(0, (Date.now() - Date.parse(oldest.time)) / 1000) : 0 };
  }

  /** The delivery queue by state, across every replica, and how long its oldest waiting job has waited. */
  async queueStats(): Promise<DeliveryQueueStats> {
    const c = await this.queue.getJobCounts('waiting', 'prioritized', 'delayed', 'active', 'failed');
    const [oldest] = c.waiting ? await this.queue.getJobs(['waiting'], 0, 0, true) : [];
    return {
      waiting: c.waiting ?? 0,
      prioritized: c.prioritized ?? 0,
      delayed: c.delayed ?? 0,
      active: c.active ?? 0,
      dead: c.failed ?? 0,
      oldestWaitingSeconds: oldest ? Math.max(0, (Date.now() - oldest.timestamp) / 1000) : 0,
    };
  }

  /**
   * Deliveries of one subscription still in the queue: waiting, being attempted, or waiting for
   * a retry. Looks through at most QUEUED_SCAN queued jobs of all subscriptions.
   */
  async queuedFor(subId: string): Promise<Array<{ eventId: string; attempt: number; queuedAt: string }>> {
    const jobs = (await this.queue.getJobs(['active', 'waiting', 'prioritized', 'delayed'], 0, QUEUED_SCAN - 1, true)) as Array<Job<DeliveryJob> | undefined>;
    return jobs
      .filter((j): j is Job<DeliveryJob> => j?.data?.subId === subId)
      .map((j) => ({ eventId: j.data.event.id, attempt: j.attemptsMade + 1, queuedAt: new Date(j.timestamp).toISOString() }));
  }

  /**
   * Queue `events` again for one subscription, under a fresh job id per replay (`stamp`), except
   * those whose delivery is still queued, being attempted or waiting for a retry: that delivery
   * will happen anyway, and a second job would hand the receiver the event twice.
   */
  async enqueueReplay(sub: Subscription, events: BatonEvent[], stamp: string): Promise<{ queued: BatonEvent[]; alreadyQueued: string[] }> {
    const pending = new Set((await this.queuedFor(sub.id)).map((q) => q.eventId));
    const queued = events.filter((e) => !pending.has(e.id));
    const alreadyQueued = events.filter((e) => pending.has(e.id)).map((e) => e.id);
    if (queued.length > 0) {
      await this.queue.addBulk(queued.map((event) => ({ name: event.event, data: { subId: sub.id, event }, opts: this.jobOptions(deliveryJobId(sub.id, event.id, stamp)) })));
    }
    return { queued, alreadyQueued };
  }

  jobOptions(jobId: string) {
    return {
      jobId,
      attempts: this.attempts,
      backoff: { type: 'baton' },
      // Completed jobs stay a day so a late duplicate enqueue still collapses onto them;
      // failed ones stay as the dead-letter list until replayed or trimmed.
      removeOnComplete: { age: 24 * 3600, count: 200_000 },
      removeOnFail: { age: 30 * 24 * 3600, count: 100_000 },
    };
  }

  private jobsFor(event: BatonEvent, subs: Subscription[]) {
    return (
      subs
        // A subscription hears of changes made after it was created; older ones only by replay.
        .filter((s) => subscriptionMatches(s, event) && event.time >= s.createdAt)
        .map((s) => ({ name: event.event, data: { subId: s.id, event }, opts: this.jobOptions(deliveryJobId(s.id, event.id)) }))
    );
  }

  private async fanoutMany(events: BatonEvent[], subs: Subscription[]): Promise<void> {
    const jobs = events.flatMap((event) => this.jobsFor(event, subs));
    if (jobs.length > 0) await this.queue.addBulk(jobs);
  }

  private async catchUp(): Promise<void> {
    for (const ws of this.workspaces()) {
      const key = dispatchedKey(ws);
      let cursor = Number((await this.redis.get(key)) ?? 0);
      const last = await this.events.lastSeq(ws);
      if (cursor >= last) continue;
      const subs = await this.subs.all();
      while (cursor < last) {
        const batch = await this.events.read(ws, cursor, 500);
        if (batch.length === 0) break;
        const missed = batch.filter((e) => !this.fannedOut.delete(e.id));
        // One addBulk for the whole batch rather than one per event.
        await this.fanoutMany(missed, subs);
        cursor = batch.at(-1)!.seq;
        await this.redis.set(key, String(cursor));
      }
    }
  }
}
