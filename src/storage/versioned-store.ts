import type { Readable } from 'node:stream';
import { BatonError } from '../core/errors.js';
import { guessMimeType } from '../core/mime.js';
import { basename, parsePath, type BatonPath } from '../core/paths.js';
import type { FileHead, HeldLock, PathLog, Spooled, StorageBackend } from './backend.js';
import type {
  CommitHook,
  EntryMeta,
  MoveResult,
  ObservedState,
  ObserveContext,
  OutsideWatcher,
  StorageDriver,
  VersionInfo,
  WalkEntry,
  WalkOptions,
  WriteOptions,
  WriteResult,
} from './driver.js';
import type { VersionRecord } from './version-log.js';

/** Content types that say nothing: bytes stored with them are typed by their name instead. */
const GENERIC_TYPES = new Set(['binary/octet-stream', 'application/octet-stream', '']);
/**
 * Version records kept in memory for listings; past this many the cache starts over. Enough for
 * the folders agents list again and again; a listing of a larger tree reads the logs as its first
 * listing did, instead of keeping a record (about 200 bytes of heap) for every file in it.
 */
const LISTING_CACHE_MAX = 10_000;

/**
 * Version semantics, once for every backend. Each path has a log of version records; the bytes
 * of a superseded version are kept beside it. The rules:
 *
 * - A change of a path runs under the path's lock: preconditions, keeping the bytes being
 *   replaced, putting the new bytes, logging, and the commit hook (the event), in that order.
 * - Bytes being replaced or removed are kept as a version first, so every version stays
 *   restorable; a move carries the bytes, so the source's log ends with a tombstone naming
 *   where they went.
 * - Bytes written behind Baton's back are one version past what the log knows, by the
 *   backend's outside actor, until a change records them.
 * - Versions are numbered from 1 without gaps or reuse, across deletions, moves and changes
 *   made behind Baton's back: every version is logged when it is written, so a foreign
 *   overwrite or removal of the live bytes cannot take its number.
 */
export class VersionedStore implements StorageDriver {
  /**
   * The last version record read for a path, with the etag of the bytes it was read for. A
   * listing trusts it only while the file still has that etag: any write, by this process or
   * another, changes the etag.
   */
  private readonly listingRecords = new Map<string, { etag: string; rec: VersionRecord | null }>();

  /**
   * Per state `observedState` returned: the version record its log lacks (a record for foreign
   * bytes, a tombstone for a foreign removal) and the log it read, so noting it reads nothing
   * again. Held by the state object only as long as the observer holds that.
   */
  private readonly unlogged = new WeakMap<ObservedState, { log: PathLog; rec: VersionRecord | null }>();

  private folders: readonly string[] = [];
  private foldersPending = false;

  /** Set once the backend is loaded: at construction, or in `init` when it loads on first use. */
  private backend!: StorageBackend;
  private readonly loading: Promise<StorageBackend> | null;

  constructor(
    private readonly workspace: string,
    readonly name: string,
    backend: StorageBackend | Promise<StorageBackend>,
  ) {
    if (backend instanceof Promise) {
      this.loading = backend;
      backend.catch(() => undefined);
    } else {
      this.loading = null;
      this.backend = backend;
    }
  }

  get capabilities() {
    return this.backend.capabilities;
  }

  get outsideActor(): string {
    return this.backend.outsideActor;
  }

  async init(folders: readonly string[]): Promise<void> {
    this.folders = folders;
    if (this.loading) this.backend = await this.loading;
    await this.backend.init();
    try {
      for (const f of this.folders) await this.mkdir(parsePath(`/${this.workspace}/${f}`));
    } catch (err) {
      // Storage may be down right now: the workspace still opens (answering `unavailable`
      // until it is back, with /readyz saying so) and `check` makes the folders when it returns.
      if (!(err instanceof BatonError && err.code === 'unavailable')) throw err;
      this.foldersPending = true;
    }
  }

