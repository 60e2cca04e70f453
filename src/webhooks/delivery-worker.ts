import { UnrecoverableError, Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { isBatonError } from '../core/errors.js';
import type { Metrics } from '../observability/metrics.js';
import type { AttemptLog } from './attempts.js';
import { BULL_PREFIX, DELIVERY_QUEUE, type DeliveryJob } from './dispatcher.js';
import { WebhookPoster } from './post.js';
import { signHeaders } from './signature.js';
import type { SubscriptionStore } from './subscriptions.js';
import { describeFetchError } from './fetch-error.js';
import type { UrlPolicy } from './url-policy.js';

class AttemptFailed extends Error {
  constructor(
    message: string,
    readonly retryAfterMs: number | null,
  ) {
    super(message);
  }
}

/** `Retry-After` as seconds or an HTTP date; null when absent or unreadable. */
function retryAfterMs(header: string | null): number | null {
  if (!header) return null;
  if (/^\d+$/.test(header.trim())) return Number(header.trim()) * 1000;
  const t = Date.parse(header);
  return Number.isNaN(t) ? null : Math.max(0, t - Date.now());
}

export interface WorkerOptions {
  redisUrl: string;
  retrySchedule: number[];
  timeoutMs: number;
  /** Deliveries attempted at once by this process, split evenly across the fetch loops. */
  concurrency: number;
  /** BullMQ workers (fetch loops) in this process; see `DeliveryWorker`. */
  fetchers: number;
}

/**
 * Several BullMQ workers share the process's delivery slots because one worker takes jobs from
 * Redis one round trip at a time: while the event loop is busy (a cold process, a burst of
 * writes) that single fetch loop falls behind the writes and deliveries wait with slots free.
 * Each job a worker takes re-arms the queue's marker, which wakes the next idle worker, so the
 * fetches overlap. Each worker blocks on its own connection; commands share one.
 *
 * Delivers one job: a signed POST of the event to the subscription's URL. 2xx ends it; 410
 * disables the subscription; anything else is retried on the schedule (or after Retry-After)
 * until the last attempt, when the job stays failed: the dead-letter list, replayable.
 */
export class DeliveryWorker {
  private readonly workers: Array<Worker<DeliveryJob>>;
  private readonly connection: Redis;
  private readonly poster = new WebhookPoster();

  constructor(
    private readonly opts: WorkerOptions,
    private readonly subs: SubscriptionStore,
    private readonly attempts: AttemptLog,
    private readonly policy: UrlPolicy,
    private readonly metrics: Metrics,
    private readonly log: Logger,
  ) {
    this.connection = new Redis(opts.redisUrl, { maxRetriesPerRequest: null });
    this.connection.on('error', () => undefined);
    const fetchers = Math.max(1, Math.min(opts.fetchers, opts.concurrency));
    this.workers = Array.from({ length: fetchers }, () => {
      const worker = new Worker<DeliveryJob>(DELIVERY_QUEUE, (job) => this.deliver(job), {
        connection: this.connection,
        prefix: BULL_PREFIX,
        concurrency: Math.ceil(opts.concurrency / fetchers),
        autorun: false,
        // A worker killed mid-delivery leaves its job locked: take it back soon after the lock
        // (longer than the POST timeout) lapses, and never give up on a job for having stalled.
        lockDuration: Math.max(20_000, opts.timeoutMs + 5_000),
        stalledInterval: 5_000,
        maxStalledCount: 1_000_000,
        settings: {
          backoffStrategy: (attemptsMade: number, _type?: string, err?: Error) => this.delayAfter(attemptsMade, err),
        },
      });
      worker.on('failed', (job, err) => void this.onFailed(job, err));
      worker.on('error', (err) => this.log.warn({ err: err.message }, 'delivery worker error'));
      return worker;
    });
  }

  start(): void {
    for (const w of this.workers) void w.run();
  }

  async stop(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.close()));
    this.poster.close();
    await this.connection.quit().catch(() => undefined);
  }

  /** The wait after the `attemptsMade`-th failed attempt: Retry-After if given, else the schedule. */
  private delayAfter(attemptsMade: number, err?: Error): number {
    if (err instanceof AttemptFailed && err.retryAfterMs !== null) return err.retryAfterMs;
    const schedule = this.opts.retrySchedule;
    return (schedule[Math.min(attemptsMade, schedule.length) - 1] ?? 0) * 1000;
  }

  private async deliver(job: Job<DeliveryJob>): Promise<void> {
    const { subId, event } = job.data;
    const sub = await this.subs.get(subId);
    if (!sub || !sub.enabled) return;
    // Asked of Redis on every job, not of the cached record: a pause acknowledged on another
    // replica must hold the very next delivery. A held event waits in the backlog for resume.
    if (await this.subs.hold(subId, event, job.data.releasedFrom)) return;
    const attempt = job.attemptsMade + 1;
    if (attempt > 1) this.metrics.retries.inc();
    try {
      await this.policy.check(sub.url);
    } catch (err) {
      this.metrics.deliveries.inc({ outcome: 'denied' });
      const message = isBatonError(err) ? err.message : String(err);
      await this.attempts.add(subId, { eventId: event.id, attempt, status: 'dead', responseStatus: null, at: new Date().toISOString(), nextAttemptAt: null, error: message });
      throw new UnrecoverableError(message);
    }
    const body = JSON.stringify(event);
    let status: number | null = null;
    let retryAfter: number | null = null;
    let error: string | undefined;
    try {
      const res = await this.poster.post(sub.url, { 'content-type': 'application/json', 'user-agent': 'Baton-Webhooks/1', ...signHeaders(sub.secret, event.id, body) }, body, this.opts.timeoutMs);
      status = res.status;
      retryAfter = retryAfterMs(res.retryAfter);
    } catch (err) {
      error = describeFetchError(err, this.opts.timeoutMs);
    }
    const at = new Date().toISOString();
    if (status !== null && status >= 200 && status < 300) {
      this.metrics.deliveries.inc({ outcome: 'delivered' });
      if (attempt === 1) this.metrics.deliveryLatency.observe((Date.now() - Date.parse(event.time)) / 1000);
      await this.attempts.add(subId, { eventId: event.id, attempt, status: 'delivered', responseStatus: status, at, nextAttemptAt: null });
      return;
    }
    if (status === 410) {
      this.metrics.deliveries.inc({ outcome: 'disabled' });
      await this.subs.disable(subId, `receiver answered 410 Gone at ${at}`);
      await this.attempts.add(subId, { eventId: event.id, attempt, status: 'failed', responseStatus: 410, at, nextAttemptAt: null, error: 'subscription disabled (410 Gone)' });
      return;
    }
    throw new AttemptFailed(error ?? `receiver answered ${status}`, retryAfter);
  }

  /** Record a failed attempt: retried later, or dead when it was the last. */
  private async onFailed(job: Job<DeliveryJob> | undefined, err: Error): Promise<void> {
    if (!job || err instanceof UnrecoverableError) return;
    const last = job.attemptsMade >= (job.opts.attempts ?? 1);
    const status = /receiver answered (\d+)/.exec(err.message);
    const nextAttemptAt = last ? null : new Date(Date.now() + this.delayAfter(job.attemptsMade, err)).toISOString();
    this.metrics.deliveries.inc({ outcome: last ? 'dead' : 'failed' });
    if (last) this.metrics.deadLetters.inc();
    await this.attempts
      .add(job.data.subId, {
        eventId: job.data.event.id,
        attempt: job.attemptsMade,
        status: last ? 'dead' : 'failed',
        responseStatus: status ? Number(status[1]) : null,
        at: new Date().toISOString(),
        nextAttemptAt,
        error: err.message,
      })
      .catch((e) => this.log.warn({ err: String(e) }, 'could not record a delivery attempt'));
  }
}
