/**
 * Where the server's time goes in a drop burst. `npm run build && node --import tsx bench/drop-profile.ts`
 * starts its own redis-server and `baton serve` (BATON_RESCAN_SECONDS=5, under the V8 profiler
 * unless --no-prof), subscribes a loopback receiver to a folder of the inbox, writes --n=N 1 KiB
 * files (default 5,000) straight into it as fast as one process can, and waits until every one
 * was delivered. Prints written → all delivered, the server's CPU ms over that time
 * (utime+stime from /proc, threadpool included), duplicates, and the functions by self and
 * total time from the profile's samples in that window.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { Receiver } from './lib/receiver.js';
import { Scope } from './lib/scope.js';
import { KIB, startStack } from './lib/stack.js';
import { msSince, now } from './lib/stats.js';

const args = process.argv.slice(2);
const N = Number(args.find((a) => a.startsWith('--n='))?.split('=')[1] ?? 5000);
const PROFILE = !args.includes('--no-prof');
interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}
function cpuMs(pid: number): number {
  const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
  return ((Number(f[11]) + Number(f[12])) * 1000) / 100;
}
const scope = new Scope();
const profDir = mkdtempSync(join(os.tmpdir(), 'drop-prof-'));
scope.defer('profile dir', () => rmSync(profDir, { recursive: true, force: true }));
try {
  const env: Record<string, string> = { BATON_RESCAN_SECONDS: '5', ...(PROFILE ? { NODE_OPTIONS: `--require ${join(import.meta.dirname, 'lib', 'cpu-prof-preload.cjs')}`, BATON_CPU_PROF_DIR: profDir } : {}) };
  const stack = await startStack(scope, { env });
  const pid = stack.baton.proc.pid!;
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
  const t0 = now();
  for (let i = 0; i < N; i++) writeFileSync(join(inbox, 'b', `f-${i}.txt`), KIB);
  const writeMs = msSince(t0);
  const ok = await rx.waitFor(() => rx.unique('/b') >= N, 180_000);
  const allMs = msSince(t0);
  const cpu = cpuMs(pid) - c0;
  await new Promise((r) => setTimeout(r, 6000));
  const d = rx.duplicates('/b|');
  process.stdout.write(`N=${N} ok=${ok} delivered=${rx.unique('/b')} write ${writeMs.toFixed(0)} ms, all ${allMs.toFixed(0)} ms, server CPU ${cpu.toFixed(0)} ms, dup ${d.extra} (same id ${d.sameId}, new id ${d.otherId})\n`);
  await stack.baton.stop();
  const files = readdirSync(profDir).filter((f) => f.endsWith('.cpuprofile'));
  if (files[0]) {
    const p = JSON.parse(readFileSync(join(profDir, files[0]), 'utf8')) as CpuProfile;
    const byId = new Map(p.nodes.map((n) => [n.id, n]));
    const parent = new Map<number, number>();
    for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
    const self = new Map<string, number>();
    const total = new Map<string, number>();
    const from = Number(t0 / 1000n);
    const to = from + allMs * 1000;
    let t = p.startTime;
    for (let i = 0; i < p.samples.length; i++) {
      t += p.timeDeltas[i]!;
      if (t < from || t > to) continue;
      const dt = (p.timeDeltas[i + 1] ?? p.timeDeltas[i]!) / 1000;
      const node = byId.get(p.samples[i]!)!;
      const name = (n: ProfileNode) => `${n.callFrame.functionName || '(anon)'} ${n.callFrame.url.replace(/.*node_modules\//, '').replace(/.*\/dist\//, 'dist/')}:${n.callFrame.lineNumber + 1}`;
      if (node.callFrame.functionName === '(idle)') continue;
      self.set(name(node), (self.get(name(node)) ?? 0) + dt);
      const seen = new Set<string>();
      for (let id: number | undefined = node.id; id !== undefined; id = parent.get(id)) {
        const k = name(byId.get(id)!);
        if (seen.has(k)) continue;
        seen.add(k);
        total.set(k, (total.get(k) ?? 0) + dt);
      }
    }
    const top = (m: Map<string, number>, n: number) => [...m].sort((a, b) => b[1] - a[1]).slice(0, n);
    process.stdout.write('-- functions by self time (ms)\n');
    for (const [k, v] of top(self, 25)) process.stdout.write(`  ${v.toFixed(0).padStart(6)} ${k}\n`);
    process.stdout.write('-- functions by total time (ms)\n');
    for (const [k, v] of top(total, 45)) process.stdout.write(`  ${v.toFixed(0).padStart(6)} ${k}\n`);
  }
} finally {
  await scope.close();
}