  async check(): Promise<void> {
    await this.backend.check();
    if (this.foldersPending) {
      for (const f of this.folders) await this.mkdir(parsePath(`/${this.workspace}/${f}`));
      this.foldersPending = false;
    }
  }

  close(): Promise<void> {
    return this.backend.close();
  }

  observe(ctx: ObserveContext): OutsideWatcher {
    return this.backend.observe(this, ctx);
  }

  // ---- describing -------------------------------------------------------------------------

  private foreignMime(p: BatonPath, h: FileHead): string {
    const t = h.contentType?.trim() ?? '';
    return GENERIC_TYPES.has(t) ? guessMimeType(basename(p)) : t;
  }

  private fileEntry(p: BatonPath, h: FileHead, version: number, mimeType: string | null): EntryMeta {
    return { path: p.full, type: 'file', size: h.size, etag: h.etag, mimeType, modifiedAt: h.modifiedAt, version };
  }

  private dirEntry(p: BatonPath, modifiedAt: string): EntryMeta {
    return { path: p.full, type: 'directory', size: 0, etag: null, mimeType: null, modifiedAt, version: null };
  }

  /** Describe live bytes: by their stamp, else by the log's last record, else as foreign bytes. */
  private describe(p: BatonPath, h: FileHead, latest: VersionRecord | null): EntryMeta {
    if (h.stamp) return this.fileEntry(p, h, h.stamp.version, h.contentType ?? guessMimeType(basename(p)));
    if (latest && !latest.deleted && latest.etag === h.etag) return this.fileEntry(p, h, latest.version, latest.mimeType);
    return this.fileEntry(p, h, (latest?.version ?? 0) + 1, this.foreignMime(p, h));
  }

  private async describeFile(p: BatonPath, h: FileHead, log?: PathLog): Promise<EntryMeta> {
    if (h.stamp) return this.describe(p, h, null);
    return this.describe(p, h, await (log ?? this.backend.log(p)).latest());
  }

  /** `describeFile` for a listing: the log record comes from the cache while the etag matches. */
  private async describeListed(p: BatonPath, h: FileHead): Promise<EntryMeta> {
    if (h.stamp) return this.describe(p, h, null);
    let cached = this.listingRecords.get(p.full);
    if (!cached || cached.etag !== h.etag) {
      if (this.listingRecords.size >= LISTING_CACHE_MAX) this.listingRecords.clear();
      cached = { etag: h.etag, rec: await this.backend.log(p).latest() };
      this.listingRecords.set(p.full, cached);
    }
    return this.describe(p, h, cached.rec);
  }

  /** The log's record of the live bytes: its last one if that describes them, else a new one. */
  private recordOf(p: BatonPath, h: FileHead, latest: VersionRecord | null): VersionRecord {
    if (latest && !latest.deleted && latest.etag === h.etag) return latest;
    const next = (latest?.version ?? 0) + 1;
    const stamp = h.stamp;
    return {
      version: stamp && stamp.version >= next ? stamp.version : next,
      etag: h.etag,
      size: h.size,
      mimeType: stamp ? (h.contentType ?? guessMimeType(basename(p))) : this.foreignMime(p, h),
      time: h.modifiedAt,
      actor: stamp?.actor ?? this.backend.outsideActor,
      deleted: false,
    };
  }

  /**
   * Make sure the live bytes are in the log (and, unless they are about to travel with a move,
   * kept as a version) before they are replaced or removed. Returns their record.
   */
  private async preserve(p: BatonPath, h: FileHead, log: PathLog, opts: { keepBytes: boolean }): Promise<VersionRecord> {
    const latest = await log.latest();
    const rec = this.recordOf(p, h, latest);
    await Promise.all([rec === latest ? null : log.append(rec), opts.keepBytes ? this.backend.keep(p, h, rec.version) : null]);
    return rec;
  }

  // ---- reads ------------------------------------------------------------------------------

