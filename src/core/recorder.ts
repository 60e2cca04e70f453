import type { Logger } from 'pino';
import type { AuditLog } from '../audit/audit-log.js';
import type { BatonEvent, NewEvent } from '../events/event.js';
import type { AppendOptions, EventLog } from '../events/event-log.js';
import type { Metrics } from '../observability/metrics.js';
import type { Dispatcher } from '../webhooks/dispatcher.js';
import type { OperationContext } from './context.js';
import { isBatonError } from './errors.js';

/**
 * The one place that records what happened: one audit entry per request or tool call, allowed
 * or denied, and one event per change, whoever made it (an agent through any interface, or a
 * tool writing straight to disk).
 */
export class Recorder {
  private readonly listeners: Array<(e: BatonEvent) => Promise<void>> = [];

  constructor(
    private readonly audit: AuditLog,
    private readonly events: EventLog,
    private readonly dispatcher: Dispatcher,
    private readonly metrics: Metrics,
    private readonly log: Logger,
  ) {}

  /** In-process reactions to every recorded event (e.g. keeping ticket queues in step). Returns how to stop. */
  onEvent(listener: (e: BatonEvent) => Promise<void>): () => void {
    this.listeners.push(listener);
    return () => {
      const i = this.listeners.indexOf(listener);
      if (i >= 0) this.listeners.splice(i, 1);
    };
  }

  finish(ctx: OperationContext, err?: unknown): Promise<void> {
    const code = err === undefined ? null : isBatonError(err) ? err.code : 'internal';
    return this.audit
      .record({
        time: new Date().toISOString(),
        actor: ctx.actor,
        action: ctx.audit.action,
        path: ctx.audit.path,
        outcome: err === undefined ? 'allowed' : 'denied',
        code,
        etag: ctx.audit.etag,
        ...(ctx.audit.note !== undefined ? { note: ctx.audit.note } : {}),
      })
      .catch((e) => this.log.error({ err: e }, 'audit entry could not be written'));
  }

  /**
   * Append the event durably (the caller acknowledges the change only after this resolves),
   * then hand it to the dispatcher without waiting: the catch-up loop covers a crash here.
   */
  async emit(input: NewEvent, opts: AppendOptions): Promise<BatonEvent | null> {
    const event = await this.events.append(input, opts);
    if (!event) return null;
    this.metrics.events.inc({ event: event.event, source: event.actor === 'fs' || event.actor === 's3' ? event.actor : 'api' });
    for (const l of this.listeners) await l(event).catch((err) => this.log.warn({ err: String(err), event: event.id }, 'event listener failed'));
    this.dispatcher.fanout(event).catch((err) => this.log.warn({ err: String(err), event: event.id }, 'fanout deferred to catch-up'));
    return event;
  }
}
