import { client } from './http.js';

export interface AuditEntryJson {
  seq: number;
  time: string;
  actor: string;
  action: string;
  path: string | null;
  outcome: 'allowed' | 'denied';
  code: string | null;
  etag: string | null;
  hash: string;
  prev: string;
  [k: string]: unknown;
}

/** Every audit entry the token may see (following cursors), optionally after a given seq. */
export async function auditEntries(base: string, token: string, query: Record<string, string> = {}, opts: { after?: number } = {}): Promise<AuditEntryJson[]> {
  const api = client(base, token);
  const out: AuditEntryJson[] = [];
  let cursor: string | null = opts.after === undefined ? null : String(opts.after);
  for (let pages = 0; pages < 1000; pages++) {
    const qs = new URLSearchParams({ ...query, limit: '1000' });
    if (cursor !== null) qs.set('cursor', cursor);
    const r = await api.call('GET', `/v1/audit?${qs}`);
    if (r.status !== 200) throw new Error(`GET /v1/audit failed: ${r.status} ${r.text}`);
    out.push(...(r.json.entries as AuditEntryJson[]));
    cursor = r.json.cursor;
    if (cursor === null) return out;
  }
  throw new Error('audit paging did not end');
}

/** The highest seq the admin sees right now (0 when the trail is empty). */
export async function lastAuditSeq(base: string, adminToken: string, after = 0): Promise<number> {
  const all = await auditEntries(base, adminToken, {}, { after });
  return all.reduce((m, e) => Math.max(m, e.seq), after);
}