  async stat(p: BatonPath): Promise<EntryMeta | null> {
    const h = await this.backend.head(p);
    if (!h) return null;
    if (h.type === 'directory') return this.dirEntry(p, h.modifiedAt);
    return this.describeFile(p, h.file);
  }

  async read(p: BatonPath, opts: { version?: number } = {}): Promise<{ entry: EntryMeta; body: Readable }> {
    if (opts.version !== undefined) return this.readVersion(p, opts.version);
    const got = await this.backend.get(p);
    if (got === null) throw new BatonError('not_found', `${p.full} does not exist`);
    if (got === 'directory') throw new BatonError('bad_request', `${p.full} is a directory`);
    try {
      return { entry: await this.describeFile(p, got.head), body: got.body };
    } catch (err) {
      got.body.destroy();
      throw err;
    }
  }

  private async readVersion(p: BatonPath, version: number): Promise<{ entry: EntryMeta; body: Readable }> {
    const log = this.backend.log(p);
    const [records, cur] = await Promise.all([log.all(), this.backend.headFile(p)]);
    if (cur && this.describe(p, cur, records.at(-1) ?? null).version === version) {
      const live = await this.read(p).catch(() => null);
      if (live && live.entry.version === version) return live;
      live?.body.destroy();
    }
    const rec = records.find((r) => r.version === version);
    if (!rec) throw new BatonError('not_found', `${p.full} has no version ${version}`);
    if (rec.deleted) throw new BatonError('not_found', `version ${version} of ${p.full} is a deletion marker`);
    const body = await this.backend.getVersion(p, version);
    if (!body) throw new BatonError('not_found', `version ${version} of ${p.full}: ${goneWhy(records, version)}`);
    const entry: EntryMeta = { path: p.full, type: 'file', size: rec.size, etag: rec.etag, mimeType: rec.mimeType, modifiedAt: rec.time, version: rec.version };
    return { entry, body };
  }

  async versions(p: BatonPath): Promise<VersionInfo[]> {
    const [records, cur] = await Promise.all([this.backend.log(p).all(), this.backend.head(p)]);
    if (cur?.type === 'directory') throw new BatonError('bad_request', `${p.full} is a directory`);
    const out: VersionInfo[] = records.map(withoutMovedTo);
    if (cur) {
      const rec = this.recordOf(p, cur.file, records.at(-1) ?? null);
      if (rec !== records.at(-1)) out.push(withoutMovedTo(rec));
    }
    if (out.length === 0) throw new BatonError('not_found', `${p.full} has no versions`);
    return out.reverse();
  }

  async lastRecord(p: BatonPath): Promise<VersionInfo | null> {
    const rec = await this.backend.log(p).latest();
    return rec ? withoutMovedTo(rec) : null;
  }

  async observedState(p: BatonPath): Promise<ObservedState | null> {
    const log = this.backend.log(p);
    const [h, rec] = await Promise.all([this.backend.headFile(p), log.latest()]);
    const outside = this.backend.outsideActor;
    if (h) {
      const entry = this.describe(p, h, rec);
      // Bytes whose stamp or log record names a Baton writer were written by Baton: a write cut
      // short by a crash before its event is reported with its agent, not as foreign.
      const logged = rec && !rec.deleted && rec.etag === h.etag && rec.actor !== outside ? rec.actor : null;
      const recorded = this.recordOf(p, h, rec);
      return this.observed({ entry, actor: h.stamp?.actor ?? logged ?? outside, deletedVersion: null }, log, recorded === rec ? null : recorded);
    }
    // A folder now where a file was is left to the walk: only a vanished path is a deletion.
    if (await this.backend.head(p)) return null;
    const state: ObservedState = {
      entry: null,
      actor: rec?.deleted && rec.actor !== outside ? rec.actor : outside,
      // A tombstone Baton wrote has the deletion's version; a foreign removal takes the next one.
      deletedVersion: rec?.deleted ? rec.version : rec ? rec.version + 1 : null,
    };
    return this.observed(state, log, rec && !rec.deleted ? tombstone(rec.version + 1, outside) : null);
  }

