import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { startBaton, type StartOptions, type TestBaton } from '../../test/helpers/baton.js';
import { createKey } from '../../test/helpers/http.js';
import { kill, startRedis, type TestRedis } from '../../test/helpers/redis.js';
import { HttpClient } from './http.js';
import type { Scope } from './scope.js';
import { msSince, now } from './stats.js';

export interface Stack {
  redis: TestRedis;
  baton: TestBaton;
  key: string;
  api: HttpClient;
  /** Milliseconds from spawning `baton serve` to its 'baton listening' line. */
  startMs: number;
  subscribe(url: string, paths: string[]): Promise<string>;
  unsubscribe(id: string): Promise<void>;
}

export const KIB = Buffer.alloc(1024, 'b');

/** A real redis-server and a real `baton serve` (test helpers), both released by `scope`. */
export async function startStack(scope: Scope, opts: { env?: Record<string, string>; dataDir?: string } = {}): Promise<Stack> {
  const redis = await startRedis();
  scope.defer('redis-server', () => redis.stop());
  const { baton, startMs } = await launchBaton(scope, { redisUrl: redis.url, env: opts.env, dataDir: opts.dataDir });
  const { key } = await createKey(baton.url, baton.adminToken, {
    agent: 'bench',
    grants: ['read:/demo/**', 'write:/demo/**', 'subscribe:/demo/**'],
  });
  const api = new HttpClient(baton.url, key);
  scope.defer('http agent', () => api.close());
  return {
    redis,
    baton,
    key,
    api,
    startMs,
    async subscribe(url, paths) {
      const r = await api.json<{ id: string }>('POST', '/v1/subscriptions', { url, paths, events: ['file.created'] });
      if (r.status !== 201) throw new Error(`subscription failed: ${r.status} ${JSON.stringify(r.json)}`);
      return r.json.id;
    },
    async unsubscribe(id) {
      await api.request('DELETE', `/v1/subscriptions/${id}`);
    },
  };
}

/** Start `baton serve` through the test helper and time spawn → 'baton listening'. */
export async function launchBaton(scope: Scope, opts: StartOptions): Promise<{ baton: TestBaton; startMs: number }> {
  const t0 = now();
  const baton = await startBaton({ ...opts, env: { BATON_LOG_LEVEL: 'warn', ...opts.env } });
  const startMs = msSince(t0);
  scope.defer('baton serve', async () => {
    try {
      await Promise.race([baton.stop(), new Promise((_, rej) => setTimeout(() => rej(new Error('slow stop')), 15_000).unref())]);
    } catch {
      await baton.kill();
    }
    rmSync(baton.dataDir, { recursive: true, force: true });
    rmSync(baton.workspacesDir, { recursive: true, force: true });
  });
  return { baton, startMs };
}

/** Peak and current resident memory of a process, in MiB, from /proc/<pid>/status. */
export function memoryOf(pid: number): { hwmMiB: number; rssMiB: number } {
  const s = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (name: string) => Number(new RegExp(`${name}:\\s+(\\d+)`).exec(s)?.[1] ?? NaN);
  return { hwmMiB: kb('VmHWM') / 1024, rssMiB: kb('VmRSS') / 1024 };
}

/** Reset a process's peak RSS to its current RSS (Linux ≥ 4.0); false when not allowed. */
export function resetPeak(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

/** Safety net: SIGKILL any child process of this bench still alive (by pid, ours only). */
export async function killOwnChildren(): Promise<string[]> {
  const { readdirSync } = await import('node:fs');
  const killed: string[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      // tsx's esbuild service is ours too but ends with us; leave it.
      if (ppid === process.pid && !readFileSync(`/proc/${d}/cmdline`, 'utf8').includes('esbuild')) {
        const cmd = readFileSync(`/proc/${d}/cmdline`, 'utf8').split('\0').join(' ').trim();
        process.kill(Number(d), 'SIGKILL');
        killed.push(`${d} ${cmd.slice(0, 120)}`);
      }
    } catch {
      /* gone */
    }
  }
  return killed;
}

export { kill };
