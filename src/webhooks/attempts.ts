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

interface Waiting {
  subId: string;
  line: string;
  resolve: () => void;
  reject: (err: unknown) => void;
}

/**
 * The last attempts of each subscription, newest first, for `/deliveries`. Attempts recorded
 * while one write to Redis is in flight go together in the next (one LPUSH per subscription):
 * each delivery's job finishes only once its attempt is stored, so under load that is one round
 * trip per burst rather than per delivery.
 */
export class AttemptLog {
  private waiting: Waiting[] = [];
  private writing: Promise<void> | null = null;

  constructor(private readonly redis: Redis) {}

  add(subId: string, a: Attempt): Promise<void> {
    const done = new Promise<void>((resolve, reject) => this.waiting.push({ subId, line: JSON.stringify(a), resolve, reject }));
    this.writing ??= this.write();
    return done;
  }

  private async write(): Promise<void> {
    while (this.waiting.length > 0) {
      const batch = this.waiting;
      this.waiting = [];
      const lines = new Map<string, string[]>();
      for (const w of batch) {
        const l = lines.get(w.subId);
        if (l) l.push(w.line);
        else lines.set(w.subId, [w.line]);
      }
      const tx = this.redis.multi();
      for (const [subId, l] of lines) tx.lpush(key(subId), ...l).ltrim(key(subId), 0, KEEP - 1);
      try {
        await tx.exec();
        for (const w of batch) w.resolve();
      } catch (err) {
        for (const w of batch) w.reject(err);
      }
    }
    this.writing = null;
  }

  async list(subId: string): Promise<Attempt[]> {
    return (await this.redis.lrange(key(subId), 0, -1)).map((r) => JSON.parse(r) as Attempt);
  }

  async remove(subId: string): Promise<void> {
    await this.redis.del(key(subId));
  }
}