  /** Remember, for `noteOutsideChanges`, the record the log lacks for what was observed, and the log read. */
  private observed(state: ObservedState, log: PathLog, unlogged: VersionRecord | null): ObservedState {
    this.unlogged.set(state, { log, rec: unlogged });
    return state;
  }

  async noteOutsideChanges(observed: ReadonlyArray<{ path: BatonPath; state: ObservedState }>): Promise<void> {
    await Promise.all(
      observed.map(({ path, state }) => {
        const known = this.unlogged.get(state);
        if (!known) throw new BatonError('internal', `${path.full}: noting an outside change this store did not observe`);
        // The log that was read appends: it knows whether it exists, so a new one is made without a probe.
        return known.rec ? known.log.append(known.rec) : null;
      }),
    );
  }

  // ---- writes -----------------------------------------------------------------------------

  /**
   * Why a new file could not be created at `p`, or null. Asked beside the head of the path
   * itself: its answer only matters when nothing is there.
   */
  private creationProblem(p: BatonPath): Promise<unknown> {
    return this.backend.prepareCreate(p).then(
      () => null,
      (err: unknown) => err,
    );
  }

  async write(p: BatonPath, body: Readable, opts: WriteOptions): Promise<WriteResult> {
    if (p.rel === '') {
      body.destroy();
      throw new BatonError('bad_request', 'cannot write a workspace root');
    }
    const spooled = await this.backend.spool(body, {
      maxBytes: opts.maxBytes,
      // Before streaming a large body anywhere: refuse early what the precondition will refuse.
      beforeLarge: async () => {
        if (!opts.ifNoneMatch && opts.ifMatch === undefined) return;
        checkPreconditions(p, await this.backend.headFile(p), opts);
      },
    });
    try {
      return await this.backend.lock([p], (lock) => this.commitWrite(p, spooled, opts, lock));
    } finally {
      await spooled.discard().catch(() => undefined);
    }
  }

  /** Under the path lock: check preconditions, keep the prior version, put the new bytes, log, commit. */
  private async commitWrite(p: BatonPath, src: Spooled, opts: Omit<WriteOptions, 'maxBytes'>, lock: HeldLock): Promise<WriteResult> {
    const log = this.backend.log(p);
    const [cur, latestLogged, problem] = await Promise.all([
      this.backend.headFile(p),
      log.latest(),
      this.creationProblem(p),
    ]);
    if (!cur && problem) throw problem;
    checkPreconditions(p, cur, opts);
    const latest = cur ? await this.preserve(p, cur, log, { keepBytes: true }) : latestLogged;
    const version = (latest?.version ?? 0) + 1;
    const entry = await this.putVersion(p, src, log, lock, { version, actor: opts.actor, mimeType: opts.mimeType, createOnly: !!opts.ifNoneMatch, replaces: cur });
    if (entry === 'exists') throw new BatonError('precondition_failed', `${p.full} already exists`);
    const result: WriteResult = { entry, created: !cur };
    await opts.onCommit?.(result);
    return result;
  }

  /** Put spooled bytes in place as `version` and log it, durably; 'exists' when create-only found something there. */
  private async putVersion(
    p: BatonPath,
    src: Spooled,
    log: PathLog,
    lock: HeldLock,
    v: { version: number; actor: string; mimeType: string; createOnly: boolean; replaces: FileHead | null },
  ): Promise<EntryMeta | 'exists'> {
    await lock.assertHeld();
    const put = await this.backend.put(p, src, { createOnly: v.createOnly, replaces: v.replaces, mimeType: v.mimeType, stamp: { version: v.version, actor: v.actor } }, lock);
    if (put === 'exists') return 'exists';
    const rec: VersionRecord = { version: v.version, etag: put.etag, size: put.size, mimeType: v.mimeType, time: new Date().toISOString(), actor: v.actor, deleted: false };
    // The record and the folder entry must be durable before the event and the acknowledgement;
    // neither waits for the other.
    await Promise.all([log.append(rec), this.backend.durable([p])]);
    return this.fileEntry(p, put, v.version, v.mimeType);
  }

