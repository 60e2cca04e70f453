import { createHash, randomBytes } from 'node:crypto';
import {
  closeSync,
  constants as fsc,
  createReadStream,
  fstatSync,
  linkSync,
  lstatSync,
  mkdirSync,
  openSync,
  readSync,
  realpathSync,
  renameSync,
  statSync,
  unlinkSync,
  writeSync,
  type BigIntStats,
} from 'node:fs';
import { copyFile, link, lstat, mkdir, readdir, realpath, rename, rm, rmdir, stat, unlink } from 'node:fs/promises';
import { dirname as osDirname, join, sep } from 'node:path';
import type { Readable } from 'node:stream';
import type { Redis } from 'ioredis';
import { BufferedBody } from '../buffered-body.js';
import { BatonError } from '../../core/errors.js';
import { childPath, type BatonPath } from '../../core/paths.js';
import type { FileHead, Head, HeldLock, ListedEntry, PathLog, PutOptions, RenameOptions, Spooled, StorageBackend } from '../backend.js';
import type { ObserveContext, OutsideWatcher, StorageDriver, WalkOptions } from '../driver.js';
import { RedisPathLocks } from '../redis-path-locks.js';
import { DiskWatcher } from './disk-watcher.js';
import { etagOf } from './etag.js';
import { fsyncFd, openFd } from './fsync.js';
import { GroupSync } from './group-sync.js';
import { PathHistory, type SpareLog } from './history.js';
import { SortedFolders } from './sorted-dir.js';
import { Spares } from './spares.js';

const META_DIR = '.baton';
/**
 * Files up to this size are read in one synchronous call when opened for reading: a stream
 * costs several thread-pool round trips, far more than reading a few kilobytes from the cache.
 */
const SMALL_FILE = 64 * 1024;
const WALK_BATCH = 512;
/** Entries per array of a listing that stats each one (see listDir). */
const META_CHUNK = 64;
/** How long a path lock outlives a holder that stopped renewing it (a crashed process). */
const LOCK_TTL_MS = 5_000;
/**
 * The lock only orders Baton's own read-check-write sequences: every decision that must have
 * exactly one winner is made by the kernel (link, rename), so a lapsed lock cannot make two, and
 * the store's checks before irreversible steps need no round trip.
 */
const KERNEL_ARBITRATES: HeldLock = { assertHeld: async () => undefined };

function errno(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException)?.code;
}

/** A body spooled into a temp file beside the workspace (same filesystem, so rename is atomic). */
class TempFile implements Spooled {
  /** Renamed into place: nothing left to remove (an unlink would only fail, at a cost). */
  placed = false;

  /**
   * @param flushed settles when the bytes are on disk (and the file closed); `put` waits for
   *   it, so nothing is linked into place before it is durable, while the caller takes the path
   *   lock and reads the heads meanwhile.
   */
  constructor(
    readonly path: string,
    readonly st: BigIntStats,
    readonly flushed: Promise<void>,
  ) {
    // Awaited by put; a spool dropped before that (a failed precondition) must not leave the
    // rejection unobserved.
    flushed.catch(() => undefined);
  }

  get size(): number {
    return Number(this.st.size);
  }

  async discard(): Promise<void> {
    await this.flushed.catch(() => undefined);
    if (!this.placed) await unlink(this.path).catch(() => undefined);
  }
}

/**
 * Workspaces on local disk. Files live at their plain paths under `root`, so other tools can
 * read and drop files directly; Baton's own metadata (temp files, version logs and kept bytes,
 * locks) lives under `root/.baton`, a name no client path may use.
 *
 * Races are settled by the kernel: a create-only put is a link() that fails if anything is
 * there, a move first renames its source into a private name (of many movers exactly one
 * succeeds). The path locks (in Redis, shared by replicas) only order Baton's own
 * read-check-write sequences.
 */
export class LocalBackend implements StorageBackend {
  readonly name = 'local';
  readonly outsideActor = 'fs';
  readonly capabilities = { folderMoves: true };
  private realRoot = '';
  private readonly tmpDir: string;
  private readonly historyDir: string;
  /** Empty temp files, open for writing, for the next bodies. */
  private readonly spareFiles: Spares<{ path: string; fd: number }>;
  /** Empty version logs in folders of their own, for the next paths written the first time. */
  private readonly spareLogs: Spares<SpareLog>;
  private readonly locks: RedisPathLocks;
  private readonly folderSync = new GroupSync();
  private readonly folders = new SortedFolders();

