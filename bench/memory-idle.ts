/**
 * Peak RSS of `baton serve` idle over a workspace of many files made on disk before it starts
 * (section 7's idle phase alone, so builds can be compared quickly), and what the V8 heap did
 * meanwhile. `npm run build && node --import tsx bench/memory-idle.ts [--files=100000] [--idle=15]
 * [--list] [--search] [--trace-gc]`: makes the tree once into a cached template under the OS temp
 * dir, copies it into a fresh data dir, starts its own redis-server and Baton, samples VmRSS every
 * 100 ms for --idle seconds, and prints the peak RSS, RSS at "listening", the start-up
 * reconcile's events and, with --trace-gc, the heap in use after each mark-compact. --list and
 * --search then page through the whole tree as section 7 does (its later phases, the peak reset
 * before each), while the reconcile goes on.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { startRedis } from '../test/helpers/redis.js';
import { Scope } from './lib/scope.js';
import { createKey } from '../test/helpers/http.js';
import { HttpClient } from './lib/http.js';
import { cpuMs } from './lib/cpu-profile.js';
import { launchBaton, memoryOf, resetPeak } from './lib/stack.js';
import { pageAll } from './memory-startup.js';
import { sleep } from './lib/stats.js';

const args = process.argv.slice(2);
const arg = (name: string, dflt: number) => Number(args.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? dflt);
const FILES = arg('files', 100_000);
const IDLE_S = arg('idle', 15);
const TRACE = args.includes('--trace-gc');
const LIST = args.includes('--list');
const SEARCH = args.includes('--search');
const PER_DIR = 1000;
/** `--trace-gc` may not be given in NODE_OPTIONS; a preload can set it. */
const TRACE_GC = `--import=data:text/javascript,${encodeURIComponent("import v8 from 'node:v8'; v8.setFlagsFromString('--trace-gc');")}`;

/** The tree of section 7 (folders of 1,000 files of 100 bytes), made once and reused. */
function template(): string {
  const dir = join(tmpdir(), `baton-bench-many-template-${FILES}`);
  if (existsSync(join(dir, 'done'))) return dir;
  rmSync(dir, { recursive: true, force: true });
  const tmp = `${dir}.partial`;
  rmSync(tmp, { recursive: true, force: true });
  const body = 'x'.repeat(100);
  for (let d = 0; d < Math.ceil(FILES / PER_DIR); d++) {
    const sub = join(tmp, 'demo', 'many', `d${String(d).padStart(3, '0')}`);
    mkdirSync(sub, { recursive: true });
    for (let f = 0; f < Math.min(PER_DIR, FILES - d * PER_DIR); f++) writeFileSync(join(sub, `f${String(f).padStart(5, '0')}.txt`), body);
  }
  writeFileSync(join(tmp, 'done'), '');
  renameSync(tmp, dir);
  return dir;
}

const scope = new Scope();
try {
  const src = template();
  const dataDir = mkdtempSync(join(tmpdir(), 'baton-bench-idle-'));
  // launchBaton removes it once Baton started; this covers a start that failed.
  scope.defer('data dir', () => rmSync(dataDir, { recursive: true, force: true }));
  // Hard links: the reconcile only reads the files, so each run gets the tree in seconds, not a copy of it.
  execFileSync('cp', ['-al', join(src, 'demo'), dataDir]);
  const redis = await startRedis();
  scope.defer('redis-server', () => redis.stop());
  const { baton, startMs } = await launchBaton(scope, { redisUrl: redis.url, dataDir, env: { NODE_OPTIONS: [TRACE ? TRACE_GC : '', process.env.BENCH_EXTRA_NODE_OPTIONS ?? ''].join(' ').trim() } });
  const pid = baton.proc.pid!;
  const gc: string[] = [];
  baton.proc.stdout!.on('data', (d: Buffer) => {
    for (const line of d.toString().split('\n')) if (line.includes('Mark-Compact')) gc.push(line.replace(/^\[\d+:0x[0-9a-f]+\]\s*/, ''));
  });
  const atListen = memoryOf(pid);
  const seqOf = new Redis(redis.url, { maxRetriesPerRequest: 1 });
  scope.defer('redis client', () => void seqOf.disconnect());
  let peak = 0;
  const t0 = Date.now();
  while (Date.now() - t0 < IDLE_S * 1000) {
    peak = Math.max(peak, memoryOf(pid).rssMiB);
    await sleep(100);
  }
  const seq = Number((await seqOf.get('baton:ev:demo:seq')) ?? 0);
  const end = memoryOf(pid);
  process.stdout.write(
    `files=${FILES} start ${startMs.toFixed(0)} ms; RSS at listening ${atListen.rssMiB.toFixed(0)} MiB; idle ${IDLE_S} s: peak RSS ${Math.max(peak, end.hwmMiB).toFixed(0)} MiB (VmHWM ${end.hwmMiB.toFixed(0)}), at end ${end.rssMiB.toFixed(0)} MiB; reconcile events ${seq}; CPU ${cpuMs(pid).toFixed(0)} ms\n`,
  );
  if (LIST || SEARCH) {
    const { key } = await createKey(baton.url, baton.adminToken, { agent: 'bench', grants: ['read:/demo/**'] });
    const api = new HttpClient(baton.url, key);
    scope.defer('http agent', () => api.close());
    const phases: Array<[string, string, 'entries' | 'results']> = [];
    if (LIST) phases.push(['listing', '/v1/list/demo?recursive=1&limit=1000', 'entries']);
    if (SEARCH) phases.push(['searching', `/v1/search?root=${encodeURIComponent('/demo')}&glob=${encodeURIComponent('**/*.txt')}&limit=1000`, 'results']);
    for (const [name, url, key] of phases) {
      resetPeak(pid);
      const r = await pageAll(api, url, key, 120_000);
      const m = memoryOf(pid);
      process.stdout.write(
        `${name}: peak RSS ${m.hwmMiB.toFixed(0)} MiB, at end ${m.rssMiB.toFixed(0)} MiB; ${r.files} files in ${r.pages} pages, ${(r.ms / 1000).toFixed(1)} s${r.complete ? '' : ' (INCOMPLETE)'}; reconcile events ${Number((await seqOf.get('baton:ev:demo:seq')) ?? 0)}; CPU ${cpuMs(pid).toFixed(0)} ms\n`,
      );
    }
  }
  for (const l of gc) process.stdout.write(`  ${l}\n`);
} finally {
  await scope.close();
}
