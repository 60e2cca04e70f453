import type { Logger } from 'pino';
import { parsePath, type BatonPath } from '../../core/paths.js';
import type { EventLog } from '../../events/event-log.js';
import type { WorkspaceDefinition } from '../../workspaces/definition.js';
import type { ObserveContext, OutsideWatcher, StorageDriver } from '../driver.js';
import { reportOutsideChange } from '../observed-change.js';
import { PathQueue } from '../path-queue.js';
import { registerBacklogSource } from '../../observability/backlog-sources.js';
import type { S3Layout } from './keys.js';
import { isMinio, listenMinio } from './minio-events.js';

/** What the reconciler needs of the bucket beside the store: where it is, and its files. */
export interface BucketView {
  readonly bucket: string;
  readonly layout: S3Layout;
  readonly endpoint: string | undefined;
  readonly region: string;
  files(): AsyncIterable<{ path: BatonPath; etag: string; size: number }>;
}

const NOTIFY_RETRY_MS = 30_000;

/** Paths compared with the event index per lookup. */
const INDEX_CHUNK = 1000;

/**
 * Reports objects that change in an S3 workspace's bucket without Baton (another tool's PUT or
 * DELETE, while Baton runs or while it was down), with actor `s3`.
 *
 * Every `reconcileSeconds` it lists the workspace's objects and compares each ETag with the
 * event index (path → etag of its last event); every difference, and every indexed path no
 * longer listed, is checked again under the path's Redis lock — the lock Baton's own writes
 * hold until their event is recorded — and reported with `onlyIfChanged`. So a Baton write is
 * never re-reported, and a change seen twice (a notification and a reconcile, or two replicas
 * in turn) is reported once. An object whose metadata names the Baton write that made it (a
 * write cut short by a crash before its event) is reported with that writer as actor.
 *
 * On MinIO, bucket notifications make changes show up at once; any failure of that listener
 * leaves the periodic reconcile alone in charge. The WatchSupervisor runs one reconciler per
 * workspace across all replicas (a Redis lease).
 */
export class S3Reconciler implements OutsideWatcher {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private again = false;
  private stopped = false;
  private unregisterBacklog: (() => void) | null = null;
  private readonly queue = new PathQueue(async (batch) => {
    for (const p of batch) await this.check(p);
  });
  private listener: { stop(): void } | null = null;
  private retryTimer: NodeJS.Timeout | null = null;
  private lastError: string | null = null;
  private readonly def: WorkspaceDefinition;
  private readonly events: EventLog;
  private readonly log: Logger;

  constructor(
    private readonly ctx: ObserveContext,
    private readonly driver: StorageDriver,
    private readonly bucket: BucketView,
    private readonly intervalMs: number,
  ) {
    ({ def: this.def, events: this.events, log: this.log } = ctx);
  }

  async start(): Promise<void> {
    this.unregisterBacklog = registerBacklogSource(this.def.name, () => this.queue.size);
    this.reconcileSoon();
    this.timer = setInterval(() => this.reconcileSoon(), this.intervalMs);
    if (this.bucket.endpoint) void this.startNotifications();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.unregisterBacklog?.();
    if (this.timer) clearInterval(this.timer);
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.listener?.stop();
    await this.running;
    await this.queue.stop();
  }

  private async startNotifications(): Promise<void> {
    const endpoint = this.bucket.endpoint!;
    if (this.stopped || !(await isMinio(endpoint)) || this.stopped) return;
    this.listener = listenMinio(
      { endpoint, region: this.bucket.region, bucket: this.bucket.bucket, prefix: this.bucket.layout.prefix },
      (key) => this.onKey(key),
      (err) => {
        this.listener = null;
        if (this.stopped) return;
        this.log.warn({ workspace: this.def.name, err: String(err) }, 'MinIO notifications stopped; reconciling periodically only, retrying later');
        this.reconcileSoon();
        this.retryTimer = setTimeout(() => void this.startNotifications(), NOTIFY_RETRY_MS);
        this.retryTimer.unref();
      },
    );
    this.log.info({ workspace: this.def.name }, 'listening to MinIO bucket notifications');
  }

  private onKey(key: string): void {
    const rel = this.bucket.layout.relOf(key);
    if (rel === null || rel === '' || rel.startsWith('.baton') || rel.endsWith('/')) return;
    let p: BatonPath;
    try {
      p = parsePath(`/${this.def.name}/${rel}`);
    } catch {
      return;
    }
    this.queue.add(p);
  }

  reconcileSoon(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.reconcile()
      .then(() => {
        if (this.lastError) this.log.info({ workspace: this.def.name }, 'S3 reconcile works again');
        this.lastError = null;
      })
      .catch((err) => {
        const msg = String(err?.message ?? err);
        if (msg !== this.lastError) this.log.warn({ workspace: this.def.name, err: msg }, 'S3 reconcile failed; retrying');
        this.lastError = msg;
      })
      .finally(() => {
        this.running = null;
        if (this.again) {
          this.again = false;
          this.reconcileSoon();
        }
      });
  }

  /**
   * Compare the bucket with the event index; check every difference under its lock. The index is
   * read a chunk of listed paths at a time (HMGET) and scanned (HSCAN) for paths the bucket no
   * longer has, so only the listed paths are held for the pass, not the index too.
   */
  async reconcile(): Promise<void> {
    const ws = this.def.name;
    const seen = new Set<string>();
    let chunk: Array<{ path: BatonPath; etag: string }> = [];
    const flush = async () => {
      const known = await this.events.indexedMany(
        ws,
        chunk.map((f) => f.path.full),
      );
      const differ = chunk.filter((f, i) => known[i] !== f.etag);
      chunk = [];
      for (const f of differ) {
        if (this.stopped) return;
        await this.check(f.path);
      }
    };
    for await (const f of this.bucket.files()) {
      if (this.stopped) return;
      seen.add(f.path.full);
      chunk.push({ path: f.path, etag: f.etag });
      if (chunk.length >= INDEX_CHUNK) await flush();
    }
    await flush();
    const gone: BatonPath[] = [];
    for await (const paths of this.events.indexedPaths(ws, INDEX_CHUNK)) {
      for (const full of paths) {
        if (seen.has(full)) continue;
        try {
          gone.push(parsePath(full));
        } catch {
          // not a path Baton can address: nothing to report
        }
      }
    }
    for (const p of gone) {
      if (this.stopped) return;
      await this.check(p);
    }
  }

  /** Report the path's current state if its last event does not already describe it. */
  private async check(p: BatonPath): Promise<void> {
    try {
      await reportOutsideChange(this.driver, this.ctx, p);
    } catch (err) {
      this.log.warn({ path: p.full, err: String(err) }, 'could not check a changed object');
    }
  }
}
