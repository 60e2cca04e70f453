import type { Readable } from 'node:stream';
import type { BatonPath } from '../core/paths.js';
import type { OutsideWatcher, ObserveContext, StorageDriver, WalkOptions } from './driver.js';
import type { VersionRecord } from './version-log.js';

/** What a backend knows about the bytes at a path right now. */
export interface FileHead {
  etag: string;
  size: number;
  modifiedAt: string;
  /** The content type the backend keeps with the bytes (S3 does), or null when it keeps none. */
  contentType: string | null;
  /**
   * The Baton write that made these bytes, when the backend records it on the object itself:
   * it names the writer of bytes whose log record a crash cut off, and spares reading the log.
   */
  stamp: { version: number; actor: string } | null;
}

export type Head = { type: 'file'; file: FileHead } | { type: 'directory'; modifiedAt: string };

/** A body streamed to the backend's staging area, ready to be put in place. */
export interface Spooled {
  readonly size: number;
  /** Drop what the spool left behind (a temp file, a staging object); safe after a put. */
  discard(): Promise<void>;
}

/**
 * The version log of one path, as the backend stores it. Handles live for one operation, under
 * the path's lock, so a backend may cache what it read.
 */
export interface PathLog {
  latest(): Promise<VersionRecord | null>;
  all(): Promise<VersionRecord[]>;
  /** Durable before it resolves. */
  append(...records: VersionRecord[]): Promise<void>;
}

/** The lock on a set of paths, as the backend holds it. */
export interface HeldLock {
  /** Throws if the lock lapsed (a lease-based lock can): checked before every irreversible step. */
  assertHeld(): Promise<void>;
}

export interface BackendCapabilities {
  /** A folder with everything in it moves in one step; without it, folder moves are refused. */
  folderMoves: boolean;
}

export interface PutOptions {
  /** Put only if nothing is at the path; the backend's own primitive arbitrates, not the lock. */
  createOnly: boolean;
  /** The bytes being replaced, already kept as a version by the store. */
  replaces: FileHead | null;
  mimeType: string;
  stamp: { version: number; actor: string };
}

export interface RenameOptions {
  /** The source as the store saw it under the lock; the rename fails if it changed since. */
  source: FileHead;
  /** The destination's bytes being replaced, already kept as a version; null to refuse replacing. */
  replaces: FileHead | null;
  mimeType: string;
  stamp: { version: number; actor: string };
}

/** One entry of a backend listing; `head` when the listing had it at hand. */
export interface ListedEntry {
  path: BatonPath;
  type: 'file' | 'directory';
  head?: Head;
}

/**
 * The primitives a storage backend maps onto its medium. Everything about versions (numbering,
 * preconditions, tombstones, the outside-bytes rule, error messages) lives once in the
 * VersionedStore above it; a backend only stores bytes, logs and locks, and says which of the
 * optional abilities it has.
 */
export interface StorageBackend {
  readonly capabilities: BackendCapabilities;
  /** The actor named for changes made behind Baton's back (`fs`, `s3`). */
  readonly outsideActor: string;
  /** A name for logs: the registry name of the driver. */
  readonly name: string;

  init(): Promise<void>;
  /** Throws `unavailable` when the medium cannot be reached. */
  check(): Promise<void>;
  close(): Promise<void>;

  /** A file or a folder at `p`, or null. */
  head(p: BatonPath): Promise<Head | null>;
  /** The file at `p` only (cheaper where folders cost a listing); null for nothing or a folder. */
  headFile(p: BatonPath): Promise<FileHead | null>;
  /** The live bytes with the head that describes exactly them. */
  get(p: BatonPath): Promise<{ head: FileHead; body: Readable } | 'directory' | null>;
  /** The kept bytes of a superseded version, or null when they are not kept. */
  getVersion(p: BatonPath, version: number): Promise<Readable | null>;

  spool(body: Readable, opts: { maxBytes: number; beforeLarge?: () => Promise<void> }): Promise<Spooled>;
  /** A spool holding the kept bytes of a version, for a restore. */
  spoolVersion(p: BatonPath, version: number): Promise<Spooled>;
  /** Make `p` ready to hold a new file (parents exist), or throw `conflict` (a folder is there, a parent is a file). */
  prepareCreate(p: BatonPath): Promise<void>;
  /** Put spooled bytes at `p`; 'exists' when createOnly and something is there. */
  put(p: BatonPath, src: Spooled, opts: PutOptions, lock: HeldLock): Promise<FileHead | 'exists'>;
  /** Copy the live bytes (described by `head`) to the kept bytes of `version`. */
  keep(p: BatonPath, head: FileHead, version: number): Promise<void>;
  /** Remove the live file, its bytes becoming the kept bytes of `version`. */
  remove(p: BatonPath, head: FileHead, version: number, lock: HeldLock): Promise<void>;
  /**
   * Move one file's bytes; exactly one of many racing movers succeeds, the rest get 'gone' (or
   * 'busy' where the arbiter is a claim another mover still holds).
   */
  rename(from: BatonPath, to: BatonPath, opts: RenameOptions, lock: HeldLock): Promise<FileHead | 'gone' | 'exists' | 'busy'>;
  /** Move a folder with everything in it (only with `capabilities.folderMoves`). */
  renameFolder(from: BatonPath, to: BatonPath): Promise<'gone' | 'exists' | 'ok'>;
  mkdir(p: BatonPath): Promise<void>;
  /** Remove an empty folder; 'not_empty' when it is not. */
  removeFolder(p: BatonPath): Promise<'not_empty' | 'ok'>;
  /** Make the named paths' last changes durable (their folders' entries), where the medium needs it. */
  durable(paths: readonly BatonPath[]): Promise<void>;

  /**
   * Entries in a stable order, resumable after any yielded path, in arrays of whatever size the
   * medium reads at once (a folder scan, a page of keys): a listing then costs one await per
   * array, not per entry, in each layer it passes through.
   */
  list(dir: BatonPath, opts: WalkOptions): AsyncIterable<readonly ListedEntry[]>;

  log(p: BatonPath): PathLog;
  lock<T>(paths: readonly BatonPath[], fn: (held: HeldLock) => Promise<T>): Promise<T>;

  /** Start reporting changes made outside Baton, through the store that sits on this backend. */
  observe(store: StorageDriver, ctx: ObserveContext): OutsideWatcher;
}