  async mkdir(p: BatonPath): Promise<void> {
    if (p.rel === '') return;
    await this.backend.mkdir(p);
  }

  async delete(p: BatonPath, opts: { actor: string; ifMatch?: string; onCommit?: CommitHook<EntryMeta> }): Promise<EntryMeta> {
    if (p.rel === '') throw new BatonError('bad_request', 'cannot delete a workspace root');
    return this.backend.lock([p], async (lock) => {
      const cur = await this.backend.head(p);
      if (!cur) throw new BatonError('not_found', `${p.full} does not exist`);
      if (cur.type === 'directory') {
        const entry = this.dirEntry(p, cur.modifiedAt);
        if ((await this.backend.removeFolder(p)) === 'not_empty') throw new BatonError('conflict', `${p.full} is a directory that is not empty`);
        return entry;
      }
      const h = cur.file;
      if (opts.ifMatch !== undefined && h.etag !== opts.ifMatch) throw new BatonError('precondition_failed', `${p.full} does not match the given etag`);
      const log = this.backend.log(p);
      const kept = await this.preserve(p, h, log, { keepBytes: false });
      await lock.assertHeld();
      await this.backend.remove(p, h, kept.version, lock);
      await Promise.all([log.append(tombstone(kept.version + 1, opts.actor)), this.backend.durable([p])]);
      const entry = this.fileEntry(p, h, kept.version, kept.mimeType);
      await opts.onCommit?.(entry);
      return entry;
    });
  }

  async move(from: BatonPath, to: BatonPath, opts: { actor: string; overwrite: boolean; onCommit?: CommitHook<MoveResult> }): Promise<MoveResult> {
    if (from.rel === '' || to.rel === '') throw new BatonError('bad_request', 'cannot move a workspace root');
    if (to.full === from.full) throw new BatonError('bad_request', 'source and destination are the same');
    if (to.full.startsWith(from.full + '/')) throw new BatonError('bad_request', 'cannot move a folder into itself');
    const src = await this.backend.head(from);
    if (!src) throw new BatonError('not_found', `${from.full} does not exist`);
    if (src.type === 'directory') return this.moveFolder(from, to, opts);
    return this.backend.lock([from, to], async (lock) => {
      const fromLog = this.backend.log(from);
      const toLog = this.backend.log(to);
      const [cur, dest, toLatest, problem] = await Promise.all([
        this.backend.headFile(from),
        this.backend.headFile(to),
        toLog.latest(),
        this.creationProblem(to),
      ]);
      if (!cur) throw new BatonError('not_found', `${from.full} does not exist`);
      if (dest && !opts.overwrite) throw new BatonError('conflict', `${to.full} already exists`);
      if (!dest && problem) throw problem;
      // The source's version is logged before its bytes travel (a crash mid-move must not lose
      // which version they were); a replaced destination keeps its bytes as a version.
      const [fromRec, destRec] = await Promise.all([
        this.preserve(from, cur, fromLog, { keepBytes: false }),
        dest ? this.preserve(to, dest, toLog, { keepBytes: true }) : null,
      ]);
      const version = ((destRec ?? toLatest)?.version ?? 0) + 1;
      const fromEntry = this.fileEntry(from, cur, fromRec.version, fromRec.mimeType);
      await lock.assertHeld();
      const moved = await this.backend.rename(from, to, { source: cur, replaces: dest, mimeType: fromRec.mimeType ?? guessMimeType(basename(to)), stamp: { version, actor: opts.actor } }, lock);
      if (moved === 'gone') throw new BatonError('not_found', `${from.full} does not exist`);
      if (moved === 'exists') throw new BatonError('conflict', `${to.full} already exists`);
      if (moved === 'busy') throw new BatonError('conflict', `${from.full} is being moved by another request`);
      await this.carryHistory(fromLog, toLog, fromRec, to, moved, version, opts.actor);
      await this.backend.durable([from, to]);
      const result: MoveResult = { from: fromEntry, to: this.fileEntry(to, moved, version, fromRec.mimeType) };
      await opts.onCommit?.(result);
      return result;
    });
  }

