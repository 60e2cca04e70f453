/**
 * Where the server's time goes in a drop burst. `npm run build && node --import tsx bench/drop-profile.ts`
 * starts its own redis-server and `baton serve` (BATON_RESCAN_SECONDS=5, under the V8 profiler
 * unless --no-prof), subscribes a loopback receiver to a folder of the inbox, writes --n=N 1 KiB
 * files (default 5,000) straight into it as fast as one process can (as section 3 does), and waits until every one
 * was delivered. Prints written → all delivered, the server's CPU ms over that time
 * (utime+stime from /proc, threadpool included), duplicates, and the functions by self and
 * total time from the profile's samples in that window.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { Receiver } from './lib/receiver.js';
import { Scope } from './lib/scope.js';
import { KIB, startStack } from './lib/stack.js';
import { cpuMs, summarizeProfile, type CpuProfile } from './lib/cpu-profile.js';
import { msSince, now } from './lib/stats.js';
import { YIELD_EVERY, yieldToLoop } from './drop.js';

const args = process.argv.slice(2);
const N = Number(args.find((a) => a.startsWith('--n='))?.split('=')[1] ?? 5000);
const PROFILE = !args.includes('--no-prof');
/** Where to copy the raw .cpuprofile (for a flame graph), if given. */
const KEEP = args.find((a) => a.startsWith('--keep='))?.split('=')[1];
const scope = new Scope();
const profDir = mkdtempSync(join(os.tmpdir(), 'drop-prof-'));
scope.defer('profile dir', () => rmSync(profDir, { recursive: true, force: true }));
try {
  const env: Record<string, string> = { BATON_RESCAN_SECONDS: '5', ...(PROFILE ? { NODE_OPTIONS: `--require ${join(import.meta.dirname, 'lib', 'cpu-prof-preload.cjs')}`, BATON_CPU_PROF_DIR: profDir } : {}) };
  const stack = await startStack(scope, { env });
  const pid = stack.baton.proc.pid!;
  const redisPid = stack.redis.proc.pid!;
  const inbox = join(stack.baton.dataDir, 'demo', 'inbox');
  const rx = await Receiver.start();
  scope.defer('receiver', () => rx.close());
  mkdirSync(join(inbox, 'probe'), { recursive: true });
  mkdirSync(join(inbox, 'b'), { recursive: true });
  await stack.subscribe(`${rx.url}/probe`, ['/demo/inbox/probe/**']);
  await stack.subscribe(`${rx.url}/b`, ['/demo/inbox/b/**']);
  let probes = 0;
  while (!(await rx.waitFor(() => rx.unique('/probe') > 0, 1_000)) && probes < 30) writeFileSync(join(inbox, 'probe', `p-${probes++}.txt`), KIB);
  await new Promise((r) => setTimeout(r, 1000));
  const c0 = cpuMs(pid);
  const r0 = cpuMs(redisPid);
  const t0 = now();
  const wall0 = Date.now();
  for (let i = 0; i < N; i++) {
    writeFileSync(join(inbox, 'b', `f-${i}.txt`), KIB);
    if (i % YIELD_EVERY === YIELD_EVERY - 1) await yieldToLoop();
  }
  const writeMs = msSince(t0);
  const ok = await rx.waitFor(() => rx.unique('/b') >= N, 180_000);
  const allMs = msSince(t0);
  const cpu = cpuMs(pid) - c0;
  const redisCpu = cpuMs(redisPid) - r0;
  await new Promise((r) => setTimeout(r, 6000));
  const d = rx.duplicates('/b|');
  // When the burst's events were recorded and when they arrived, from the start of the writing:
  // which stage the burst waits on.
  const burst = rx.deliveries.filter((x) => x.route === '/b');
  const recorded = burst.map((x) => x.time - wall0).sort((a, b) => a - b);
  const arrived = burst.map((x) => Number(x.arrival - t0) / 1e6).sort((a, b) => a - b);
  const at = (xs: number[], q: number) => (xs[Math.min(xs.length - 1, Math.floor(q * xs.length))] ?? NaN).toFixed(0);
  process.stdout.write(`ms after the first write, at 10/50/90/100 %: recorded ${[0.1, 0.5, 0.9, 1].map((q) => at(recorded, q)).join('/')}, delivered ${[0.1, 0.5, 0.9, 1].map((q) => at(arrived, q)).join('/')}\n`);
  process.stdout.write(`N=${N} ok=${ok} delivered=${rx.unique('/b')} write ${writeMs.toFixed(0)} ms, all ${allMs.toFixed(0)} ms, server CPU ${cpu.toFixed(0)} ms (${(cpu / N).toFixed(3)} ms/file), redis CPU ${redisCpu.toFixed(0)} ms, dup ${d.extra} (same id ${d.sameId}, new id ${d.otherId})\n`);
  await stack.baton.stop();
  const files = readdirSync(profDir).filter((f) => f.endsWith('.cpuprofile'));
  if (files[0] && KEEP) copyFileSync(join(profDir, files[0]), KEEP);
  if (files[0]) {
    const p = JSON.parse(readFileSync(join(profDir, files[0]), 'utf8')) as CpuProfile;
    const from = Number(t0 / 1000n);
    const { self, total } = summarizeProfile(p, from, from + allMs * 1000, { self: 25, total: 45, modules: 0 });
    process.stdout.write('-- functions by self time (ms)\n');
    for (const [k, v] of self) process.stdout.write(`  ${v.toFixed(0).padStart(6)} ${k}\n`);
    process.stdout.write('-- functions by total time (ms)\n');
    for (const [k, v] of total) process.stdout.write(`  ${v.toFixed(0).padStart(6)} ${k}\n`);
  }
} finally {
  await scope.close();
}
