import type { Redis } from 'ioredis';

export interface InvalidatedCacheOptions {
  /** Pub/sub channel every writer of the cached data publishes the changed key on. */
  channel: string;
  /** An upper bound on how long an entry is trusted even if no invalidation arrives. */
  ttlMs: number;
  /** Beyond this many entries the cache starts over (bounds memory; misses are only slower). */
  maxEntries: number;
}

/**
 * Values read from Redis, held in this process only while a Redis pub/sub subscription tells
 * it of every change. Writers publish the changed key in the same MULTI as the change, and
 * Redis pushes the message to subscribers before it answers the writer, so a request caused by
 * the writer's answer finds the message already on this process's socket; `get` waits one turn
 * of the event loop (setImmediate) so that socket is read first. Whenever the subscription is
 * not known to be live — before it is confirmed, during a reconnect, after any error — the
 * cache is emptied and bypassed: a missed message can only cost a Redis read, never a stale
 * answer. An epoch counter keeps a read that raced an invalidation from being stored.
 */
export class InvalidatedCache<V> {
  private readonly entries = new Map<string, { value: V; at: number }>();
  private subscriber: Redis | null = null;
  private live = false;
  /** Bumped by every invalidation and every loss of the subscription. */
  private epoch = 0;
  /** Bumped only by a loss of the subscription: tells a SUBSCRIBE answer from a stale one. */
  private generation = 0;

  constructor(private readonly opts: InvalidatedCacheOptions) {}

  /** Subscribe on a connection of its own; until the subscription is confirmed, every `get` reads Redis. */
  async start(redis: Redis): Promise<void> {
    const sub = redis.duplicate({ autoResubscribe: false, enableOfflineQueue: false, lazyConnect: true });
    this.subscriber = sub;
    const drop = () => this.reset(false);
    sub.on('error', drop);
    sub.on('close', drop);
    sub.on('end', drop);
    sub.on('reconnecting', drop);
    sub.on('message', (_ch: string, key: string) => this.invalidate(key));
    // Resubscribe by hand after every reconnect: only a confirmed SUBSCRIBE makes the cache live.
    sub.on('ready', () => {
      const gen = this.generation;
      sub.subscribe(this.opts.channel).then(
        () => {
          if (this.generation === gen && this.subscriber === sub && sub.status === 'ready') this.live = true;
        },
        drop,
      );
    });
    await sub.connect().catch(drop);
  }

  async stop(): Promise<void> {
    const sub = this.subscriber;
    this.subscriber = null;
    this.reset(false);
    await sub?.quit().catch(() => undefined);
  }

  /** The cached value, or `load()`'s (stored only if nothing changed while it was read). */
  async get(key: string, load: () => Promise<V | null>): Promise<V | null> {
    if (this.live) {
      await new Promise<void>((r) => setImmediate(r));
      const hit = this.entries.get(key);
      if (this.live && hit && Date.now() - hit.at < this.opts.ttlMs) return hit.value;
    }
    const at = this.epoch;
    const value = await load();
    if (value !== null && this.live && this.epoch === at) {
      if (this.entries.size >= this.opts.maxEntries) this.entries.clear();
      this.entries.set(key, { value, at: Date.now() });
    }
    return value;
  }

  /** Forget one key here (the writer's own process does not wait for its message). */
  invalidate(key: string): void {
    this.epoch++;
    this.entries.delete(key);
  }

  private reset(live: boolean): void {
    this.generation++;
    this.epoch++;
    this.live = live;
    this.entries.clear();
  }
}