  constructor(
    private readonly root: string,
    workspace: string,
    redis: Redis,
  ) {
    this.tmpDir = join(root, META_DIR, 'tmp');
    this.historyDir = join(root, META_DIR, 'history');
    this.spareFiles = new Spares(
      async () => {
        const path = this.tmpPath('w');
        return { path, fd: await openFd(path, 'wx') };
      },
      async (f) => {
        closeSync(f.fd);
        await unlink(f.path);
      },
    );
    this.spareLogs = new Spares(
      async () => {
        const dir = this.tmpPath('h');
        await mkdir(dir);
        return { dir, fd: await openFd(join(dir, PathHistory.LOG_NAME), 'a') };
      },
      async (l) => {
        closeSync(l.fd);
        await rm(l.dir, { recursive: true, force: true });
      },
    );
    // Replicas sharing the data directory (or an NFS mount of it) take the same Redis lock per
    // path; inside one process callers queue on a mutex first. A crashed holder blocks its
    // paths for LOCK_TTL_MS at most.
    this.locks = new RedisPathLocks(redis, `baton:pathlock:${workspace}`, { ttlMs: LOCK_TTL_MS });
  }

  async init(): Promise<void> {
    await mkdir(this.root, { recursive: true });
    this.realRoot = await realpath(this.root);
    for (const d of ['tmp', 'history']) await mkdir(join(this.realRoot, META_DIR, d), { recursive: true });
    await this.sweepTemp();
  }

  async check(): Promise<void> {
    try {
      await stat(this.tmpDir);
    } catch (err) {
      throw new BatonError('unavailable', `storage root ${this.root} is not reachable`, { cause: err });
    }
  }

  async close(): Promise<void> {
    await Promise.all([this.spareFiles.close(), this.spareLogs.close()]);
  }

  observe(store: StorageDriver, ctx: ObserveContext): OutsideWatcher {
    return new DiskWatcher(ctx, store, this.realRoot);
  }

  // ---- resolution -------------------------------------------------------------------------

  private abs(p: BatonPath): string {
    return p.rel === '' ? this.realRoot : join(this.realRoot, ...p.segments.slice(1));
  }

  private inside(real: string): boolean {
    return real === this.realRoot || real.startsWith(this.realRoot + sep);
  }

  private isMetaPath(real: string): boolean {
    const meta = join(this.realRoot, META_DIR);
    return real === meta || real.startsWith(meta + sep);
  }

  /**
   * Stat an existing path, following symlinks only when they stay inside the root. Returns null
   * when nothing is there; throws invalid_path when the path resolves outside the workspace.
   */
  private resolveExisting(p: BatonPath): BigIntStats | null {
    const abs = this.abs(p);
    let real: string;
    try {
      real = realpathSync.native(abs);
    } catch (err) {
      if (errno(err) === 'ENOENT' || errno(err) === 'ENOTDIR') {
        this.assertParentInside(p);
        return null;
      }
      if (errno(err) === 'ELOOP') throw new BatonError('invalid_path', 'path resolves through a symlink loop');
      throw err;
    }
    if (!this.inside(real)) throw new BatonError('invalid_path', 'path resolves outside its workspace');
    if (real !== abs && this.isMetaPath(real)) throw new BatonError('invalid_path', 'path resolves into reserved metadata');
    try {
      return statSync(real, { bigint: true });
    } catch (err) {
      // Moved or deleted by a racing request between realpath and stat: it is simply gone.
      if (errno(err) === 'ENOENT' || errno(err) === 'ENOTDIR') return null;
      throw err;
    }
  }

  /** The deepest existing ancestor must resolve inside the root, or a write could escape it. */
  private assertParentInside(p: BatonPath): void {
    let dir = osDirname(this.abs(p));
    for (;;) {
      try {
        const real = realpathSync.native(dir);
        if (!this.inside(real) || this.isMetaPath(real)) throw new BatonError('invalid_path', 'path resolves outside its workspace');
        return;
      } catch (err) {
        if (errno(err) !== 'ENOENT' && errno(err) !== 'ENOTDIR') throw err;
        if (dir === this.realRoot || dir.length <= this.realRoot.length) return;
        dir = osDirname(dir);
      }
    }
  }

  private headOf(st: BigIntStats): Head {
    if (st.isDirectory()) return { type: 'directory', modifiedAt: st.mtime.toISOString() };
    return { type: 'file', file: fileHead(st) };
  }

  // ---- reads ------------------------------------------------------------------------------

  async head(p: BatonPath): Promise<Head | null> {
    const st = this.resolveExisting(p);
    return st ? this.headOf(st) : null;
  }

  async headFile(p: BatonPath): Promise<FileHead | null> {
    const st = this.resolveExisting(p);
    return st && !st.isDirectory() ? fileHead(st) : null;
  }