  /** The source's log ends with a tombstone naming where the bytes went; the destination gains a version by the mover. */
  private async carryHistory(fromLog: PathLog, toLog: PathLog, fromRec: VersionRecord, to: BatonPath, moved: FileHead, version: number, actor: string): Promise<void> {
    const toRec: VersionRecord = { version, etag: moved.etag, size: moved.size, mimeType: fromRec.mimeType, time: new Date().toISOString(), actor, deleted: false };
    await Promise.all([
      fromLog.append({ ...tombstone(fromRec.version + 1, actor), movedTo: to.full }),
      toLog.append(toRec),
    ]);
  }

  /**
   * A folder moves in one step where the backend can; then every file in it moves its history
   * along, as a file move does. Its files are locked too, where they are and where they will be:
   * an observer judges a file under its own path's lock and must not see it half moved.
   */
  private async moveFolder(from: BatonPath, to: BatonPath, opts: { actor: string; onCommit?: CommitHook<MoveResult> }): Promise<MoveResult> {
    if (!this.backend.capabilities.folderMoves) {
      throw new BatonError('bad_request', `${from.full} is a folder; folders of ${this.backend.name} workspaces cannot be moved, move its files instead`);
    }
    const held: BatonPath[] = [from, to];
    for await (const batch of this.backend.list(from, { after: null, recursive: true })) {
      for (const e of batch) if (e.type === 'file') held.push(e.path, parsePath(to.full + e.path.full.slice(from.full.length)));
    }
    return this.backend.lock(held, async (lock) => {
      const src = await this.backend.head(from);
      if (!src) throw new BatonError('not_found', `${from.full} does not exist`);
      if (src.type !== 'directory') throw new BatonError('conflict', `${from.full} changed while being moved; try again`);
      await lock.assertHeld();
      const outcome = await this.backend.renameFolder(from, to);
      if (outcome === 'gone') throw new BatonError('not_found', `${from.full} does not exist`);
      if (outcome === 'exists') throw new BatonError('conflict', `${to.full} already exists`);
      const files: Array<{ from: EntryMeta; to: EntryMeta }> = [];
      for await (const batch of this.backend.list(to, { after: null, recursive: true })) {
        for (const e of batch) {
          if (e.type !== 'file') continue;
          const h = await this.backend.headFile(e.path);
          if (!h) continue;
          const old = parsePath(from.full + e.path.full.slice(to.full.length));
          const oldLog = this.backend.log(old);
          const toLog = this.backend.log(e.path);
          const oldRec = await this.preserve(old, h, oldLog, { keepBytes: false });
          const version = ((await toLog.latest())?.version ?? 0) + 1;
          await this.carryHistory(oldLog, toLog, oldRec, e.path, h, version, opts.actor);
          files.push({ from: this.fileEntry(old, h, oldRec.version, oldRec.mimeType), to: this.fileEntry(e.path, h, version, oldRec.mimeType) });
        }
      }
      await this.backend.durable([from, to]);
      const fromEntry = this.dirEntry(from, src.modifiedAt);
      const moved: MoveResult = { from: fromEntry, to: { ...fromEntry, path: to.full }, files };
      await opts.onCommit?.(moved);
      return moved;
    });
  }

