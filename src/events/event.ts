import { randomBytes } from 'node:crypto';

export const FILE_EVENTS = ['file.created', 'file.updated', 'file.deleted', 'file.moved'] as const;
export const TICKET_EVENTS = ['ticket.claimed', 'ticket.completed', 'ticket.failed', 'ticket.expired'] as const;
export const EVENT_TYPES = [...FILE_EVENTS, ...TICKET_EVENTS] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** The event of brief §4; also the webhook body. `seq` is assigned by the event log. */
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
