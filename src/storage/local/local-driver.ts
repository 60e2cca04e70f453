import { randomBytes } from 'node:crypto';
import {
  closeSync,
  constants as fsc,
  createReadStream,
  fstatSync,
  linkSync,
  lstatSync,
  mkdirSync,
  openSync,
  realpathSync,
  renameSync,
  statSync,
  unlinkSync,
  writeSync,
  type BigIntStats,
  type Stats,
} from 'node:fs';
import {
  copyFile,
  link,
  lstat,
  mkdir,
  readdir,
  realpath,
  rename,
  rm,
  rmdir,
  stat,
  unlink,
} from 'node:fs/promises';
import { dirname as osDirname, join, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { BatonError } from '../../core/errors.js';
import { guessMimeType } from '../../core/mime.js';
import { basename, childPath, parsePath, type BatonPath } from '../../core/paths.js';
import type {
  CommitHook,
  EntryMeta,
  MoveResult,
  StorageDriver,
  VersionInfo,
  WalkEntry,
  WalkOptions,
  WriteOptions,
  WriteResult,
} from '../driver.js';
import { etagOf } from './etag.js';
import { fsyncFd, openFd } from './fsync.js';
import { PathHistory, type VersionRecord } from './history.js';
import { PathLocks } from './path-lock.js';
import { selectSorted } from './sorted-dir.js';

const META_DIR = '.baton';
const WALK_BATCH = 512;
/** Version records kept in memory for listings; past this many the cache starts over. */
const LISTING_CACHE_MAX = 100_000;

function errno(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException)?.code;
}

/**
 * Workspaces on local disk. Files live at their plain paths under `root`, so other tools can
 * read and drop files directly; Baton's own metadata (temp files, version logs and superseded
 * bytes, locks) lives under `root/.baton`, a name no client path may use.
 */
export class LocalDriver implements StorageDriver {
  readonly kind = 'local' as const;
  private realRoot = '';
  private readonly tmpDir: string;
  private readonly historyDir: string;
  private readonly locks: PathLocks;
  /**
   * The last version record read for a path, with the etag of the bytes it was read for. A
   * listing trusts it only while the file still has that etag: any write, by this process or
   * another, replaces the inode and so the etag.
   */
  private readonly listingRecords = new Map<string, { etag: string; rec: VersionRecord | null }>();

  constructor(
    private readonly workspace: string,
    private readonly root: string,
  ) {
    this.tmpDir = join(root, META_DIR, 'tmp');
    this.historyDir = join(root, META_DIR, 'history');
    this.locks = new PathLocks(join(root, META_DIR, 'locks'));
  }

  /** The resolved folder the workspace lives in, for the disk watcher. */
  get rootDir(): string {
    return this.realRoot;
  }

  async init(folders: readonly string[]): Promise<void> {
    await mkdir(this.root, { recursive: true });
    this.realRoot = await realpath(this.root);
    for (const d of ['tmp', 'history', 'locks']) await mkdir(join(this.realRoot, META_DIR, d), { recursive: true });
    await this.sweepTemp();
    for (const f of folders) await this.mkdir(parsePath(`/${this.workspace}/${f}`));
  }

  async check(): Promise<void> {
    try {
      await stat(this.tmpDir);
    } catch (err) {
      throw new BatonError('unavailable', `workspace ${this.workspace}: storage root is not reachable`, { cause: err });
    }
  }

  async close(): Promise<void> {}

  // ---- resolution -------------------------------------------------------------------------

  private abs(p: BatonPath): string {
    return p.rel === '' ? this.realRoot : join(this.realRoot, ...p.segments.slice(1));
  }

  private rel(p: BatonPath): string {
    return p.rel;
  }

  private inside(real: string): boolean {
    return real === this.realRoot || real.startsWith(this.realRoot + sep);
  }

