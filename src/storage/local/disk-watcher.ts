import { lstatSync, statSync, type BigIntStats, type Dir } from 'node:fs';
import { opendir } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import type { Logger } from 'pino';
import { childPath, parsePath, workspaceRoot, type BatonPath } from '../../core/paths.js';
import type { Recorder } from '../../core/recorder.js';
import type { BatonEvent } from '../../events/event.js';
import type { EventLog } from '../../events/event-log.js';
import type { WorkspaceDefinition } from '../../workspaces/definition.js';
import type { ObserveContext, OutsideWatcher, StorageDriver } from '../driver.js';
import { reportOutsideChange, reportOutsideChanges } from '../observed-change.js';
import { PathQueue } from '../path-queue.js';
import { registerBacklogSource } from '../../observability/backlog-sources.js';
import { etagOf } from './etag.js';
import { FolderWatches } from './folder-watches.js';

const SETTLE_MS = 1000;

function errno(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException)?.code;
}
/** How long a path must be quiet before it is checked, so a file being written is seen once, whole. */
const QUIET_MS = 150;
/** How many changed paths are judged together, under their locks at once, with one event append. */
const JUDGE_BATCH = 64;
/** How many such batches are judged at once: each waits on the disk, Redis and its locks, not on the others. */
const BATCHES_AT_ONCE = 2;
/** Paths compared with the index per lookup during a rescan. */
const SCAN_CHUNK = 1000;
/** A rescan walks on only while fewer paths than this wait to be judged: it keeps pace with the judging. */
const SCAN_AHEAD = 2048;
/** Paths whose last recorded etag is remembered; past this many the memory starts over. */
const RECORDED_MAX = 50_000;

/**
 * Reports files that change on a local workspace's disk without Baton: folder watches for speed, a
 * periodic rescan and a start-up reconcile for completeness (a folder watch misses files in
 * large bursts and in folders made a moment earlier, and nothing watches while Baton is down).
 *
 * Every path is judged against the event index (path → etag of its last event) while holding
 * the path's lock, the same lock Baton's own writes hold while they record their event. So a
 * change Baton made is never reported twice, and a change seen by both a watch and a rescan
 * is reported once. A change whose version record names an agent (an acknowledged-or-not write
 * cut short by a crash before its event) is reported with that agent as actor, not `fs`.
 */
export class DiskWatcher implements OutsideWatcher {
  private watches: FolderWatches | null = null;
  private timer: NodeJS.Timeout | null = null;
  private scanning: Promise<void> | null = null;
  private unregisterBacklog: (() => void) | null = null;
  private readonly queue = new PathQueue((batch) => this.checkAll(batch));
  private readonly settling = new Map<string, NodeJS.Timeout>();
  /**
   * The etag of the last file event this process recorded per path for a Baton writer. Most
   * changes the watches report are this process's own writes: a path whose bytes still carry
   * that etag needs no further look (no Redis, no lock). Outside changes are not remembered (a
   * start-up reconcile of a large tree would fill this with files nobody asked about); a second
   * look at one costs a share of one index lookup per batch.
   */
  private readonly recorded = new Map<string, string>();
  private unlisten: (() => void) | null = null;
  private stopped = false;
  private readonly def: WorkspaceDefinition;
  private readonly events: EventLog;
  private readonly recorder: Recorder;
  private readonly rescanMs: number;
  private readonly log: Logger;

  constructor(
    private readonly ctx: ObserveContext,
    private readonly driver: StorageDriver,
    private readonly rootDir: string,
  ) {
    ({ def: this.def, events: this.events, recorder: this.recorder, rescanMs: this.rescanMs, log: this.log } = ctx);
  }

  async start(): Promise<void> {
    this.unregisterBacklog = registerBacklogSource(this.def.name, () => this.settling.size + this.queue.size);
    this.unlisten = this.recorder.onEvent((e) => {
      this.remember(e);
      return Promise.resolve();
    });
    this.watches = new FolderWatches(this.rootDir, (abs) => this.isMeta(abs), {
      change: (abs) => this.settleThenCheck(abs),
      folder: () => this.rescanSoon(),
      lost: (err) => {
        this.log.warn({ workspace: this.def.name, err: String(err) }, 'watcher error; rescanning');
        this.rescanSoon();
      },
    });
    await this.watches.start();
    this.rescanSoon();
    this.timer = setInterval(() => this.rescanSoon(), this.rescanMs);
  }

