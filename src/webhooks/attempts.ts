import type { Redis } from 'ioredis';

export type AttemptStatus = 'pending' | 'delivered' | 'failed' | 'dead';

export interface Attempt {
  eventId: string;
  attempt: number;
  status: AttemptStatus;
  responseStatus: number | null;
  at: string;
  nextAttemptAt: string | null;
  error?: string;
}

const KEEP = 1000;
const key = (subId: string) => `baton:sub:${subId}:attempts`;

/** The last attempts of each subscription, newest first, for `/deliveries`. */
export class AttemptLog {
  constructor(private readonly redis: Redis) {}

  async add(subId: string, a: Attempt): Promise<void> {
    await this.redis.multi().lpush(key(subId), JSON.stringify(a)).ltrim(key(subId), 0, KEEP - 1).exec();
  }

  async list(subId: string): Promise<Attempt[]> {
    return (await this.redis.lrange(key(subId), 0, -1)).map((r) => JSON.parse(r) as Attempt);
  }

  async remove(subId: string): Promise<void> {
    await this.redis.del(key(subId));
  }
}
