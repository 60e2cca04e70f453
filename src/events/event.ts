import { randomBytes } from 'node:crypto';
import type { EventType } from '../api/schemas.js';

export type { EventType };

/** An event as the log keeps it and webhooks deliver it. `seq` is assigned by the event log. */
export interface BatonEvent {
  id: string;
  event: EventType;
  workspaceId: string;
  workspace: string;
  path: string;
  from?: string;
  mimeType: string | null;
  size: number;
  etag: string | null;
  version: number | null;
  seq: number;
  actor: string;
  time: string;
  restoredFrom?: number;
  causation?: { eventId: string; depth: number };
  /** A human's decision at a gate, on the file.moved it made. */
  review?: { decision: 'approved' | 'rejected'; gate: string; note?: string };
}

export type NewEvent = Omit<BatonEvent, 'id' | 'seq' | 'time'> & { time?: string };

/** Time-ordered and unique without coordination: 48 bits of milliseconds, 64 random bits. */
export function newEventId(): string {
  return `evt_${Date.now().toString(16).padStart(12, '0')}${randomBytes(8).toString('hex')}`;
}

/** What an event says about the file it is about; a deletion says nothing of bytes. */
export interface EventSubject {
  path: string;
  mimeType: string | null;
  size: number;
  etag: string | null;
  version: number | null;
}

/**
 * The one way an event is built, whoever reports the change (a request, a ticket operation, an
 * observer of outside changes), so every event has the same fields by the same rules.
 */
export function newEvent(
  type: EventType,
  workspace: { id: string; name: string },
  subject: EventSubject,
  actor: string,
  /** Fields only some events carry: `from`, `restoredFrom`, `causation`, a ticket's details. */
  extra: Partial<Pick<NewEvent, 'from' | 'restoredFrom' | 'causation'>> & Record<string, unknown> = {},
): NewEvent {
  const deleted = type === 'file.deleted';
  return {
    event: type,
    workspaceId: workspace.id,
    workspace: workspace.name,
    path: subject.path,
    mimeType: deleted ? null : subject.mimeType,
    size: deleted ? 0 : subject.size,
    etag: deleted ? null : subject.etag,
    version: subject.version,
    actor,
    ...extra,
  };
}
