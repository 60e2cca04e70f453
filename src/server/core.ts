import { join } from 'node:path';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { AuditLog } from '../audit/audit-log.js';
import { KeyStore } from '../auth/key-store.js';
import type { Settings } from '../config/settings.js';
import { Recorder } from '../core/recorder.js';
import { EventLog } from '../events/event-log.js';
import { Metrics } from '../observability/metrics.js';
import { registerOperatorMetrics } from '../observability/operator-metrics.js';
import { EventService } from '../service/events.js';
import { FileService } from '../service/files.js';
import { GateService } from '../service/gates.js';
import { SubscriptionService } from '../service/subscriptions.js';
import { TicketService } from '../service/tickets.js';
import { CausationGuard } from '../guards/causation.js';
import { RateLimiter } from '../guards/rate-limit.js';
import { FencingGuard } from '../tickets/fencing-guard.js';
import { TicketStore } from '../tickets/ticket-store.js';
import { AttemptLog } from '../webhooks/attempts.js';
import { DeliveryWorker } from '../webhooks/delivery-worker.js';
import { Dispatcher } from '../webhooks/dispatcher.js';
import { SubscriptionStore } from '../webhooks/subscriptions.js';
import { UrlPolicy } from '../webhooks/url-policy.js';
import { WatchSupervisor } from '../watch/watch-supervisor.js';
import { WorkspaceRegistry } from '../workspaces/registry.js';
import { createDriver } from '../storage/create-driver.js';

/** Everything the interfaces (REST, MCP, CLI) share: one instance per `baton serve` process. */
export interface Core {
  settings: Settings;
  log: Logger;
  redis: Redis;
  workspaces: WorkspaceRegistry;
  keys: KeyStore;
  audit: AuditLog;
  recorder: Recorder;
  files: FileService;
  gates: GateService;
  events: EventService;
  subscriptions: SubscriptionService;
  tickets: TicketService;
  rates: RateLimiter;
  metrics: Metrics;
  adminToken: string;
  /** Background work started after the core is built, stopped before it is closed. */
  background: { start(): void; stop(): Promise<void> };
}

/** Baton's own files under the data directory; `.baton` can never be a workspace name. */
export function systemDir(settings: Settings): string {
  return join(settings.dataDir, '.baton');
}

export async function createCore(settings: Settings, redis: Redis, redisUrl: string, log: Logger, adminToken: string): Promise<Core> {
  const metrics = new Metrics();
  const eventLog = new EventLog(redis);
  await eventLog.start();
  const keys = new KeyStore(redis);
  await keys.start();
  const subs = new SubscriptionStore(redis);
  await subs.start();
  const attempts = new AttemptLog(redis);
  const workspaces = new WorkspaceRegistry(settings.workspacesDir, settings.dataDir, log, (def) => createDriver(def, { redis }), (def) =>
    subs.syncDeclared(def.name, def.subscriptions),
  );
  await workspaces.start({ watch: true });
  const audit = new AuditLog(join(systemDir(settings), 'audit'), redis);
  await audit.open();
  const wh = settings.webhook;
  const dispatcher = new Dispatcher(redisUrl, redis, eventLog, subs, wh.retrySchedule.length + 1, () => workspaces.list().map((w) => w.def.name), log);
  const policy = new UrlPolicy(wh.deny, wh.allow);
  const worker = new DeliveryWorker({ redisUrl, retrySchedule: wh.retrySchedule, timeoutMs: wh.timeoutMs, concurrency: 64, fetchers: 4 }, subs, attempts, policy, metrics, log);
  const recorder = new Recorder(audit, eventLog, dispatcher, metrics, log);
  const ticketStore = new TicketStore(redis);
  const guards = { fencing: new FencingGuard(ticketStore), causation: new CausationGuard(eventLog, workspaces, settings.maxCausationDepth), rates: new RateLimiter(redis) };
  const files = new FileService(workspaces, recorder, guards, settings.maxBodyBytes);
  const tickets = new TicketService(ticketStore, files, workspaces, recorder, { leaseSeconds: settings.leaseSeconds, maxAttempts: settings.maxAttempts }, log, metrics);
  const watchers = new WatchSupervisor(redis, workspaces, eventLog, recorder, settings.rescanSeconds, log);
  registerOperatorMetrics(
    metrics,
    {
      dispatchLag: () => Promise.all(workspaces.list().map(async (w) => ({ workspace: w.def.name, ...(await dispatcher.dispatchLag(w.def.name)) }))),
      deliveryQueue: () => dispatcher.queueStats(),
      auditBacklog: () => audit.backlog(),
    },
    log,
  );
  const retention = settings.eventRetentionHours * 3600_000;
  let trimTimer: NodeJS.Timeout | null = null;
  return {
    settings,
    log,
    redis,
    workspaces,
    keys,
    audit,
    recorder,
    files,
    gates: new GateService(workspaces, files),
    tickets,
    rates: guards.rates,
    events: new EventService(eventLog, workspaces),
    subscriptions: new SubscriptionService(subs, attempts, eventLog, dispatcher, policy, workspaces),
    metrics,
    adminToken,
    background: {
      start() {
        dispatcher.start();
        worker.start();
        watchers.start();
        tickets.start();
        const trim = () => {
          for (const w of workspaces.list()) {
            eventLog.trim(w.def.name, new Date(Date.now() - retention)).catch((err) => log.warn({ err: String(err) }, 'event trim failed'));
          }
        };
        // Often enough that nothing outlives the retention by more than a tenth of it.
        trimTimer = setInterval(trim, Math.min(10 * 60_000, Math.max(1000, retention / 10)));
        trimTimer.unref();
      },
      async stop() {
        if (trimTimer) clearInterval(trimTimer);
        await tickets.stop();
        await watchers.stop();
        await worker.stop();
        await dispatcher.stop();
        await eventLog.stop();
        await keys.stop();
        await subs.stop();
      },
    },
  };
}

export async function closeCore(core: Core): Promise<void> {
  await core.background.stop();
  await core.workspaces.close();
  await core.audit.close();
}
