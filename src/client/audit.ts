import { paginate } from './paginate.js';
import type { Transport } from './transport.js';
import type { AuditEntry, AuditPage, AuditQuery, AuditVerifyResult, CallOptions } from './types.js';

/** `/v1/audit`: the hash-chained trail. A key sees entries on paths it may read; verify is admin. */
export class AuditApi {
  constructor(private readonly t: Transport) {}

  /** One page, oldest first; pass the answer's `cursor` back for the next. */
  query(q: AuditQuery = {}): Promise<AuditPage> {
    const { path, actor, action, since, limit, cursor, ...call } = q;
    return this.t.json({ method: 'GET', path: '/v1/audit', query: { path, actor, action, since, limit, cursor }, call });
  }

  /** Every matching entry, following cursors. */
  queryAll(q: Omit<AuditQuery, 'cursor'> = {}): AsyncGenerator<AuditEntry> {
    return paginate((cursor) => this.query({ ...q, cursor }), (p) => p.entries);
  }

  /** Walk the hash chain; `{ok:false, firstBad, reason}` names the first broken entry. */
  verify(call?: CallOptions): Promise<AuditVerifyResult> {
    return this.t.json({ method: 'GET', path: '/v1/audit/verify', call });
  }
}