  private remember(e: BatonEvent): void {
    if (e.workspace !== this.def.name || !e.event.startsWith('file.')) return;
    if (this.recorded.size >= RECORDED_MAX) this.recorded.clear();
    if (e.from) this.recorded.delete(e.from);
    if (e.event === 'file.deleted' || e.etag === null || e.actor === this.driver.outsideActor) this.recorded.delete(e.path);
    else this.recorded.set(e.path, e.etag);
  }

  private isMeta(abs: string): boolean {
    return relative(this.rootDir, abs).split(sep).some((s) => s.startsWith('.baton'));
  }

  /** A file still being written keeps producing events: check it once they stop for a moment. */
  private settleThenCheck(abs: string): void {
    if (this.stopped) return;
    clearTimeout(this.settling.get(abs));
    this.settling.set(
      abs,
      setTimeout(() => {
        this.settling.delete(abs);
        this.enqueue(abs);
      }, QUIET_MS),
    );
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.unregisterBacklog?.();
    this.unlisten?.();
    if (this.timer) clearInterval(this.timer);
    for (const t of this.settling.values()) clearTimeout(t);
    this.settling.clear();
    this.watches?.close();
    // The queue first: a rescan waits for it to drain, and a stopped queue ends after its batch.
    const queueStopped = this.queue.stop();
    await this.scanning;
    await queueStopped;
  }

  private toPath(abs: string): BatonPath | null {
    const rel = relative(this.rootDir, abs);
    if (!rel || rel.startsWith('..')) return null;
    try {
      return parsePath(`/${this.def.name}/${rel.split(sep).join('/')}`);
    } catch {
      return null;
    }
  }

  private enqueue(abs: string): void {
    const p = this.toPath(abs);
    if (!p) return;
    this.queue.add(p);
  }

  /**
   * Check a batch of paths: those whose bytes are this process's last recorded write, or that
   * the index already describes, are settled without a lock; the rest are judged under their
   * locks, JUDGE_BATCH at a time, BATCHES_AT_ONCE batches at once.
   */
  private async checkAll(paths: readonly BatonPath[]): Promise<void> {
    const candidates: Array<{ p: BatonPath; etag: string | null }> = [];
    const differ: BatonPath[] = [];
    for (const p of paths) {
      const seen = this.quickLook(p);
      if (seen === 'judge') differ.push(p);
      else if (seen !== 'settled') candidates.push({ p, etag: seen.etag });
    }
    try {
      const known = await this.events.indexedMany(
        this.def.name,
        candidates.map((c) => c.p.full),
      );
      candidates.forEach((c, i) => {
        if (c.etag !== (known[i] ?? null)) differ.push(c.p);
      });
    } catch (err) {
      this.log.warn({ workspace: this.def.name, err: String(err) }, 'could not read the event index; judging every changed path');
      differ.push(...candidates.map((c) => c.p));
    }
    let i = 0;
    const next = async (): Promise<void> => {
      while (i < differ.length && !this.stopped) {
        const batch = differ.slice(i, i + JUDGE_BATCH);
        i += batch.length;
        await this.judge(batch);
      }
    };
    await Promise.all(Array.from({ length: Math.min(BATCHES_AT_ONCE, Math.ceil(differ.length / JUDGE_BATCH)) }, next));
  }

  /**
   * What a path holds, without a lock: 'settled' if nothing need be judged (a folder, left to the
   * walk; or bytes this process recorded last), 'judge' for anything but a plain file or nothing
   * (what a symlink stands for is the store's call), else the etag of the file there, or null if
   * there is none, to compare with the index.
   */
  private quickLook(p: BatonPath): { etag: string | null } | 'settled' | 'judge' {
    const st = lstatSync(this.absOf(p), { bigint: true, throwIfNoEntry: false });
    if (!st) return { etag: null };
    if (st.isDirectory()) return 'settled';
    if (!st.isFile()) return 'judge';
    const etag = etagOf(st);
    return this.recorded.get(p.full) === etag ? 'settled' : { etag };
  }

