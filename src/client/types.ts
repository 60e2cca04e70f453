/**
 * The shapes of Baton's REST API, as the client returns them. Every method resolves to the
 * response body of its route, so `--json` output and these types agree. The wire bodies come
 * from the server's own zod schemas (src/api/schemas.ts), so they cannot drift from it.
 */
export type {
  WriteResult,
  DeleteResult,
  ListEntry,
  ListPage,
  LineMatch,
  SearchResult,
  SearchPage,
  MoveResult,
  VersionInfo,
  VersionList,
  RateLimits,
  NewKey,
  KeyRecord,
  CreatedKey,
  KeyList,
  WorkspaceInfo,
  WorkspaceList,
  AuditEntry,
  AuditPage,
  AuditVerifyResult,
  Health,
  Readiness,
  EventType,
  BatonEvent,
  EventPage,
  NewSubscription,
  Subscription,
  CreatedSubscription,
  SubscriptionList,
  RemovedSubscription,
  ResumedSubscription,
  GateList,
  GateDecision,
  DeliveryStatus,
  Delivery,
  DeliveryList,
  ReplayResult,
  ClaimedTicket,
  HeartbeatResult,
  CompleteResult,
  FailResult,

} from '../api/schemas.js';
import type { DeliveryStatus, RateLimits, WriteResult } from '../api/schemas.js';

export interface BatonClientOptions {
  /** Base URL of the server, e.g. `http://127.0.0.1:8787` (a path prefix is kept). */
  url: string;
  /** A key (`bk_…`) or the admin token; omit only for health()/ready(). */
  key?: string;
  /** A fetch implementation; default the global one (Node 20). */
  fetch?: typeof fetch;
  /** Headers sent with every request (e.g. a tracing header). */
  headers?: Record<string, string>;
  /** Abort each request after this many milliseconds (default: no timeout). */
  timeoutMs?: number;
}

/** Per-call options every method accepts. */
export interface CallOptions {
  signal?: AbortSignal;
  /** Extra request headers for this call. */
  headers?: Record<string, string>;
  /** `Baton-Causation`: the event that caused this request (the loop guard). */
  causation?: string;
  /** `Baton-Ticket` + `Baton-Fencing-Token`: refuse the request unless this ticket's token is current. */
  fencing?: { ticket: string; token: number | string };
}

export type BodyInput = string | Uint8Array | ArrayBuffer | Blob | ReadableStream<Uint8Array> | AsyncIterable<Uint8Array | string>;

export interface PutOptions extends CallOptions {
  /** Kept as the file's `mimeType`; guessed by the server from the extension when absent. */
  contentType?: string;
  /** Compare-and-swap: write only if the current etag is this (bare or quoted). */
  ifMatch?: string;
  /** `true` (or `'*'`): create only, fail with precondition_failed if the file exists. */
  ifNoneMatch?: boolean | '*';
  /** Bytes as they are handed to fetch (for progress displays). */
  onProgress?: (bytesSent: number) => void;
}

/** A put: the write result, and whether it created the file (201) or replaced it (200). */
export interface PutResult extends WriteResult {
  created: boolean;
}

/** What HEAD says about a file, read from the response headers. */
export interface FileMeta {
  path: string;
  size: number;
  /** Bare etag (no quotes). */
  etag: string | null;
  mimeType: string;
  version: number | null;
  modifiedAt: string | null;
}

export interface GetOptions extends CallOptions {
  /** An older version (see versions()). */
  version?: number;
}

export interface GetResult extends FileMeta {
  bytes: Uint8Array;
  /** The body decoded as UTF-8. */
  text(): string;
  /** The body parsed as JSON. */
  json<T = unknown>(): T;
}

export interface GetStreamResult extends FileMeta {
  body: ReadableStream<Uint8Array>;
}

export interface DeleteOptions extends CallOptions {
  ifMatch?: string;
}

export interface ListOptions extends CallOptions {
  recursive?: boolean;
  /** Page size: default 100, at most 1000. */
  limit?: number;
  cursor?: string;
}

export interface SearchOptions extends CallOptions {
  /** The folder to search under, e.g. `/demo/drafts` (`/` for everything readable). */
  root: string;
  /** Name glob relative to root, e.g. `**\/*.md`. */
  glob?: string;
  /** Text the content must contain. */
  q?: string;
  /** Globs relative to root to leave out. */
  exclude?: string[];
  limit?: number;
  cursor?: string;
}

export interface MoveOptions extends CallOptions {
  overwrite?: boolean;
}

export interface RestoreResult extends PutResult {
  restoredFrom: number;
}

/** The fields of a workspace YAML file, as JSON. */
export interface NewWorkspace {
  name: string;
  id?: string;
  storage?: Record<string, unknown> & { driver: string };
  folders?: string[];
  gates?: string[];
  subscriptions?: Array<{ url: string; paths: string[]; events?: string[]; secret?: string }>;
  limits?: RateLimits;
}

export interface AuditQuery extends CallOptions {
  path?: string;
  actor?: string;
  action?: string;
  /** ISO 8601 time. */
  since?: string;
  limit?: number;
  cursor?: string;
}

/**
 * Where a read starts: a cursor an earlier answer gave, `0` (or `'0'`) for the oldest retained
 * event, or absent for "from now".
 */
export type EventCursorInput = string | 0;

export interface EventsQuery extends CallOptions {
  /** A glob, e.g. `/demo/inbox/**` (default every readable event). */
  path?: string;
  after?: EventCursorInput;
  /** Long-poll: wait up to this many seconds for the first event (server cap 300). */
  wait?: number;
  /** Page size: default 100, at most 1000. */
  limit?: number;
}

export interface EventStreamOptions {
  /** A glob, e.g. `/demo/inbox/**` (default every readable event). */
  path?: string;
  after?: EventCursorInput;
  /** Ends the stream: the iteration finishes without an error. */
  signal?: AbortSignal;
  /** Reconnect (with `Last-Event-ID`) when the connection drops; default true. */
  reconnect?: boolean;
  /** First reconnect delay, doubled on each failure up to 30 s (default 1000; a `retry:` field wins). */
  retryDelayMs?: number;
  /** Called on each connection's `ready` frame with the cursor the stream starts from. */
  onReady?: (cursor: string) => void;
  /** Called when the connection dropped and a reconnect is coming, with the reason. */
  onReconnect?: (reason: unknown, delayMs: number) => void;
  /** Extra request headers. */
  headers?: Record<string, string>;
}

export interface DeliveriesQuery extends CallOptions {
  status?: DeliveryStatus;
}

export interface ReplayInput extends CallOptions {
  /** Deliver these events again. */
  eventIds?: string[];
  /** Deliver every matching event after this cursor (`0`: every retained one). */
  since?: EventCursorInput;
}