  async get(p: BatonPath): Promise<{ head: FileHead; body: Readable } | 'directory' | null> {
    const found = this.resolveExisting(p);
    if (!found) return null;
    if (found.isDirectory()) return 'directory';
    // Stat through the open handle: the head then describes exactly the bytes streamed, even
    // if a writer renames a new file into place meanwhile.
    let fd: number;
    try {
      fd = openSync(this.abs(p), fsc.O_RDONLY | fsc.O_NOFOLLOW);
    } catch (err) {
      if (errno(err) === 'ENOENT') return null;
      if (errno(err) !== 'ELOOP') throw err;
      fd = openSync(realpathSync.native(this.abs(p)), 'r');
    }
    let st: BigIntStats;
    try {
      st = fstatSync(fd, { bigint: true });
    } catch (err) {
      closeSync(fd);
      throw err;
    }
    if (st.size > SMALL_FILE) return { head: fileHead(st), body: createReadStream('', { fd, autoClose: true }) };
    try {
      return { head: fileHead(st), body: new BufferedBody(readWhole(fd, Number(st.size))) };
    } finally {
      closeSync(fd);
    }
  }

  async getVersion(p: BatonPath, version: number): Promise<Readable | null> {
    const blob = this.history(p).blob(version);
    return (await stat(blob).catch(() => null)) ? createReadStream(blob) : null;
  }

  log(p: BatonPath): PathLog {
    return this.history(p);
  }

  private history(p: BatonPath): PathHistory {
    return new PathHistory(this.historyDir, p.rel, () => this.spareLogs.take());
  }

  // ---- writes -----------------------------------------------------------------------------

  private tmpPath(tag: string): string {
    return join(this.tmpDir, `${tag}-${process.pid}-${randomBytes(8).toString('hex')}`);
  }

