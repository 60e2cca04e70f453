import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { BatonError } from '../core/errors.js';
import { KeyedMutex } from '../core/keyed-mutex.js';
import { DELETE_IF_OWNED } from '../redis/owned-key.js';
import { LuaScript } from '../redis/lua-script.js';

/*
 * The keys of one holder share its token. KEYS are lock keys in the order they must be taken;
 * ARGV[1] is the token, ARGV[2] the TTL in ms.
 */
/** Takes the keys in order until one is held by someone else; returns how many it took. */
const TAKE_IN_ORDER = new LuaScript(`for i, k in ipairs(KEYS) do
  if not redis.call('SET', k, ARGV[1], 'PX', ARGV[2], 'NX') then return i - 1 end
end
return #KEYS`);
/** Extends the keys still holding the token; returns how many no longer do. */
const RENEW_ALL_IF_OWNED = new LuaScript(`local lost = 0
for _, k in ipairs(KEYS) do
  if redis.call('GET', k) == ARGV[1] then redis.call('PEXPIRE', k, ARGV[2]) else lost = lost + 1 end
end
return lost`);
/** Deletes the keys still holding the token. */
const DELETE_ALL_IF_OWNED = new LuaScript(`for _, k in ipairs(KEYS) do
  if redis.call('GET', k) == ARGV[1] then redis.call('DEL', k) end
end
return 0`);

/**
 * The locks of one `run`: every key under one token, taken in order, renewed together in the
 * background and released together, so a holder of many paths costs a few Redis round trips,
 * not a few per path. `assertHeld` checks them before an irreversible step.
 */
class HeldKeys {
  lost = false;
  private readonly held: string[] = [];
  private readonly token = `${process.pid}-${randomBytes(9).toString('hex')}`;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly redis: Redis,
    private readonly ttlMs: number,
  ) {}

  /** Take `keys` in order, waiting (with backoff, until `waitMs` has passed) for any another holder has. */
  async take(keys: readonly string[], waitMs: number): Promise<void> {
    const deadline = Date.now() + waitMs;
    let delay = 2;
    let rest = keys;
    for (;;) {
      let took: number;
      try {
        took = Number(await TAKE_IN_ORDER.run(this.redis, rest, [this.token, String(this.ttlMs)]));
      } catch (err) {
        throw new BatonError('unavailable', 'Redis is unreachable; cannot lock the path', { cause: err });
      }
      if (took > 0) {
        this.held.push(...rest.slice(0, took));
        rest = rest.slice(took);
        this.timer ??= setInterval(() => void this.renew(), Math.max(50, Math.floor(this.ttlMs / 3))).unref();
      }
      if (rest.length === 0) return;
      if (Date.now() > deadline) throw new BatonError('unavailable', 'the path is locked by another request for too long; try again');
      await new Promise((r) => setTimeout(r, delay * (0.5 + Math.random())));
      delay = Math.min(delay * 2, 50);
    }
  }

  private async renew(): Promise<boolean> {
    if (this.lost) return false;
    try {
      const lostKeys = Number(await RENEW_ALL_IF_OWNED.run(this.redis, this.held, [this.token, String(this.ttlMs)]));
      if (lostKeys > 0) this.lost = true;
      return lostKeys === 0;
    } catch {
      // Redis unreachable for a moment: the leases may still be ours; the next check decides.
      return false;
    }
  }

  /** Renew now and fail if another holder may have taken over (a lock expired meanwhile). */
  async assertHeld(): Promise<void> {
    if (this.lost || !(await this.renew())) {
      this.lost = true;
      throw new BatonError('unavailable', 'lost the path lock while changing it (storage too slow?); the change was not made, try again');
    }
  }

  /**
   * Not awaited by callers: the delete goes out on this connection before any later take of
   * this process, and Redis runs one connection's commands in order, so the next holder here
   * cannot be refused by it; the holder's answer does not wait for the round trip.
   */
  release(): Promise<unknown> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    if (this.held.length === 0) return Promise.resolve();
    return DELETE_ALL_IF_OWNED.run(this.redis, this.held, [this.token]).catch(() => undefined);
  }
}

export interface RedisLockOptions {
  /** How long a lock lives without renewal (a crashed holder blocks the path this long). */
  ttlMs?: number;
  /** How long to wait for a busy lock before answering `unavailable`. */
  waitMs?: number;
}

/**
 * Per-path locks shared by every replica: keys set with `NX PX ttl` holding the holder's token,
 * renewed while held, released by a compare-and-delete so a late holder never frees someone
 * else's lock. Inside one process callers queue on a mutex per key first, so Redis only
 * arbitrates between processes. The keys of one holder are taken in sorted order (so two
 * multi-path holders cannot deadlock), as many at once as are free, in one script.
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

  run<T>(ids: readonly string[], fn: (held: { assertHeld(): Promise<void> }) => Promise<T>): Promise<T> {
    const keys = [...new Set(ids.map((id) => this.lockKey(id)))].sort();
    if (keys.length === 0) return fn({ assertHeld: async () => undefined });
    // In process: each key's mutex, in the same sorted order; then the Redis keys, all at once.
    const inProcess = (i: number): Promise<T> => (i === keys.length ? this.holdInRedis(keys, fn) : this.mutex.run(keys[i]!, () => inProcess(i + 1)));
    return inProcess(0);
  }

  private async holdInRedis<T>(keys: readonly string[], fn: (held: { assertHeld(): Promise<void> }) => Promise<T>): Promise<T> {
    const held = new HeldKeys(this.redis, this.ttlMs);
    try {
      await held.take(keys, this.waitMs);
      return await fn({ assertHeld: () => held.assertHeld() });
    } finally {
      void held.release();
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
