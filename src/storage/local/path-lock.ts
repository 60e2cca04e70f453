import { createHash } from 'node:crypto';
import { join } from 'node:path';
import lockfile from 'proper-lockfile';
import { BatonError } from '../../core/errors.js';
import { KeyedMutex } from '../../core/keyed-mutex.js';

/**
 * Guards read-check-write sequences on one path. Inside a process a mutex queues callers; across
 * processes sharing the data directory, proper-lockfile. Its stale-lock recovery can admit two
 * holders, so nothing that must have exactly one winner relies on this lock alone: those
 * decisions are made by rename/link, which the kernel arbitrates.
 */
export class PathLocks {
  private readonly mutex = new KeyedMutex();

  constructor(private readonly lockDir: string) {}

  async run<T>(rels: readonly string[], fn: () => Promise<T>): Promise<T> {
    const keys = [...new Set(rels.map((r) => createHash('sha256').update(r).digest('hex')))].sort();
    return this.acquire(keys, 0, fn);
  }

  private async acquire<T>(keys: string[], i: number, fn: () => Promise<T>): Promise<T> {
    if (i === keys.length) return fn();
    const key = keys[i]!;
    return this.mutex.run(key, async () => {
      let release: () => Promise<void>;
      try {
        release = await lockfile.lock(join(this.lockDir, key), {
          realpath: false,
          lockfilePath: join(this.lockDir, `${key}.lock`),
          stale: 5_000,
          retries: { retries: 400, factor: 1.3, minTimeout: 2, maxTimeout: 50 },
        });
      } catch (err) {
        throw new BatonError('unavailable', 'path is locked by another process; try again', { cause: err });
      }
      try {
        return await this.acquire(keys, i + 1, fn);
      } finally {
        await release().catch(() => undefined);
      }
    });
  }
}