  async restore(p: BatonPath, version: number, opts: { actor: string; onCommit?: CommitHook<WriteResult> }): Promise<WriteResult & { restoredFrom: number }> {
    return this.backend.lock([p], async (lock) => {
      const log = this.backend.log(p);
      const [cur, records, problem] = await Promise.all([
        this.backend.headFile(p),
        log.all(),
        this.creationProblem(p),
      ]);
      if (!cur && problem) throw problem;
      const curRec = cur ? this.recordOf(p, cur, records.at(-1) ?? null) : null;
      const rec = curRec?.version === version ? curRec : records.find((r) => r.version === version);
      if (!rec) throw new BatonError('not_found', `${p.full} has no version ${version}`);
      if (rec.deleted) throw new BatonError('not_found', `version ${version} of ${p.full} is a deletion marker`);
      // The live bytes are kept first, so restoring the live version reads them from the kept copy.
      const kept = cur ? await this.preserve(p, cur, log, { keepBytes: true }) : null;
      const source = await this.backend.spoolVersion(p, version).catch((err: unknown) => {
        if (err instanceof BatonError && err.code === 'not_found') throw new BatonError('not_found', `version ${version} of ${p.full}: ${goneWhy(records, version)}`);
        throw err;
      });
      try {
        const next = ((kept ?? records.at(-1))?.version ?? 0) + 1;
        const mimeType = rec.mimeType ?? guessMimeType(basename(p));
        const entry = await this.putVersion(p, source, log, lock, { version: next, actor: opts.actor, mimeType, createOnly: false, replaces: cur });
        if (entry === 'exists') throw new BatonError('conflict', `${p.full} changed while being restored; try again`);
        const result = { entry, created: !cur, restoredFrom: version };
        await opts.onCommit?.(result);
        return result;
      } finally {
        await source.discard().catch(() => undefined);
      }
    });
  }

  withPathLock<T>(paths: readonly BatonPath[], fn: () => Promise<T>): Promise<T> {
    return this.backend.lock(paths, () => fn());
  }

  // ---- walking ----------------------------------------------------------------------------

  async *walk(dir: BatonPath, opts: WalkOptions): AsyncGenerator<readonly WalkEntry[]> {
    if (dir.rel !== '') {
      const h = await this.backend.head(dir);
      if (!h) throw new BatonError('not_found', `${dir.full} does not exist`);
      if (h.type !== 'directory') throw new BatonError('bad_request', `${dir.full} is not a directory`);
    }
    for await (const batch of this.backend.list(dir, opts)) {
      if (!opts.meta) {
        yield batch;
        continue;
      }
      const out: WalkEntry[] = [];
      for (const e of batch) {
        if (!e.head) out.push({ path: e.path, type: e.type });
        else out.push({ path: e.path, type: e.type, meta: e.head.type === 'directory' ? this.dirEntry(e.path, e.head.modifiedAt) : await this.describeListed(e.path, e.head.file) });
      }
      yield out;
    }
  }
}

function checkPreconditions(p: BatonPath, cur: FileHead | null, opts: { ifMatch?: string; ifNoneMatch?: boolean }): void {
  if (opts.ifNoneMatch && cur) throw new BatonError('precondition_failed', `${p.full} already exists`);
  if (opts.ifMatch !== undefined && cur?.etag !== opts.ifMatch) throw new BatonError('precondition_failed', `${p.full} does not match the given etag`);
}

/** Why a version's bytes are not kept: a move took them (its tombstone, the next record, says where), or they were dropped. */
function goneWhy(records: readonly VersionRecord[], version: number): string {
  const movedTo = records.find((r) => r.version === version + 1 && r.deleted)?.movedTo;
  return movedTo ? `its bytes were moved to ${movedTo}` : 'its bytes are no longer kept';
}

function tombstone(version: number, actor: string): VersionRecord {
  return { version, etag: null, size: 0, mimeType: null, time: new Date().toISOString(), actor, deleted: true };
}

function withoutMovedTo(rec: VersionRecord): VersionInfo {
  const { movedTo: _movedTo, ...info } = rec;
  return info;
}