  async spool(body: Readable, opts: { maxBytes: number }): Promise<Spooled> {
    const spare = this.spareFiles.take();
    const tmp = spare?.path ?? this.tmpPath('w');
    const fd = spare?.fd ?? (await openFd(tmp, 'wx'));
    let size = 0;
    let st: BigIntStats;
    try {
      for await (const chunk of body) {
        const buf = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Uint8Array);
        size += buf.byteLength;
        if (size > opts.maxBytes) throw new BatonError('payload_too_large', `body is larger than ${opts.maxBytes} bytes`);
        let off = 0;
        while (off < buf.byteLength) off += writeSync(fd, buf, off);
      }
      st = fstatSync(fd, { bigint: true });
    } catch (err) {
      closeSync(fd);
      body.destroy();
      await unlink(tmp).catch(() => undefined);
      throw err;
    }
    // The flush is the slowest step of a small write: it runs while the caller locks the path.
    return new TempFile(tmp, st, fsyncFd(fd).finally(() => closeSync(fd)));
  }

  async spoolVersion(p: BatonPath, version: number): Promise<Spooled> {
    const tmp = this.tmpPath('r');
    try {
      await copyFile(this.history(p).blob(version), tmp, fsc.COPYFILE_FICLONE);
    } catch (err) {
      if (errno(err) === 'ENOENT') throw new BatonError('not_found', `version ${version} of ${p.full} is not kept`);
      throw err;
    }
    const fd = openSync(tmp, 'r');
    let st: BigIntStats;
    try {
      st = fstatSync(fd, { bigint: true });
    } catch (err) {
      closeSync(fd);
      throw err;
    }
    return new TempFile(tmp, st, fsyncFd(fd).finally(() => closeSync(fd)));
  }

  async prepareCreate(p: BatonPath): Promise<void> {
    const st = this.resolveExisting(p);
    if (st?.isDirectory()) throw new BatonError('conflict', `${p.full} is a directory`);
    // A file is there, so are its folders. Otherwise resolveExisting has just checked that the
    // existing ancestors stay inside the root.
    if (st) return;
    this.makeParent(p);
  }

  private ensureParent(p: BatonPath): void {
    this.assertParentInside(p);
    this.makeParent(p);
  }

  private makeParent(p: BatonPath): void {
    let made: string | undefined;
    try {
      made = mkdirSync(osDirname(this.abs(p)), { recursive: true });
    } catch (err) {
      if (errno(err) === 'EEXIST' || errno(err) === 'ENOTDIR') throw new BatonError('conflict', 'a parent of this path is a file');
      throw err;
    }
    // Folders just made could have raced a symlink swapped in above them: look again.
    if (made !== undefined) this.assertParentInside(p);
  }

  async put(p: BatonPath, src: Spooled, opts: PutOptions): Promise<FileHead | 'exists'> {
    const tmp = src as TempFile;
    const abs = this.abs(p);
    await tmp.flushed;
    if (opts.createOnly) {
      try {
        await link(tmp.path, abs);
      } catch (err) {
        if (errno(err) === 'EEXIST') return 'exists';
        throw err;
      }
    } else {
      await rename(tmp.path, abs);
      tmp.placed = true;
    }
    return fileHead(tmp.st);
  }

  async keep(p: BatonPath, _head: FileHead, version: number): Promise<void> {
    const hist = this.history(p);
    // The log may not exist yet (bytes dropped behind Baton's back), and is appended meanwhile.
    mkdirSync(hist.dir, { recursive: true });
    await copyFile(this.abs(p), hist.blob(version), fsc.COPYFILE_FICLONE);
  }

  async remove(p: BatonPath, _head: FileHead, version: number): Promise<void> {
    const hist = this.history(p);
    mkdirSync(hist.dir, { recursive: true });
    // Renaming the live file into the history both removes it and keeps its bytes, atomically.
    await rename(this.abs(p), hist.blob(version));
  }

  async rename(from: BatonPath, to: BatonPath, opts: RenameOptions): Promise<FileHead | 'gone' | 'exists'> {
    const staged = this.stage(from);
    if (!staged) return 'gone';
    const st = statSync(staged, { bigint: true });
    const dest = this.abs(to);
    try {
      if (opts.replaces) {
        await rename(staged, dest);
      } else {
        try {
          linkSync(staged, dest);
        } catch (err) {
          if (errno(err) === 'EEXIST') {
            this.unstage(staged, from);
            return 'exists';
          }
          throw err;
        }
        unlinkSync(staged);
      }
    } catch (err) {
      this.unstage(staged, from);
      throw err;
    }
    return fileHead(st);
  }

  async renameFolder(from: BatonPath, to: BatonPath): Promise<'gone' | 'exists' | 'ok'> {
    this.ensureParent(to);
    if (this.resolveExisting(to)) return 'exists';
    const staged = this.stage(from);
    if (!staged) return 'gone';
    try {
      await rename(staged, this.abs(to));
    } catch (err) {
      this.unstage(staged, from);
      if (errno(err) === 'EEXIST' || errno(err) === 'ENOTEMPTY') return 'exists';
      throw err;
    }
    return 'ok';
  }

  /** The arbiter of a move: rename the source into a private name. Null when it is gone. */
  private stage(from: BatonPath): string | null {
    const staged = this.tmpPath('m');
    try {
      renameSync(this.abs(from), staged);
    } catch (err) {
      if (errno(err) === 'ENOENT') return null;
      throw err;
    }
    return staged;
  }

  private unstage(staged: string, from: BatonPath): void {
    try {
      renameSync(staged, this.abs(from));
    } catch {
      // the staged entry stays in .baton/tmp; the sweep of old temp files removes it
    }
  }

  async mkdir(p: BatonPath): Promise<void> {
    this.ensureParent(p);
    try {
      await mkdir(this.abs(p));
    } catch (err) {
      if (errno(err) !== 'EEXIST') throw err;
      if (!this.resolveExisting(p)?.isDirectory()) throw new BatonError('conflict', `${p.full} exists and is a file`);
    }
  }

  async removeFolder(p: BatonPath): Promise<'not_empty' | 'ok'> {
    try {
      await rmdir(this.abs(p));
    } catch (err) {
      if (errno(err) === 'ENOTEMPTY' || errno(err) === 'EEXIST') return 'not_empty';
      throw err;
    }
    return 'ok';
  }

  async durable(paths: readonly BatonPath[]): Promise<void> {
    const dirs = new Set(paths.map((p) => osDirname(this.abs(p))));
    await Promise.all([...dirs].map((d) => this.folderSync.sync(d)));
  }

  lock<T>(paths: readonly BatonPath[], fn: (held: HeldLock) => Promise<T>): Promise<T> {
    return this.locks.run(
      paths.map((p) => createHash('sha256').update(p.rel).digest('hex')),
      () => fn(KERNEL_ARBITRATES),
    );
  }

  // ---- listing ----------------------------------------------------------------------------

  async *list(dir: BatonPath, opts: WalkOptions): AsyncGenerator<ListedEntry[]> {
    let after = opts.after ? opts.after.segments.slice(dir.segments.length) : null;
    // A recursive walk that last yielded a folder resumes inside it: an empty last segment sorts
    // before every name, so the folder's entries come next.
    if (after && opts.recursive && this.isFolder(opts.after!)) after = [...after, ''];
    yield* this.listDir(dir, after, opts);
  }

  private isFolder(p: BatonPath): boolean {
    try {
      return this.resolveExisting(p)?.isDirectory() ?? false;
    } catch {
      return false;
    }
  }

  /**
   * Depth-first in name order; `after` holds the remaining segments of the resume point. A run
   * of entries goes out as one array, cut where the walk descends into a folder and, when each
   * entry costs a stat, after META_CHUNK entries: a caller that wants one page of a big folder
   * stops after the array that fills it.
   */
  private async *listDir(dir: BatonPath, after: string[] | null, opts: WalkOptions): AsyncGenerator<ListedEntry[]> {
    const abs = this.abs(dir);
    const atRoot = dir.rel === '';
    let cursor = after?.[0] ?? null;
    let resumeInside = after !== null && after.length > 1;
    for (;;) {
      let batch;
      try {
        batch = await this.folders.select(abs, cursor, resumeInside, WALK_BATCH, (n) => atRoot && n.startsWith(META_DIR));
      } catch (err) {
        if (errno(err) === 'ENOENT' || errno(err) === 'ENOTDIR') return;
        throw err;
      }
      let out: ListedEntry[] = [];
      for (const d of batch.entries) {
        let child: BatonPath;
        try {
          child = childPath(dir, d.name);
        } catch {
          continue; // a name no client could address (e.g. made by another tool) is not shown
        }
        let isDir = d.isDirectory();
        let st: BigIntStats | null = null;
        if (d.isSymbolicLink()) {
          st = (() => {
            try {
              return this.resolveExisting(child);
            } catch {
              return null;
            }
          })();
          if (!st) continue;
          isDir = st.isDirectory();
        } else if (!isDir && !d.isFile()) {
          continue;
        }
        const resuming = resumeInside && d.name === cursor;
        if (!resuming) {
          if (opts.meta) {
            st ??= this.listedStat(child);
            if (!st) continue;
            out.push({ path: child, type: isDir ? 'directory' : 'file', head: this.headOf(st) });
            if (out.length === META_CHUNK) {
              yield out;
              out = [];
            }
          } else {
            out.push({ path: child, type: isDir ? 'directory' : 'file' });
          }
        }
        if (isDir && opts.recursive && (!opts.descend || opts.descend(child))) {
          if (out.length > 0) yield out;
          out = [];
          yield* this.listDir(child, resuming ? after!.slice(1) : null, opts);
        }
      }
      if (out.length > 0) yield out;
      if (!batch.rest) return;
      cursor = batch.entries[batch.entries.length - 1]!.name;
      resumeInside = false;
      after = null;
    }
  }

  /**
   * The stat of an entry the listing just read. A plain entry is lstat'ed, not resolved: it lies
   * in a folder already resolved inside the root, and if it became a symlink meanwhile it is
   * resolved like any other. Null when it vanished.
   *
   * Synchronous on purpose: a page is at most a thousand entries of a local disk, a few
   * microseconds each, where a thousand awaited calls through the thread pool cost ten times as much.
   */
  private listedStat(p: BatonPath): BigIntStats | null {
    let st: BigIntStats | undefined;
    try {
      st = lstatSync(this.abs(p), { bigint: true, throwIfNoEntry: false });
    } catch (err) {
      if (errno(err) === 'ENOTDIR') return null;
      throw err;
    }
    if (!st) return null;
    if (!st.isSymbolicLink()) return st;
    try {
      return this.resolveExisting(p);
    } catch {
      return null;
    }
  }

  /** Temp files older than a day are leftovers of crashed writers. */
  private async sweepTemp(): Promise<void> {
    const cutoff = Date.now() - 24 * 3600_000;
    for (const name of await readdir(this.tmpDir).catch(() => [] as string[])) {
      const file = join(this.tmpDir, name);
      const st = await lstat(file).catch(() => null);
      if (st && st.mtimeMs < cutoff) await rm(file, { force: true, recursive: true });
    }
  }
}

/** The first `size` bytes of an open file (fewer if it was cut meanwhile). */
function readWhole(fd: number, size: number): Buffer {
  const buf = Buffer.allocUnsafe(size);
  let got = 0;
  while (got < size) {
    const n = readSync(fd, buf, got, size - got, got);
    if (n === 0) break;
    got += n;
  }
  return got === size ? buf : buf.subarray(0, got);
}

function fileHead(st: BigIntStats): FileHead {
  return { etag: etagOf(st), size: Number(st.size), modifiedAt: st.mtime.toISOString(), contentType: null, stamp: null };
}

