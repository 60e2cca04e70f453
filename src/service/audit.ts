import type { AuditPage, AuditVerifyResult } from '../api/schemas.js';
import { MOVE_ARROW, type AuditLog } from '../audit/audit-log.js';
import { authorizeAdmin, can } from '../auth/authorize.js';
import type { Principal } from '../auth/principal.js';
import { requirePrincipal, type OperationContext } from '../core/context.js';
import { BatonError } from '../core/errors.js';
import { parsePath } from '../core/paths.js';
import { pageLimit } from './cursor.js';

export interface AuditFilter {
  path?: string;
  actor?: string;
  action?: string;
  since?: string;
  cursor?: string;
  limit?: number;
}

/** A namespace path an audit entry names, if it names one (moves name two). */
function pathsOf(entryPath: string | null): string[] {
  if (!entryPath || !entryPath.startsWith('/')) return [];
  return entryPath.split(MOVE_ARROW);
}

/** An entry is visible to a key that may read every path it names; the admin sees all. */
function visibleTo(p: Principal, entryPath: string | null): boolean {
  const paths = pathsOf(entryPath);
  return (
    paths.length > 0 &&
    paths.every((x) => {
      try {
        return can(p, 'read', parsePath(x));
      } catch {
        return false;
      }
    })
  );
}

/** Reading the audit trail: each key sees the entries about what it may read. */
export class AuditService {
  constructor(private readonly log: AuditLog) {}

  async query(ctx: OperationContext, f: AuditFilter): Promise<AuditPage> {
    ctx.audit.action = 'audit.read';
    const p = requirePrincipal(ctx);
    if (f.since && Number.isNaN(Date.parse(f.since))) throw new BatonError('bad_request', 'since must be an ISO 8601 time');
    if (f.cursor !== undefined && !/^\d+$/.test(f.cursor)) throw new BatonError('bad_request', 'cursor is not one this listing returned');
    return this.log.query({
      path: f.path || undefined,
      actor: f.actor || undefined,
      action: f.action || undefined,
      since: f.since,
      after: f.cursor === undefined ? undefined : Number(f.cursor),
      limit: pageLimit(f.limit),
      visible: p.kind === 'admin' ? undefined : (e) => visibleTo(p, e.path),
    });
  }

  async verify(ctx: OperationContext): Promise<AuditVerifyResult> {
    ctx.audit.action = 'audit.verify';
    authorizeAdmin(requirePrincipal(ctx));
    return this.log.verify();
  }
}
