import type { Logger } from 'pino';
import type { AuditLog } from '../audit/audit-log.js';
import type { OperationContext } from './context.js';
import { isBatonError } from './errors.js';

/**
 * The one place that records what happened. Every interface calls `finish` exactly once per
 * request or tool call, allowed or denied, so the audit trail has one entry per operation.
 */
export class Recorder {
  constructor(
    private readonly audit: AuditLog,
    private readonly log: Logger,
  ) {}

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
      })
      .catch((e) => this.log.error({ err: e }, 'audit entry could not be written'));
  }
}
