import type { Readable } from 'node:stream';
import type { Logger } from 'pino';
import type { BatonPath } from '../core/paths.js';
import type { Recorder } from '../core/recorder.js';
import type { EventLog } from '../events/event-log.js';
import type { WorkspaceDefinition } from '../workspaces/definition.js';
import type { BackendCapabilities } from './backend.js';

/** What a driver knows about one entry. `path` is the full namespace path. */
export interface EntryMeta {
  path: string;
  type: 'file' | 'directory';
  size: number;
  etag: string | null;
  mimeType: string | null;
  modifiedAt: string;
  version: number | null;
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

export interface WriteOptions {
  mimeType: string;
  actor: string;
  /** Compare-and-swap: the write happens only if the current etag is this one. */
  ifMatch?: string;
  /** Create-only: the write happens only if nothing is at the path. */
  ifNoneMatch?: boolean;
  /** Bodies past this many bytes are refused with payload_too_large and leave no trace. */
  maxBytes: number;
  onCommit?: CommitHook<WriteResult>;
}

/**
 * Runs inside the path's lock right after a change is durable, so whoever records the change
 * (the event log) sees changes to one path in the order they happened, and a watcher holding
 * the same lock never mistakes a change in flight for one made behind Baton's back.
 */
export type CommitHook<T> = (result: T) => Promise<void>;

export interface WriteResult {
  entry: EntryMeta;
  created: boolean;
}

export interface MoveResult {
  from: EntryMeta;
  to: EntryMeta;
  /** For a folder: each file it held, where it was and where it is now. */
  files?: Array<{ from: EntryMeta; to: EntryMeta }>;
}

export interface WalkEntry {
  path: BatonPath;
  type: 'file' | 'directory';
  /** Filled when the walk was asked for it (`WalkOptions.meta`) and the driver had it at hand. */
  meta?: EntryMeta;
}

export interface WalkOptions {
  /** Resume strictly after this path (one the same walk yielded before). */
  after: BatonPath | null;
  recursive: boolean;
  /** Asked before descending into a folder; lets the caller prune what a key cannot read. */
  descend?: (dir: BatonPath) => boolean;
  /**
   * Describe each entry as a listing shows it (size, etag, mimeType, modifiedAt). Drivers may
   * leave `version` approximate here: a listing does not show it, and `stat` is exact.
   */
  meta?: boolean;
}

/** What an observer of outside changes needs from the rest of Baton. */
export interface ObserveContext {
  def: WorkspaceDefinition;
  events: EventLog;
  recorder: Recorder;
  /** How often a full rescan runs, where the medium's notifications can miss changes. */
  rescanMs: number;
  log: Logger;
}

/** A path as an observer of outside changes finds it: its file (or none), who made it, and a deletion's version. */
export interface ObservedState {
  entry: EntryMeta | null;
  actor: string;
  deletedVersion: number | null;
}

/** Reports changes made outside Baton while it runs. */
export interface OutsideWatcher {
  start(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * The one storage interface the rest of Baton uses. Drivers own atomicity (a reader never sees
 * a torn write), version keeping, and the arbitration of races on one path (exactly one mover
 * wins). Paths handed in are already validated; drivers still refuse anything that resolves
 * outside their root (symlinks).
 */
export interface StorageDriver {
  /** The registry name of the driver (`local`, `s3`), for logs. */
  readonly name: string;
  readonly capabilities: BackendCapabilities;
  /** The actor named for changes made behind Baton's back (`fs`, `s3`). */
  readonly outsideActor: string;
  init(folders: readonly string[]): Promise<void>;
  /** Throws `unavailable` when the backing store cannot be reached. */
  check(): Promise<void>;
  stat(path: BatonPath): Promise<EntryMeta | null>;
  read(path: BatonPath, opts?: { version?: number }): Promise<{ entry: EntryMeta; body: Readable }>;
  write(path: BatonPath, body: Readable, opts: WriteOptions): Promise<WriteResult>;
  delete(path: BatonPath, opts: { actor: string; ifMatch?: string; onCommit?: CommitHook<EntryMeta> }): Promise<EntryMeta>;
  move(from: BatonPath, to: BatonPath, opts: { actor: string; overwrite: boolean; onCommit?: CommitHook<MoveResult> }): Promise<MoveResult>;
  mkdir(path: BatonPath): Promise<void>;
  /**
   * Entries in a stable, driver-defined order, so a walk can resume after any yielded path; in
   * arrays, as the backend lists them.
   */
  walk(dir: BatonPath, opts: WalkOptions): AsyncIterable<readonly WalkEntry[]>;
  versions(path: BatonPath): Promise<VersionInfo[]>;
  restore(path: BatonPath, version: number, opts: { actor: string; onCommit?: CommitHook<WriteResult> }): Promise<WriteResult & { restoredFrom: number }>;
  /** Run `fn` holding the same per-path locks that writes hold. */
  withPathLock<T>(paths: readonly BatonPath[], fn: () => Promise<T>): Promise<T>;
  /** The last recorded version of a path (who wrote it, with which etag), or null. */
  lastRecord(path: BatonPath): Promise<VersionInfo | null>;
  /**
   * Holding the paths' locks, before an observer reports changes made outside Baton: put the
   * states `observedState` just returned for them in their version logs (a record for foreign
   * bytes, a tombstone for a foreign removal), durably, so the next version gets the next number
   * and an event never names a version the log could lose. Reads nothing again.
   */
  noteOutsideChanges(observed: ReadonlyArray<{ path: BatonPath; state: ObservedState }>): Promise<void>;
  /**
   * Holding the path's lock: what an observer should report about a path it saw change, or
   * null when a folder is there (a walk reports what is in it).
   */
  observedState(path: BatonPath): Promise<ObservedState | null>;
  /** Start reporting changes made outside Baton (one observer per workspace across replicas). */
  observe(ctx: ObserveContext): OutsideWatcher;
  close(): Promise<void>;
}
