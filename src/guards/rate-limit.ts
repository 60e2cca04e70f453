import type { Redis } from 'ioredis';
import type { RateLimits } from '../auth/principal.js';
import { BatonError } from '../core/errors.js';
import { LuaScript } from '../redis/lua-script.js';

/** Token bucket: refill at `rate`/s up to `burst`; take one; answer how long until one is free. */
const BUCKET = new LuaScript(`
local rate, burst, now = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local b = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(b[1]) or burst
local ts = tonumber(b[2]) or now
tokens = math.min(burst, tokens + (now - ts) / 1000 * rate)
local wait = 0
if tokens >= 1 then tokens = tokens - 1 else wait = math.ceil((1 - tokens) / rate * 1000) end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst / rate * 1000) + 1000)
return wait
`);

function dayKey(id: string): string {
  return `baton:quota:${id}:${new Date().toISOString().slice(0, 10)}`;
}

/** Per-key request rate and daily byte quota, shared by every replica through Redis. */
export class RateLimiter {
  constructor(private readonly redis: Redis) {}

  /** `incoming`: the declared size of this request's body, counted against the byte quota up front. */
  async admit(id: string, limits: RateLimits | undefined, incoming = 0): Promise<void> {
    if (!limits) return;
    if (limits.requestsPerSecond) {
      const burst = limits.burst ?? Math.max(1, Math.ceil(limits.requestsPerSecond));
      const wait = Number(await BUCKET.run(this.redis, [`baton:rl:${id}`], [String(limits.requestsPerSecond), String(burst), String(Date.now())]));
      if (wait > 0) {
        throw new BatonError('rate_limited', `more than ${limits.requestsPerSecond} requests per second`, { headers: { 'Retry-After': String(Math.ceil(wait / 1000)) } });
      }
    }
    if (limits.bytesPerDay) {
      const used = Number((await this.redis.get(dayKey(id))) ?? 0);
      if (used + incoming > limits.bytesPerDay || used >= limits.bytesPerDay) {
        const midnight = new Date();
        midnight.setUTCHours(24, 0, 0, 0);
        const retry = Math.ceil((midnight.getTime() - Date.now()) / 1000);
        throw new BatonError('rate_limited', `daily quota of ${limits.bytesPerDay} bytes is used up`, { headers: { 'Retry-After': String(retry) } });
      }
    }
  }

  async charge(id: string, limits: RateLimits | undefined, bytes: number): Promise<void> {
    if (!limits?.bytesPerDay || bytes <= 0) return;
    await this.redis.multi().incrby(dayKey(id), bytes).expire(dayKey(id), 2 * 86400).exec();
  }
}
