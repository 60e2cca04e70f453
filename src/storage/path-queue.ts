import { parsePath, type BatonPath } from '../core/paths.js';

/** The most paths handed to one check. */
const MAX_BATCH = 512;

/**
 * Paths waiting to be checked by an observer of outside changes: a path reported many times
 * while waiting is checked once, and one drain at a time works through them in batches.
 */
export class PathQueue {
  private pending = new Set<string>();
  private draining: Promise<void> | null = null;
  private stopped = false;
  private checking = 0;
  /** Callers of `room` waiting for the queue to shrink; woken after each batch. */
  private waiting: Array<() => void> = [];

  constructor(private readonly check: (batch: BatonPath[]) => Promise<void>) {}

  /** Paths waiting or being checked: the observer's backlog. */
  get size(): number {
    return this.pending.size + this.checking;
  }

  add(p: BatonPath): void {
    if (this.stopped) return;
    this.pending.add(p.full);
    this.draining ??= this.drain().finally(() => (this.draining = null));
  }

  /** Stop taking paths; resolves when the batch being checked is done. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.draining;
  }

  /**
   * Resolves once fewer than `max` paths wait (or the queue stopped): a producer that finds
   * thousands of paths at once (a rescan of a large tree) keeps pace with the checks, so the
   * queue never holds a whole workspace's paths.
   */
  async room(max: number): Promise<void> {
    while (this.pending.size >= max && this.draining && !this.stopped) await new Promise<void>((r) => this.waiting.push(r));
  }

  /** Resolves once every path added so far has been checked (or the queue stopped). */
  async idle(): Promise<void> {
    while (this.draining) await this.draining;
  }

  /**
   * Batches are bounded, so a burst of many thousand paths waits as strings, not as parsed
   * paths, and paths that settle meanwhile join the next batch.
   */
  private async drain(): Promise<void> {
    while (this.pending.size > 0 && !this.stopped) {
      const batch: BatonPath[] = [];
      for (const full of this.pending) {
        this.pending.delete(full);
        batch.push(parsePath(full));
        if (batch.length >= MAX_BATCH) break;
      }
      this.checking = batch.length;
      try {
        await this.check(batch);
      } finally {
        this.checking = 0;
        this.wake();
      }
    }
    this.wake();
  }

  private wake(): void {
    const waiting = this.waiting;
    this.waiting = [];
    for (const r of waiting) r();
  }
}
