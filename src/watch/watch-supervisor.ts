import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Recorder } from '../core/recorder.js';
import type { EventLog } from '../events/event-log.js';
import type { OutsideWatcher, StorageDriver } from '../storage/driver.js';
import type { WorkspaceRegistry } from '../workspaces/registry.js';
import { Lease } from './lease.js';

const LEASE_MS = 15_000;
const TICK_MS = 3_000;

/**
 * Decides which process watches which workspace for changes made outside Baton: one holder per
 * workspace, through a Redis lease. How a workspace is watched (a disk watcher, a bucket
 * reconciler) is its driver's business. Whoever takes a lease over (at start, or when the holder died) reconciles the
 * whole tree first, so nothing that changed in between goes unreported.
 */
export class WatchSupervisor {
  private readonly active = new Map<string, { lease: Lease; watcher: OutsideWatcher | null; driver: StorageDriver }>();
  private timer: NodeJS.Timeout | null = null;
  private ticking: Promise<void> | null = null;

  constructor(
    private readonly redis: Redis,
    private readonly workspaces: WorkspaceRegistry,
    private readonly events: EventLog,
    private readonly recorder: Recorder,
    private readonly rescanSeconds: number,
    private readonly log: Logger,
  ) {}

  start(): void {
    const tick = () => {
      this.ticking ??= this.tick()
        .catch((err) => this.log.warn({ err: String(err) }, 'watch supervisor tick failed'))
        .finally(() => (this.ticking = null));
    };
    tick();
    this.timer = setInterval(tick, TICK_MS);
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.ticking;
    for (const [name, a] of this.active) {
      await a.watcher?.stop();
      await a.lease.release();
      this.active.delete(name);
    }
  }

  private async tick(): Promise<void> {
    const live = new Map(this.workspaces.list().map((w) => [w.def.name, w]));
    for (const [name, a] of this.active) {
      const ws = live.get(name);
      if (!ws || ws.driver !== a.driver) {
        await a.watcher?.stop();
        await a.lease.release();
        this.active.delete(name);
      }
    }
    for (const [name, ws] of live) {
      let a = this.active.get(name);
      if (!a) {
        a = { lease: new Lease(this.redis, `baton:watch:${name}`, LEASE_MS), watcher: null, driver: ws.driver };
        this.active.set(name, a);
      }
      const held = await a.lease.tick().catch(() => false);
      if (held && !a.watcher) {
        a.watcher = a.driver.observe({ def: ws.def, events: this.events, recorder: this.recorder, rescanMs: this.rescanSeconds * 1000, log: this.log });
        await a.watcher.start();
        this.log.info({ workspace: name }, 'watching workspace');
      } else if (!held && a.watcher) {
        await a.watcher.stop();
        a.watcher = null;
        this.log.warn({ workspace: name }, 'lost the watch lease; another process watches now');
      }
    }
  }
}
