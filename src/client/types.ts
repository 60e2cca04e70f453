/**
 * The shapes of Baton's REST API (brief §3 and §7), as the client returns them. Every method
 * resolves to the response body of its route, so `--json` output and these types agree.
 */

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
  /** `Baton-Causation`: the event that caused this request (loop guard, brief §3). */
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

export interface WriteResult {
  path: string;
  size: number;
  etag: string;
  version: number;
  mimeType: string;
}

/** A put: the write result, and whether it created the file (201) or replaced it (200). */
export interface PutResult extends WriteResult {
  created: boolean;
}

/** What HEAD says about a file (brief §3), read from the response headers. */
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

export interface DeleteResult {
  path: string;
  type: 'file' | 'directory';
  deleted: true;
  etag: string | null;
  version: number | null;
}

export interface ListEntry {
  path: string;
  type: 'file' | 'directory';
  size: number;
  etag: string | null;
  mimeType: string | null;
  modifiedAt: string;
}

/** One page; `cursor: null` marks the end. */
export interface ListPage {
  entries: ListEntry[];
  cursor: string | null;
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

export interface LineMatch {
  line: number;
  text: string;
}

export interface SearchResult {
  path: string;
  size: number;
  etag: string | null;
  modifiedAt: string;
  matches?: LineMatch[];
}

export interface SearchPage {
  results: SearchResult[];
  cursor: string | null;
}

export interface MoveOptions extends CallOptions {
  overwrite?: boolean;
}

export interface MoveResult extends WriteResult {
  from: string;
}

export interface VersionInfo {
  version: number;
  etag: string | null;
  size: number;
  mimeType: string | null;
  time: string;
  actor: string;
  deleted: boolean;
}

/** Newest first. */
export interface VersionList {
  versions: VersionInfo[];
}

export interface RestoreResult extends PutResult {
  restoredFrom: number;
}

export interface RateLimits {
  requestsPerSecond?: number;
  burst?: number;
  bytesPerDay?: number;
}

export interface NewKey {
  agent: string;
  /** `ACTION:GLOB`, e.g. `read:/research/**`. */
  grants: string[];
  human?: boolean;
  /** ISO 8601; must be in the future. */
  expiresAt?: string;
  limits?: RateLimits;
}

export interface KeyRecord {
  id: string;
  agent: string;
  grants: string[];
  human: boolean;
  createdAt: string;
  expiresAt: string | null;
  revokedAt: string | null;
  limits: RateLimits | null;
}

/** Returned once, at creation: `key` is the secret. */
export interface CreatedKey extends KeyRecord {
  key: string;
  /** Grants that look like mistakes (an unknown workspace, no grants at all); the key was created. */
  warnings?: string[];
}

export interface KeyList {
  keys: KeyRecord[];
}

export interface WorkspaceInfo {
  name: string;
  id: string;
  driver: 'local' | 's3';
  folders: string[];
  gates: string[];
}

export interface WorkspaceList {
  workspaces: WorkspaceInfo[];
}

/** The workspace YAML fields of brief §1, as JSON. */
export interface NewWorkspace {
  name: string;
  id?: string;
  storage?: Record<string, unknown> & { driver: 'local' | 's3' };
  folders?: string[];
  gates?: string[];
  subscriptions?: Array<{ url: string; paths: string[]; events?: string[]; secret?: string }>;
  limits?: RateLimits;
}

export interface AuditEntry {
  seq: number;
  time: string;
  actor: string;
  action: string;
  path: string | null;
  outcome: 'allowed' | 'denied';
  code: string | null;
  etag: string | null;
  segment?: string;
  hash: string;
  prev: string;
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

export interface AuditPage {
  entries: AuditEntry[];
  cursor: string | null;
}

export type AuditVerifyResult =
  | { ok: true; entries: number }
  | { ok: false; entries: number; firstBad: Partial<AuditEntry> & { seq: number }; reason: string };

export interface Health {
  ok: boolean;
}

/** `/readyz`; `ok: false` (HTTP 503) is returned, not thrown. */
export interface Readiness {
  ok: boolean;
  redis: string;
  workspaces: Record<string, string>;
}

/** Event types of brief §4. */
export type EventType =
  | 'file.created'
  | 'file.updated'
  | 'file.deleted'
  | 'file.moved'
  | 'ticket.claimed'
  | 'ticket.completed'
  | 'ticket.failed'
  | 'ticket.expired';

/** An event of the log (brief §4); also the body of a webhook. */
export interface BatonEvent {
  id: string;
  event: EventType | (string & {});
  workspaceId: string;
  workspace: string;
  path: string;
  /** file.moved: where the file was. */
  from?: string;
  mimeType: string | null;
  size: number;
  etag: string | null;
  version: number | null;
  /** Strictly increasing per workspace. */
  seq: number;
  /** `agent:<name>`, `human:<name>`, `fs` or `s3`. */
  actor: string;
  time: string;
  restoredFrom?: number;
  causation?: { eventId: string; depth: number };
}

/**
 * Where a read starts: a cursor an earlier answer gave, `0` (or `'0'`) for the oldest retained
 * event, or absent for "from now" (brief §7).
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

/** One page of events; `cursor` is where the next read continues (never null: the log goes on). */
export interface EventPage {
  events: BatonEvent[];
  cursor: string;
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

export interface NewSubscription {
  url: string;
  /** Globs, e.g. `/demo/inbox/**`; the key needs `subscribe` on each. */
  paths: string[];
  /** Only these types (default all). */
  events?: EventType[];
}

export interface Subscription {
  id: string;
  url: string;
  paths: string[];
  events: EventType[] | null;
  enabled: boolean;
  disabledReason: string | null;
  createdAt: string;
}

/** Returned once, at creation: `secret` (`whsec_…`) signs the deliveries. */
export interface CreatedSubscription extends Subscription {
  secret: string;
}

export interface SubscriptionList {
  subscriptions: Subscription[];
}

export interface RemovedSubscription {
  id: string;
  deleted: true;
}

export type DeliveryStatus = 'pending' | 'delivered' | 'failed' | 'dead';

export interface Delivery {
  eventId: string;
  attempt: number;
  status: DeliveryStatus;
  /** The receiver's HTTP status, null when none came (timeout, refused). */
  responseStatus: number | null;
  at: string;
  nextAttemptAt: string | null;
  error?: string;
}

/** Newest first. */
export interface DeliveryList {
  deliveries: Delivery[];
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

export interface ReplayResult {
  replayed: number;
  eventIds: string[];
  /** Matching events left out because their delivery is still queued or waiting for a retry. */
  alreadyQueued?: string[];
}

/** Tickets (`/v1/tickets/*`). */
export interface ClaimedTicket {
  path: string;
  content: string;
  fencingToken: number;
  leaseExpiresAt: string;
  attempt: number;
}

export interface HeartbeatResult {
  path: string;
  fencingToken: number;
  leaseExpiresAt: string;
}

export interface CompleteResult {
  path: string;
  fencingToken: number;
  result: string | null;
}

export interface FailResult {
  path: string;
  retried: boolean;
  attempt: number | null;
}
