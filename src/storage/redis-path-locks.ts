import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { BatonError } from '../core/errors.js';
import { KeyedMutex } from '../core/keyed-mutex.js';
import { DELETE_IF_OWNED, RENEW_IF_OWNED } from '../redis/owned-key.js';

/** One held lock: renewed in the background; `assertHeld` checks it before an irreversible step. */
export class HeldLock {
  lost = false;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly redis: Redis,
    readonly key: string,
    readonly token: string,
    private readonly ttlMs: number,
  ) {
    this.timer = setInterval(() => void this.renew(), Math.max(50, Math.floor(ttlMs / 3)));
    this.timer.unref();
  }

  private async renew(): Promise<boolean> {
    if (this.lost) return false;
    try {
      const ok = (await RENEW_IF_OWNED.run(this.redis, [this.key], [this.token, String(this.ttlMs)])) === 1;
      if (!ok) this.lost = true;
      return ok;
    } catch {
      // Redis unreachable for a moment: the lease may still be ours; the next check decides.
      return false;
    }
  }

  /** Renew now and fail if another holder may have taken over (the lock expired meanwhile). */
  async assertHeld(): Promise<void> {
    if (this.lost || !(await this.renew())) {
      this.lost = true;
      throw new BatonError('unavailable', 'lost the path lock while changing it (storage too slow?); the change was not made, try again');
    }
  }

  async release(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await DELETE_IF_OWNED.run(this.redis, [this.key], [this.token]).catch(() => undefined);
  }
}

export interface RedisLockOptions {
  /** How long a lock lives without renewal (a crashed holder blocks the path this long). */
  ttlMs?: number;
  /** How long to wait for a busy lock before answering `unavailable`. */
  waitMs?: number;
}

/**
 * Per-path locks shared by every replica: `SET key token NX PX ttl`, renewed while held,
 * released by a compare-and-delete script so a late holder never frees someone else's lock.
 * Inside one process callers queue on a mutex first, so Redis only arbitrates between
 * processes. Locks on several paths are taken in sorted order, so two multi-path holders
 * cannot deadlock.
 */
export class RedisPathLocks {
  private readonly mutex = new KeyedMutex();
  private readonly ttlMs: number;
  private readonly waitMs: number;

  constructor(
    private readonly redis: Redis,
    private readonly namespace: string,
    opts: RedisLockOptions = {},
  ) {
    this.ttlMs = opts.ttlMs ?? 30_000;
    this.waitMs = opts.waitMs ?? 30_000;
  }

  lockKey(id: string): string {
    return `${this.namespace}:${id}`;
  }

  async run<T>(ids: readonly string[], fn: (held: { assertHeld(): Promise<void> }) => Promise<T>): Promise<T> {
    const keys = [...new Set(ids.map((id) => this.lockKey(id)))].sort();
    const held: HeldLock[] = [];
    const guard = {
      assertHeld: async () => {
        for (const h of held) await h.assertHeld();
      },
    };
    const step = async (i: number): Promise<T> => {
      if (i === keys.length) return fn(guard);
      const key = keys[i]!;
      return this.mutex.run(key, async () => {
        const lock = await this.acquire(key);
        held.push(lock);
        try {
          return await step(i + 1);
        } finally {
          // Not awaited: the release goes out on this connection before any later SET of this
          // process, and Redis runs one connection's commands in order, so the next holder here
          // cannot be refused by it; the holder's answer does not wait for the round trip.
          void lock.release();
        }
      });
    };
    return step(0);
  }

  private async acquire(key: string): Promise<HeldLock> {
    const token = `${process.pid}-${randomBytes(9).toString('hex')}`;
    const deadline = Date.now() + this.waitMs;
    let delay = 2;
    for (;;) {
      let ok: string | null;
      try {
        ok = await this.redis.set(key, token, 'PX', this.ttlMs, 'NX');
      } catch (err) {
        throw new BatonError('unavailable', 'Redis is unreachable; cannot lock the path', { cause: err });
      }
      if (ok === 'OK') return new HeldLock(this.redis, key, token, this.ttlMs);
      if (Date.now() > deadline) throw new BatonError('unavailable', 'the path is locked by another request for too long; try again');
      await new Promise((r) => setTimeout(r, delay * (0.5 + Math.random())));
      delay = Math.min(delay * 2, 50);
    }
  }
}

/**
 * A one-time claim on one version of an object (`SET NX`): of all movers that saw the same
 * source, only the one holding the claim may copy and delete it, even if path locks lapsed.
 */
export async function claim(redis: Redis, key: string, ttlMs: number): Promise<{ release(): Promise<void> } | null> {
  const token = `${process.pid}-${randomBytes(9).toString('hex')}`;
  const ok = await redis.set(key, token, 'PX', ttlMs, 'NX');
  if (ok !== 'OK') return null;
  return {
    release: async () => {
      await DELETE_IF_OWNED.run(redis, [key], [token]).catch(() => undefined);
    },
  };
}
