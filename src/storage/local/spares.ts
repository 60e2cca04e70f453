/**
 * How many are kept ready; a burst past this many makes the rest on the spot. Each spare holds a
 * file descriptor, per workspace, so the pool stays small.
 */
const DEFAULT_COUNT = 4;
/**
 * A spare older than this is dropped, not used: another replica's start-up sweeps temp files a
 * day old, and must never take one this process still means to move into place.
 */
const MAX_AGE_MS = 10 * 60_000;

/**
 * Things made ahead of need, one at a time, off the request path. Creating a file or a folder
 * waits for the filesystem journal, and on a disk busy with fsyncs that wait (most of a
 * millisecond) was the largest single step of a small write; a write now takes what was made
 * while the previous one was in flight.
 */
export class Spares<T> {
  private readonly ready: Array<{ item: T; made: number }> = [];
  private making: Promise<void> | null = null;
  private closed = false;

  constructor(
    private readonly make: () => Promise<T>,
    private readonly drop: (item: T) => Promise<void>,
    private readonly count = DEFAULT_COUNT,
  ) {}

  /**
   * A spare, or null when none is ready (the caller makes its own); starts making more. The
   * first call starts the pool, so a workspace nobody writes to holds none.
   */
  take(): T | null {
    const now = Date.now();
    let spare = this.ready.pop();
    while (spare && now - spare.made > MAX_AGE_MS) {
      void this.drop(spare.item).catch(() => undefined);
      spare = this.ready.pop();
    }
    this.fill();
    return spare?.item ?? null;
  }

  /** Make spares up to the count, in the background. */
  private fill(): void {
    if (this.making || this.closed) return;
    this.making = (async () => {
      while (!this.closed && this.ready.length < this.count) {
        const item = await this.make();
        if (this.closed) return this.drop(item);
        this.ready.push({ item, made: Date.now() });
      }
    })()
      // A disk that refuses new files refuses the write too, which then reports why.
      .catch(() => undefined)
      .finally(() => (this.making = null));
  }

  /** Stop making spares and remove those not taken. */
  async close(): Promise<void> {
    this.closed = true;
    await this.making;
    await Promise.all(this.ready.splice(0).map((s) => this.drop(s.item).catch(() => undefined)));
  }
}