  /**
   * Stat an existing path, following symlinks only when they stay inside the root. Returns null
   * when nothing is there; throws invalid_path when the path resolves outside the workspace.
   */
  private async resolveExisting(p: BatonPath): Promise<BigIntStats | null> {
    const abs = this.abs(p);
    let real: string;
    try {
      real = realpathSync.native(abs);
    } catch (err) {
      if (errno(err) === 'ENOENT' || errno(err) === 'ENOTDIR') {
        await this.assertParentInside(p);
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

  private isMetaPath(real: string): boolean {
    const meta = join(this.realRoot, META_DIR);
    return real === meta || real.startsWith(meta + sep);
  }

  /** The deepest existing ancestor must resolve inside the root, or a write could escape it. */
  private async assertParentInside(p: BatonPath): Promise<void> {
    let dir = osDirname(this.abs(p));
    for (;;) {
      try {
        const real = realpathSync.native(dir);
        if (!this.inside(real) || this.isMetaPath(real)) {
          throw new BatonError('invalid_path', 'path resolves outside its workspace');
        }
        return;
      } catch (err) {
        if (errno(err) !== 'ENOENT' && errno(err) !== 'ENOTDIR') throw err;
        if (dir === this.realRoot || dir.length <= this.realRoot.length) return;
        dir = osDirname(dir);
      }
    }
  }

  private async ensureParent(p: BatonPath): Promise<void> {
    await this.assertParentInside(p);
    try {
      mkdirSync(osDirname(this.abs(p)), { recursive: true });
    } catch (err) {
      if (errno(err) === 'EEXIST' || errno(err) === 'ENOTDIR') {
        throw new BatonError('conflict', 'a parent of this path is a file');
      }
      throw err;
    }
    await this.assertParentInside(p);
  }

  // ---- metadata ---------------------------------------------------------------------------

  private history(p: BatonPath): PathHistory {
    return new PathHistory(this.historyDir, this.rel(p));
  }

  private entryOf(p: BatonPath, st: BigIntStats | Stats, latest: VersionRecord | null, etag: string | null): EntryMeta {
    const isDir = st.isDirectory();
    const recorded = !isDir && latest !== null && !latest.deleted && latest.etag === etag;
    return {
      path: p.full,
      type: isDir ? 'directory' : 'file',
      size: isDir ? 0 : Number(st.size),
      etag: isDir ? null : etag,
      mimeType: isDir ? null : recorded ? latest.mimeType : guessMimeType(basename(p)),
      modifiedAt: st.mtime.toISOString(),
      // A file changed on disk behind Baton's back is one version past what the log knows.
      version: isDir ? null : recorded ? latest.version : (latest?.version ?? 0) + 1,
    };
  }

  private async describe(p: BatonPath, st: BigIntStats): Promise<EntryMeta> {
    if (st.isDirectory()) return this.entryOf(p, st, null, null);
    return this.entryOf(p, st, await this.history(p).latest(), etagOf(st));
  }

  /** `describe` for a listing: the version record comes from the cache when the etag still matches. */
  private async describeListed(p: BatonPath, st: BigIntStats): Promise<EntryMeta> {
    if (st.isDirectory()) return this.entryOf(p, st, null, null);
    const etag = etagOf(st);
    const key = this.rel(p);
    let cached = this.listingRecords.get(key);
    if (!cached || cached.etag !== etag) {
      if (this.listingRecords.size >= LISTING_CACHE_MAX) this.listingRecords.clear();
      cached = { etag, rec: await this.history(p).latest() };
      this.listingRecords.set(key, cached);
    }
    return this.entryOf(p, st, cached.rec, etag);
  }

  async stat(p: BatonPath): Promise<EntryMeta | null> {
    const st = await this.resolveExisting(p);
    return st ? this.describe(p, st) : null;
  }

  /**
   * Make sure the bytes now at `p` are kept as a version before they are replaced or removed.
   * Bytes Baton wrote are already in the log; bytes dropped on disk by another tool get a
   * record (actor `fs`) here, so they too stay restorable.
   */
  private async preserveCurrent(p: BatonPath, st: BigIntStats, hist: PathHistory): Promise<VersionRecord> {
    const latest = await hist.latest();
    const etag = etagOf(st);
    let rec = latest;
    if (!latest || latest.deleted || latest.etag !== etag) {
      rec = {
        version: (latest?.version ?? 0) + 1,
        etag,
        size: Number(st.size),
        mimeType: guessMimeType(basename(p)),
        time: st.mtime.toISOString(),
        actor: 'fs',
        deleted: false,
      };
      await hist.append(rec);
    }
    return rec!;
  }

  // ---- reads ------------------------------------------------------------------------------

  async read(p: BatonPath, opts: { version?: number } = {}): Promise<{ entry: EntryMeta; body: Readable }> {
    if (opts.version !== undefined) return this.readVersion(p, opts.version);
    const st = await this.resolveExisting(p);
    if (!st) throw new BatonError('not_found', `${p.full} does not exist`);
    if (st.isDirectory()) throw new BatonError('bad_request', `${p.full} is a directory`);
    // Stat through the open handle: the metadata then describes exactly the bytes streamed,
    // even if a writer renames a new file into place meanwhile.
    let fd: number;
    try {
      fd = openSync(this.abs(p), fsc.O_RDONLY | fsc.O_NOFOLLOW);
    } catch (err) {
      if (errno(err) !== 'ELOOP') throw err;
      fd = openSync(realpathSync.native(this.abs(p)), 'r');
    }
    try {
      const fst = fstatSync(fd, { bigint: true });
      const entry = await this.describe(p, fst);
      return { entry, body: createReadStream('', { fd, autoClose: true }) };
    } catch (err) {
      closeSync(fd);
      throw err;
    }
  }

  private async readVersion(p: BatonPath, version: number): Promise<{ entry: EntryMeta; body: Readable }> {
    const hist = this.history(p);
    const records = await hist.all();
    const rec = records.find((r) => r.version === version);
    const current = await this.stat(p).catch(() => null);
    if (current && current.version === version && current.type === 'file') return this.read(p);
    if (!rec) throw new BatonError('not_found', `${p.full} has no version ${version}`);
    if (rec.deleted) throw new BatonError('not_found', `version ${version} of ${p.full} is a deletion marker`);
    const blob = hist.blob(version);
    const st = await stat(blob).catch(() => null);
    if (!st) {
      const why = rec.movedTo ? `its bytes were moved to ${rec.movedTo}` : 'its bytes are no longer kept';
      throw new BatonError('not_found', `version ${version} of ${p.full}: ${why}`);
    }
    const entry: EntryMeta = {
      path: p.full,
      type: 'file',
      size: rec.size,
      etag: rec.etag,
      mimeType: rec.mimeType,
      modifiedAt: rec.time,
      version: rec.version,
    };
    return { entry, body: createReadStream(blob) };
  }

  async versions(p: BatonPath): Promise<VersionInfo[]> {
    const records = await this.history(p).all();
    const current = await this.stat(p);
    if (current?.type === 'directory') throw new BatonError('bad_request', `${p.full} is a directory`);
    const out: VersionInfo[] = records.map(({ movedTo: _movedTo, ...r }) => r);
    const last = records.at(-1);
    if (current && (!last || last.version !== current.version)) {
      out.push({
        version: current.version!,
        etag: current.etag,
        size: current.size,
        mimeType: current.mimeType,
        time: current.modifiedAt,
        actor: 'fs',
        deleted: false,
      });
    }
    if (out.length === 0) throw new BatonError('not_found', `${p.full} has no versions`);
    return out.reverse();
  }

  // ---- writes -----------------------------------------------------------------------------

  private tmpPath(tag: string): string {
    return join(this.tmpDir, `${tag}-${process.pid}-${randomBytes(8).toString('hex')}`);
  }

  /**
   * Stream the body into a temp file beside the workspace (same filesystem, so rename is
   * atomic), durably, and return its stat.
   */
  private async spool(body: Readable, maxBytes: number): Promise<{ tmp: string; st: BigIntStats }> {
    const tmp = this.tmpPath('w');
    const fd = await openFd(tmp, 'wx');
    let size = 0;
    try {
      for await (const chunk of body) {
        const buf = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Uint8Array);
        size += buf.byteLength;
        if (size > maxBytes) {
          throw new BatonError('payload_too_large', `body is larger than ${maxBytes} bytes`);
        }
        for (let off = 0; off < buf.byteLength; ) off += writeSync(fd, buf, off);
      }
      await fsyncFd(fd);
      return { tmp, st: fstatSync(fd, { bigint: true }) };
    } catch (err) {
      await unlink(tmp).catch(() => undefined);
      body.destroy();
      throw err;
    } finally {
      closeSync(fd);
    }
  }

  private async syncDir(dir: string): Promise<void> {
    const fd = openSync(dir, 'r');
    try {
      await fsyncFd(fd);
    } finally {
      closeSync(fd);
    }
  }

  async write(p: BatonPath, body: Readable, opts: WriteOptions): Promise<WriteResult> {
    if (p.rel === '') throw new BatonError('bad_request', 'cannot write a workspace root');
    await this.ensureParent(p);
    const { tmp, st } = await this.spool(body, opts.maxBytes);
    try {
      return await this.locks.run([this.rel(p)], () => this.commit(p, tmp, st, opts));
    } finally {
      await unlink(tmp).catch(() => undefined);
    }
  }

  /** Under the path lock: check preconditions, keep the prior version, rename into place. */
  private async commit(p: BatonPath, tmp: string, tst: BigIntStats, opts: Omit<WriteOptions, 'maxBytes'>): Promise<WriteResult> {
    const abs = this.abs(p);
    const hist = this.history(p);
    const cur = await this.resolveExisting(p);
    if (cur?.isDirectory()) throw new BatonError('conflict', `${p.full} is a directory`);
    if (opts.ifNoneMatch && cur) throw new BatonError('precondition_failed', `${p.full} already exists`);
    if (opts.ifMatch !== undefined && (!cur || etagOf(cur) !== opts.ifMatch)) {
      throw new BatonError('precondition_failed', `${p.full} does not match the given etag`);
    }
    let latest = await hist.latest();
    if (cur) {
      const kept = await this.preserveCurrent(p, cur, hist);
      await copyFile(abs, hist.blob(kept.version), fsc.COPYFILE_FICLONE);
      latest = kept;
    }
    if (opts.ifNoneMatch) {
      // link() fails if anything appeared meanwhile: the kernel, not the lock, arbitrates creation.
      try {
        await link(tmp, abs);
      } catch (err) {
        if (errno(err) === 'EEXIST') throw new BatonError('precondition_failed', `${p.full} already exists`);
        throw err;
      }
    } else {
      await rename(tmp, abs);
    }
    const rec: VersionRecord = {
      version: (latest?.version ?? 0) + 1,
      etag: etagOf(tst),
      size: Number(tst.size),
      mimeType: opts.mimeType,
      time: new Date().toISOString(),
      actor: opts.actor,
      deleted: false,
    };
    // Both must be durable before the event and the acknowledgement; neither waits for the other.
    await Promise.all([hist.append(rec), this.syncDir(osDirname(abs))]);
    const result = { entry: this.entryOf(p, tst, rec, rec.etag), created: !cur };
    await opts.onCommit?.(result);
    return result;
  }

  async mkdir(p: BatonPath): Promise<void> {
    if (p.rel === '') return;
    await this.ensureParent(p);
    try {
      await mkdir(this.abs(p));
    } catch (err) {
      if (errno(err) !== 'EEXIST') throw err;
      const st = await this.resolveExisting(p);
      if (!st?.isDirectory()) throw new BatonError('conflict', `${p.full} exists and is a file`);
    }
  }

  async delete(p: BatonPath, opts: { actor: string; ifMatch?: string; onCommit?: CommitHook<EntryMeta> }): Promise<EntryMeta> {
    if (p.rel === '') throw new BatonError('bad_request', 'cannot delete a workspace root');
    return this.locks.run([this.rel(p)], async () => {
      const cur = await this.resolveExisting(p);
      if (!cur) throw new BatonError('not_found', `${p.full} does not exist`);
      const abs = this.abs(p);
      if (cur.isDirectory()) {
        const entry = await this.describe(p, cur);
        try {
          await rmdir(abs);
        } catch (err) {
          if (errno(err) === 'ENOTEMPTY' || errno(err) === 'EEXIST') {
            throw new BatonError('conflict', `${p.full} is a directory that is not empty`);
          }
          throw err;
        }
        return entry;
      }
      if (opts.ifMatch !== undefined && etagOf(cur) !== opts.ifMatch) {
        throw new BatonError('precondition_failed', `${p.full} does not match the given etag`);
      }
      const hist = this.history(p);
      const kept = await this.preserveCurrent(p, cur, hist);
      const entry = this.entryOf(p, cur, kept, kept.etag);
      // Renaming the live file into the history both removes it and keeps its bytes, atomically.
      await rename(abs, hist.blob(kept.version));
      await hist.append({ ...tombstone(kept.version + 1, opts.actor) });
      await this.syncDir(osDirname(abs));
      await opts.onCommit?.(entry);
      return entry;
    });
  }

  async move(from: BatonPath, to: BatonPath, opts: { actor: string; overwrite: boolean; onCommit?: CommitHook<MoveResult> }): Promise<MoveResult> {
    if (from.rel === '' || to.rel === '') throw new BatonError('bad_request', 'cannot move a workspace root');
    if (to.full === from.full) throw new BatonError('bad_request', 'source and destination are the same');
    if (to.full.startsWith(from.full + '/')) throw new BatonError('bad_request', 'cannot move a folder into itself');
    const src = await this.resolveExisting(from);
    if (!src) throw new BatonError('not_found', `${from.full} does not exist`);
    await this.ensureParent(to);
    // A folder's files are locked too, where they are and where they will be: the watcher judges
    // a file under its own path's lock, and must not see it half moved (at its new path before
    // its file.moved is recorded).
    const held = [this.rel(from), this.rel(to)];
    if (src.isDirectory()) {
      for await (const e of this.walk(from, { after: null, recursive: true })) {
        if (e.type === 'file') held.push(e.path.rel, `${to.rel}${e.path.rel.slice(from.rel.length)}`);
      }
    }
    return this.locks.run(held, async () => {
      // Step 1, the arbiter: rename the source into a private staging name. Of many movers
      // exactly one succeeds; the rest find the source gone.
      const staged = this.tmpPath('m');
      try {
        renameSync(this.abs(from), staged);
      } catch (err) {
        if (errno(err) === 'ENOENT') throw new BatonError('not_found', `${from.full} does not exist`);
        throw err;
      }
      const sst = statSync(staged, { bigint: true });
      const fromHist = this.history(from);
      const fromLatest = await fromHist.latest();
      const fromEntry = this.entryOf(from, sst, fromLatest, sst.isDirectory() ? null : etagOf(sst));
      try {
        await this.place(staged, to, sst.isDirectory(), opts.overwrite);
      } catch (err) {
        try {
          renameSync(staged, this.abs(from));
        } catch {
          // the staged entry stays in .baton/tmp; the sweep of old temp files removes it
        }
        throw err;
      }
      const dirs = new Set([osDirname(this.abs(to)), osDirname(this.abs(from))]);
      if (sst.isDirectory()) {
        const files = await this.rehome(from, to, opts.actor);
        await Promise.all([...dirs].map((d) => this.syncDir(d)));
        const moved = { from: fromEntry, to: { ...fromEntry, path: to.full }, files };
        await opts.onCommit?.(moved);
        return moved;
      }
      // The logs and both folders must be durable before the event; none waits for another.
      const [rec] = await Promise.all([this.carryHistory(fromHist, to, fromEntry, fromLatest, opts.actor), ...[...dirs].map((d) => this.syncDir(d))]);
      const moved = { from: fromEntry, to: this.entryOf(to, sst, rec, rec.etag) };
      await opts.onCommit?.(moved);
      return moved;
    });
  }

  /**
   * The version logs of a moved file: its old path ends with a tombstone naming where it went
   * (after a record of its last bytes if they were changed on disk), its new path gains a
   * version by the mover. Returns that version's record.
   */
  private async carryHistory(fromHist: PathHistory, to: BatonPath, fromEntry: EntryMeta, fromLatest: VersionRecord | null, actor: string): Promise<VersionRecord> {
    const fromRecords: VersionRecord[] = [];
    if (!fromLatest || fromLatest.deleted || fromLatest.etag !== fromEntry.etag) fromRecords.push(recordOf(fromEntry, 'fs'));
    fromRecords.push({ ...tombstone(fromEntry.version! + 1, actor), movedTo: to.full });
    const toHist = this.history(to);
    const rec: VersionRecord = { ...recordOf(fromEntry, actor), version: ((await toHist.latest())?.version ?? 0) + 1, time: new Date().toISOString() };
    await Promise.all([fromHist.append(...fromRecords), toHist.append(rec)]);
    return rec;
  }

  /** After a folder was renamed: every file in it moves its history along, as a file move does. */
  private async rehome(from: BatonPath, to: BatonPath, actor: string): Promise<Array<{ from: EntryMeta; to: EntryMeta }>> {
    const out: Array<{ from: EntryMeta; to: EntryMeta }> = [];
    for await (const e of this.walk(to, { after: null, recursive: true })) {
      if (e.type !== 'file') continue;
      const st = lstatSync(this.abs(e.path), { bigint: true, throwIfNoEntry: false });
      if (!st?.isFile()) continue;
      const old = parsePath(from.full + e.path.full.slice(to.full.length));
      const oldHist = this.history(old);
      const oldLatest = await oldHist.latest();
      const oldEntry = this.entryOf(old, st, oldLatest, etagOf(st));
      const rec = await this.carryHistory(oldHist, e.path, oldEntry, oldLatest, actor);
      out.push({ from: oldEntry, to: this.entryOf(e.path, st, rec, rec.etag) });
    }
    return out;
  }

  /** Step 2 of a move: put the staged entry at its destination, keeping anything it replaces. */
  private async place(staged: string, to: BatonPath, isDir: boolean, overwrite: boolean): Promise<void> {
    const dest = this.abs(to);
    const cur = await this.resolveExisting(to);
    if (cur && (!overwrite || cur.isDirectory() || isDir)) {
      throw new BatonError('conflict', `${to.full} already exists`);
    }
    if (isDir) {
      await rename(staged, dest);
      return;
    }
    if (cur) {
      const hist = this.history(to);
      const kept = await this.preserveCurrent(to, cur, hist);
      await copyFile(dest, hist.blob(kept.version), fsc.COPYFILE_FICLONE);
      await rename(staged, dest);
      return;
    }
    try {
      linkSync(staged, dest);
    } catch (err) {
      if (errno(err) === 'EEXIST') throw new BatonError('conflict', `${to.full} already exists`);
      throw err;
    }
    unlinkSync(staged);
  }

  async restore(p: BatonPath, version: number, opts: { actor: string; onCommit?: CommitHook<WriteResult> }): Promise<WriteResult & { restoredFrom: number }> {
    const { entry, body } = await this.readVersion(p, version);
    const mimeType = entry.mimeType ?? guessMimeType(basename(p));
    const result = await this.write(p, body, { mimeType, actor: opts.actor, maxBytes: Number.MAX_SAFE_INTEGER, onCommit: opts.onCommit });
    return { ...result, restoredFrom: version };
  }

  withPathLock<T>(paths: readonly BatonPath[], fn: () => Promise<T>): Promise<T> {
    return this.locks.run(paths.map((x) => this.rel(x)), fn);
  }

  async lastRecord(p: BatonPath): Promise<VersionInfo | null> {
    const rec = await this.history(p).latest();
    if (!rec) return null;
    const { movedTo: _movedTo, ...info } = rec;
    return info;
  }

  // ---- walking ----------------------------------------------------------------------------

  walk(dir: BatonPath, opts: WalkOptions): AsyncIterable<WalkEntry> {
    return this.walkFrom(dir, opts);
  }

  private async *walkFrom(dir: BatonPath, opts: WalkOptions): AsyncGenerator<WalkEntry> {
    const st = await this.resolveExisting(dir);
    if (!st) throw new BatonError('not_found', `${dir.full} does not exist`);
    if (!st.isDirectory()) throw new BatonError('bad_request', `${dir.full} is not a directory`);
    const after = opts.after ? opts.after.segments.slice(dir.segments.length) : null;
    yield* this.walkDir(dir, after, opts);
  }

  /** Depth-first in name order; `after` holds the remaining segments of the resume point. */
  private async *walkDir(dir: BatonPath, after: string[] | null, opts: WalkOptions): AsyncGenerator<WalkEntry> {
    const abs = this.abs(dir);
    const atRoot = dir.rel === '';
    let cursor = after?.[0] ?? null;
    let resumeInside = after !== null && after.length > 1;
    for (;;) {
      let batch;
      try {
        batch = await selectSorted(abs, cursor, resumeInside, WALK_BATCH, (n) => atRoot && n.startsWith('.baton'));
      } catch (err) {
        if (errno(err) === 'ENOENT' || errno(err) === 'ENOTDIR') return;
        throw err;
      }
      for (const d of batch) {
        let child: BatonPath;
        try {
          child = childPath(dir, d.name);
        } catch {
          continue; // a name no client could address (e.g. made by another tool) is not shown
        }
        let isDir = d.isDirectory();
        let st: BigIntStats | null = null;
        if (d.isSymbolicLink()) {
          st = await this.resolveExisting(child).catch(() => null);
          if (!st) continue;
          isDir = st.isDirectory();
        } else if (!isDir && !d.isFile()) {
          continue;
        }
        const resuming = resumeInside && d.name === cursor;
        if (!resuming) {
          const meta = opts.meta ? await this.listedMeta(child, st) : undefined;
          if (opts.meta && !meta) continue;
          yield { path: child, type: isDir ? 'directory' : 'file', meta };
        }
        if (isDir && opts.recursive && (!opts.descend || opts.descend(child))) {
          yield* this.walkDir(child, resuming ? after!.slice(1) : null, opts);
        }
      }
      if (batch.length < WALK_BATCH) return;
      cursor = batch[batch.length - 1]!.name;
      resumeInside = false;
      after = null;
    }
  }

  /**
   * Metadata of an entry the walk just read. A plain entry is lstat'ed, not resolved: it lies in
   * a folder already resolved inside the root, and if it became a symlink meanwhile it is
   * resolved like any other. Undefined when it vanished.
   *
   * The lstat is synchronous on purpose: a page is at most a thousand entries of a local disk,
   * a few microseconds each, where a thousand awaited calls through the thread pool cost ten
   * times as much.
   */
  private async listedMeta(p: BatonPath, resolved: BigIntStats | null): Promise<EntryMeta | undefined> {
    let st = resolved;
    if (!st) {
      try {
        st = lstatSync(this.abs(p), { bigint: true, throwIfNoEntry: false }) ?? null;
      } catch (err) {
        if (errno(err) === 'ENOTDIR') return undefined;
        throw err;
      }
      if (!st) return undefined;
      if (st.isSymbolicLink()) st = await this.resolveExisting(p).catch(() => null);
      if (!st) return undefined;
    }
    return this.describeListed(p, st);
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

function tombstone(version: number, actor: string): VersionRecord {
  return { version, etag: null, size: 0, mimeType: null, time: new Date().toISOString(), actor, deleted: true };
}

function recordOf(e: EntryMeta, actor: string): VersionRecord {
  return {
    version: e.version!,
    etag: e.etag,
    size: e.size,
    mimeType: e.mimeType,
    time: e.modifiedAt,
    actor,
    deleted: false,
  };
}
