import { Gauge } from 'prom-client';
import type { Logger } from 'pino';
import { readBacklogs } from './backlog-sources.js';
import type { Metrics } from './metrics.js';

export interface DeliveryQueueStats {
  waiting: number;
  prioritized: number;
  delayed: number;
  active: number;
  /** Failed for good: the dead-letter list, kept for replay. */
  dead: number;
  /** Seconds since the oldest waiting delivery was queued; 0 when none waits. */
  oldestWaitingSeconds: number;
}

/** Where the operator gauges read their values, each on scrape. */
export interface OperatorSources {
  /** Per workspace: events appended past the dispatcher's cursor, and the age of the oldest of them. */
  dispatchLag(): Promise<Array<{ workspace: string; events: number; oldestSeconds: number }>>;
  deliveryQueue(): Promise<DeliveryQueueStats>;
  /** Audit entries accepted but not yet on disk, and the age of the oldest. */
  auditBacklog(): { entries: number; oldestSeconds: number };
}

/**
 * One read shared by the gauges of one scrape: the registry starts every collect at once, so
 * the gauges built on the same source join the read already in flight instead of each
 * making their own.
 */
function shared<T>(read: () => Promise<T>): () => Promise<T> {
  let inFlight: Promise<T> | null = null;
  return () => (inFlight ??= read().finally(() => (inFlight = null)));
}

/**
 * Gauges that tell an operator where work is piling up. Each reads its state when /metrics is
 * scraped (a few Redis reads per scrape), so nothing is counted on the write or delivery path.
 * A source that cannot be read (Redis down) leaves its gauge empty for that scrape instead of
 * failing the whole page: `absent()` in an alert shows it.
 */
export function registerOperatorMetrics(metrics: Metrics, sources: OperatorSources, log: Logger): void {
  const registers = [metrics.registry];
  const queue = shared(() => sources.deliveryQueue());
  const lag = shared(() => sources.dispatchLag());
  const guarded = async (gauge: Gauge, what: string, fill: () => Promise<void> | void) => {
    gauge.reset();
    try {
      await fill();
    } catch (err) {
      gauge.reset();
      log.debug({ err: String(err) }, `metrics: ${what} unavailable`);
    }
  };

  new Gauge({
    name: 'baton_event_dispatch_lag_events',
    help: 'Events appended to a workspace log past the dispatcher catch-up cursor (the cursor trails by up to about a second in normal work). If it keeps growing, deliveries are not being queued: look for "delivery catch-up failed" in the log and check Redis',
    labelNames: ['workspace'] as const,
    registers,
    async collect() {
      await guarded(this, 'event dispatch lag', async () => {
        for (const w of await lag()) this.set({ workspace: w.workspace }, w.events);
      });
    },
  });
  new Gauge({
    name: 'baton_event_dispatch_lag_seconds',
    help: 'Age of the oldest event past the dispatcher catch-up cursor, per workspace; 0 when caught up. Above a few seconds, deliveries for new events are late: check the log for "delivery catch-up failed" and Redis latency',
    labelNames: ['workspace'] as const,
    registers,
    async collect() {
      await guarded(this, 'event dispatch lag', async () => {
        for (const w of await lag()) this.set({ workspace: w.workspace }, w.oldestSeconds);
      });
    },
  });
  new Gauge({
    name: 'baton_webhook_deliveries_queued',
    help: 'Webhook deliveries in the queue by state: waiting (ready, no worker free yet), prioritized, delayed (a retry waiting out its backoff), active (being attempted). Growing waiting: receivers are slow or workers too few; growing delayed: receivers are failing, see the subscription deliveries',
    labelNames: ['state'] as const,
    registers,
    async collect() {
      await guarded(this, 'delivery queue', async () => {
        const q = await queue();
        for (const state of ['waiting', 'prioritized', 'delayed', 'active'] as const) this.set({ state }, q[state]);
      });
    },
  });
  new Gauge({
    name: 'baton_webhook_oldest_waiting_delivery_age_seconds',
    help: 'Seconds since the oldest waiting webhook delivery was first queued; 0 when none waits. Rising steadily: deliveries cannot keep up; look for slow receivers (baton_write_to_delivery_seconds) and add replicas',
    registers,
    async collect() {
      await guarded(this, 'delivery queue', async () => this.set((await queue()).oldestWaitingSeconds));
    },
  });
  new Gauge({
    name: 'baton_webhook_dead_letters_held',
    help: 'Webhook deliveries that used up every attempt and are kept for replay (all replicas). When it grows, fix the receiver, then replay the subscription (POST /v1/subscriptions/{id}/replay)',
    registers,
    async collect() {
      await guarded(this, 'delivery queue', async () => this.set((await queue()).dead));
    },
  });
  new Gauge({
    name: 'baton_audit_pending_entries',
    help: 'Audit entries accepted by this process but not yet written to its segment on disk. Staying above 0: the disk or Redis (which numbers entries) is slow or failing; requests wait on it',
    registers,
    collect() {
      this.set(sources.auditBacklog().entries);
    },
  });
  new Gauge({
    name: 'baton_audit_oldest_pending_age_seconds',
    help: 'Age of the oldest audit entry this process has accepted but not yet written; 0 when none. Above a second: check disk latency of the data directory and Redis',
    registers,
    collect() {
      this.set(sources.auditBacklog().oldestSeconds);
    },
  });
  new Gauge({
    name: 'baton_watch_pending_changes',
    help: 'Changes made outside Baton that were observed but not yet turned into events, per source (a workspace watcher). Growing: a burst of outside writes is being worked through; stuck above 0: the watcher is blocked, check the log',
    labelNames: ['source'] as const,
    registers,
    collect() {
      this.reset();
      for (const b of readBacklogs()) this.set({ source: b.name }, b.value);
    },
  });
}
