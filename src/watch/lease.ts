import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { DELETE_IF_OWNED, RENEW_IF_OWNED } from '../redis/owned-key.js';

/**
 * A named lease in Redis held by at most one process at a time. The holder renews it well
 * before it expires; when the holder dies, the lease lapses and another process takes it.
 */
export class Lease {
  private readonly token = `${process.pid}-${randomBytes(6).toString('hex')}`;
  held = false;

  constructor(
    private readonly redis: Redis,
    private readonly key: string,
    private readonly ttlMs: number,
  ) {}

  /** Acquire if free, renew if ours; returns whether we hold it now. */
  async tick(): Promise<boolean> {
    if (this.held) {
      this.held = (await RENEW_IF_OWNED.run(this.redis, [this.key], [this.token, String(this.ttlMs)])) === 1;
    } else {
      this.held = (await this.redis.set(this.key, this.token, 'PX', this.ttlMs, 'NX')) === 'OK';
    }
    return this.held;
  }

  async release(): Promise<void> {
    if (!this.held) return;
    this.held = false;
    await DELETE_IF_OWNED.run(this.redis, [this.key], [this.token]).catch(() => undefined);
  }
}
