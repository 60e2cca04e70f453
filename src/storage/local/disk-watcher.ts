import { lstatSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import type { Logger } from 'pino';
import { parsePath, workspaceRoot, type BatonPath } from '../../core/paths.js';
import type { Recorder } from '../../core/recorder.js';
import type { BatonEvent } from '../../events/event.js';
import type { EventLog } from '../../events/event-log.js';
import type { WorkspaceDefinition } from '../../workspaces/definition.js';
import type { ObserveContext, OutsideWatcher, StorageDriver } from '../driver.js';
import { reportOutsideChange } from '../observed-change.js';
import { PathQueue } from '../path-queue.js';
import { registerBacklogSource } from '../../observability/backlog-sources.js';
import { etagOf } from './etag.js';
import { FolderWatches } from './folder-watches.js';

const SETTLE_MS = 1000;
/** How long a path must be quiet before it is checked, so a file being written is seen once, whole. */
const QUIET_MS = 150;
/** How many changed paths are checked at once. */
const CHECKS_AT_ONCE = 16;
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
   * The etag of the last file event this process recorded per path. Most changes the watches
   * report are this process's own writes: a path whose bytes still carry that etag needs no
   * further look (no Redis, no lock).
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
    if (e.event === 'file.deleted' || e.etag === null) this.recorded.delete(e.path);
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
    await this.scanning;
    await this.queue.stop();
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

  /** Check paths CHECKS_AT_ONCE at a time: each waits on the disk, Redis and its lock, not on the others. */
  private async checkAll(paths: readonly BatonPath[]): Promise<void> {
    let i = 0;
    const next = async (): Promise<void> => {
      while (i < paths.length && !this.stopped) await this.check(paths[i++]!);
    };
    await Promise.all(Array.from({ length: Math.min(CHECKS_AT_ONCE, paths.length) }, next));
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
   * Compare the whole tree with the event index; check every difference under its lock. Only
   * the etag is needed to compare, so a file costs one stat (of what a symlink the walk kept
   * points to, as the driver describes it).
   */
  private async rescan(): Promise<void> {
    const index = await this.events.indexOf(this.def.name);
    const seen = new Set<string>();
    const differ: BatonPath[] = [];
    let unsettled = false;
    for await (const e of this.driver.walk(workspaceRoot(this.def.name), { after: null, recursive: true })) {
      if (this.stopped) return;
      if (e.type !== 'file') continue;
      seen.add(e.path.full);
      const st = statSync(this.absOf(e.path), { bigint: true, throwIfNoEntry: false });
      if (!st?.isFile()) continue;
      // A file modified a moment ago may still be being written: its folder watch reports it once it
      // settles, and the next pass catches it if the watch does not.
      if (Date.now() - Number(st.mtimeMs) < SETTLE_MS) {
        unsettled = true;
        continue;
      }
      if (index.get(e.path.full) !== etagOf(st)) differ.push(e.path);
    }
    for (const full of index.keys()) if (!seen.has(full)) differ.push(parsePath(full));
    await this.checkAll(differ);
    if (unsettled && !this.stopped) setTimeout(() => this.rescanSoon(), SETTLE_MS).unref();
  }

  /** Report the path's current state if its last event does not already describe it. */
  private async check(p: BatonPath): Promise<void> {
    try {
      const own = this.recorded.get(p.full);
      if (own !== undefined) {
        const cur = lstatSync(this.absOf(p), { bigint: true, throwIfNoEntry: false });
        if (cur?.isFile() && etagOf(cur) === own) return;
      }
      // Settled without the lock too: a folder (left to the walk), and a path the index already
      // describes (a change recorded by another process, or a path gone and no longer indexed).
      // Anything else is judged again under the lock.
      const quick = await this.driver.stat(p).catch(() => null);
      if (quick?.type === 'directory') return;
      const known = await this.events.indexed(this.def.name, p.full);
      if (quick ? known === quick.etag : known === null) return;
      await reportOutsideChange(this.driver, this.ctx, p);
    } catch (err) {
      this.log.warn({ path: p.full, err: String(err) }, 'could not check a changed path');
    }
  }
}
