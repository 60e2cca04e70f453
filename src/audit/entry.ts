import { createHash } from 'node:crypto';

export interface AuditFields {
  time: string;
  actor: string;
  action: string;
  path: string | null;
  outcome: 'allowed' | 'denied';
  code: string | null;
  etag: string | null;
  /** Words a person gave with the decision (a gate's rejection note); absent on most entries. */
  note?: string;
}

export interface AuditEntry extends AuditFields {
  seq: number;
  /** The segment (one per writing process) whose chain this entry belongs to. */
  segment: string;
  prev: string;
  hash: string;
}

export const GENESIS = '0'.repeat(64);

/**
 * The hash covers every field but itself, in a fixed order, chained to the previous entry. A note
 * is appended only when present, so entries written before notes existed keep their hashes.
 */
export function hashEntry(e: Omit<AuditEntry, 'hash'>): string {
  const fields: unknown[] = [e.seq, e.segment, e.time, e.actor, e.action, e.path, e.outcome, e.code, e.etag, e.prev];
  if (e.note !== undefined) fields.push(e.note);
  const canonical = JSON.stringify(fields);
  return createHash('sha256').update(canonical).digest('hex');
}
