import type {
  ClaimedTicket,
  CompleteResult,
  CreatedSubscription,
  DeleteResult,
  EventPage,
  FailResult,
  HeartbeatResult,
  ListPage,
  MoveResult,
  NewSubscription,
  VersionList,
  WriteResult,
} from '../client/types.js';

/**
 * The small interface the MCP tools are written against, implemented over the in-process Core
 * (core-backend.ts; `baton mcp` on stdio relays to the same `/mcp`). Each operation answers what
 * the matching REST route answers. Paths handed in are already validated and canonical.
 */
export interface Backend {
  /** What this key may use: the tools to list and the folders it may read. Fixed per key. */
  access(): Promise<Access>;
  /**
   * One audited unit of work (one tool call; one file of read_multiple_files). `fn` may call
   * several operations; over the Core they share one operation context and one audit entry.
   * `path` is what the audit entry names if `fn` fails before any operation does.
   */
  run<T>(tool: string, path: string | null, fn: (ops: Ops) => Promise<T>): Promise<T>;
}

export interface Access {
  /** Names of the tools this key could ever use. */
  tools: ReadonlySet<string>;
  /** Folders under which the key may read (`/` for the admin token), shallowest first. */
  readableRoots: readonly string[];
}

/** A file or folder as `get_file_info` describes it. */
export interface FileInfo {
  path: string;
  type: 'file' | 'directory';
  size: number;
  etag: string | null;
  mimeType: string | null;
  version: number | null;
  /** Second precision: what both REST (Last-Modified) and the core can tell. */
  modifiedAt: string | null;
}

/** An open file: its metadata and its bytes as they stream; `close()` stops reading early. */
export interface FileStream {
  info: FileInfo;
  body: AsyncIterable<Uint8Array>;
  close(): void;
}

/** The REST answer of a restore (without the client's `created` flag). */
export type RestoreResponse = WriteResult & { restoredFrom: number };
export type WriteResponse = WriteResult & { created: boolean };

export interface NamePage {
  entries: Array<{ path: string; type: 'file' | 'directory' }>;
  cursor: string | null;
}

export interface EventsQuery {
  path: string;
  after?: string;
  waitSeconds?: number;
  limit?: number;
}

export interface Ops {
  read(path: string): Promise<FileStream>;
  info(path: string): Promise<FileInfo>;
  /** Refuses (forbidden) unless this key may read `path`, whether or not it exists. */
  mayRead(path: string): void;
  write(path: string, content: string, opts?: { ifMatch?: string }): Promise<WriteResponse>;
  mkdir(path: string): Promise<void>;
  list(dir: string, opts: { recursive?: boolean; cursor?: string | null; limit?: number }): Promise<ListPage>;
  /** The same listing with paths and types only: no per-entry stat. */
  names(dir: string, opts: { recursive?: boolean; cursor?: string | null }): Promise<NamePage>;
  move(from: string, to: string): Promise<MoveResult>;
  delete(path: string): Promise<DeleteResult>;
  versions(path: string): Promise<VersionList>;
  restore(path: string, version: number): Promise<RestoreResponse>;
  events(q: EventsQuery): Promise<EventPage>;
  subscribe(input: NewSubscription): Promise<CreatedSubscription>;
  claim(input: { queue: string; leaseSeconds?: number }): Promise<ClaimedTicket | null>;
  heartbeat(input: { path: string; fencingToken: number; leaseSeconds?: number }): Promise<HeartbeatResult>;
  complete(input: { path: string; fencingToken: number; result?: unknown }): Promise<CompleteResult>;
  fail(input: { path: string; fencingToken: number; retry?: boolean; reason?: string }): Promise<FailResult>;
}

/** Second precision, so both backends describe a time the same way. */
export function toSeconds(iso: string | null): string | null {
  if (!iso) return null;
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return null;
  return new Date(Math.floor(t / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}