  /** Judge paths under their locks; if the batch fails, each path alone, so one bad path costs only itself. */
  private async judge(batch: BatonPath[]): Promise<void> {
    try {
      await reportOutsideChanges(this.driver, this.ctx, batch);
      return;
    } catch (err) {
      this.log.warn({ workspace: this.def.name, paths: batch.length, err: String(err) }, 'could not judge a batch of changed paths; judging them one by one');
    }
    for (const p of batch) {
      if (this.stopped) return;
      await reportOutsideChange(this.driver, this.ctx, p).catch((err: unknown) => this.log.warn({ path: p.full, err: String(err) }, 'could not check a changed path'));
    }
  }

  private absOf(p: BatonPath): string {
    return join(this.rootDir, ...p.segments.slice(1));
  }

  rescanSoon(): void {
    if (this.stopped) return;
    this.scanning ??= this.rescan()
      .catch((err) => this.log.warn({ workspace: this.def.name, err: String(err) }, 'rescan failed'))
      .finally(() => (this.scanning = null));
  }

  /**
   * Compare the whole tree with the event index and queue every difference to be judged under
   * its lock. Only the etag is needed to compare, so a file costs one stat. The tree and the
   * index are compared a chunk at a time, so a rescan holds no per-file structure for the whole
   * workspace.
   */
  private async rescan(): Promise<void> {
    const ws = this.def.name;
    let unsettled = false;
    let chunk: Array<{ p: BatonPath; etag: string }> = [];
    const flush = async () => {
      const known = await this.events.indexedMany(
        ws,
        chunk.map((c) => c.p.full),
      );
      chunk.forEach((c, i) => {
        if (known[i] !== c.etag) this.queue.add(c.p);
      });
      chunk = [];
      await this.queue.room(SCAN_AHEAD);
    };
    for await (const { p, st } of this.files(this.rootDir, workspaceRoot(ws))) {
      if (this.stopped) return;
      // A file modified a moment ago may still be being written: its folder watch reports it once it
      // settles, and the next pass catches it if the watch does not.
      if (Date.now() - Number(st.mtimeMs) < SETTLE_MS) {
        unsettled = true;
        continue;
      }
      chunk.push({ p, etag: etagOf(st) });
      if (chunk.length >= SCAN_CHUNK) await flush();
    }
    await flush();
    // Paths the index knows that are no longer files here (what is there now, if anything, is the judge's call).
    for await (const paths of this.events.indexedPaths(ws, SCAN_CHUNK)) {
      if (this.stopped) return;
      for (const full of paths) {
        const p = this.toBatonPath(full);
        if (p && !lstatSync(this.absOf(p), { throwIfNoEntry: false })?.isFile()) this.queue.add(p);
      }
      await this.queue.room(SCAN_AHEAD);
    }
    // Done when every difference found has been judged: rescans do not overlap.
    await this.queue.idle();
    if (unsettled && !this.stopped) setTimeout(() => this.rescanSoon(), SETTLE_MS).unref();
  }

  /**
   * Every file of the tree with its stat, in no particular order, each folder read once. (The
   * driver's walk keeps name order for paging, reading a folder again for each page of 512: a
   * rescan of a folder of 50,000 files would read it a hundred times.) Like that walk it skips
   * Baton's own files and names no client could address, and follows a symlink only where the
   * driver resolves it inside the workspace.
   */
  private async *files(dirAbs: string, dir: BatonPath): AsyncGenerator<{ p: BatonPath; st: BigIntStats }> {
    let handle: Dir;
    try {
      handle = await opendir(dirAbs, { bufferSize: 256 });
    } catch (err) {
      if (errno(err) === 'ENOENT' || errno(err) === 'ENOTDIR') return;
      throw err;
    }
    for await (const d of handle) {
      if (this.stopped) return;
      let p: BatonPath;
      try {
        p = childPath(dir, d.name);
      } catch {
        continue;
      }
      const abs = join(dirAbs, d.name);
      let isDir = d.isDirectory();
      if (d.isSymbolicLink()) {
        const meta = await this.driver.stat(p).catch(() => null);
        if (!meta) continue;
        isDir = meta.type === 'directory';
      } else if (!isDir && !d.isFile()) {
        continue;
      }
      if (isDir) {
        yield* this.files(abs, p);
        continue;
      }
      const st = statSync(abs, { bigint: true, throwIfNoEntry: false });
      if (st?.isFile()) yield { p, st };
    }
  }

  private toBatonPath(full: string): BatonPath | null {
    try {
      return parsePath(full);
    } catch {
      return null;
    }
  }
}
