/**
 * Where the server's CPU goes per operation. `npm run build && node --import tsx bench/profile.ts`
 * starts its own redis-server and `baton serve` (under `--cpu-prof` unless --no-prof), then runs
 * two phases against it: acknowledged 1 KiB PUTs each delivered to one loopback webhook, and
 * claim → complete of seeded tickets. For each phase it prints the server's CPU ms per operation
 * (utime+stime from /proc/<pid>/stat, so not skewed by the profiler's sampling) and, from the
 * profile's samples inside that phase, the top functions by self time and the modules by self
 * time. A third phase calls MCP's read_text_file over `/mcp` (one SDK client session per concurrent
 * caller). Flags: --writes=N, --claims=N, --mcp=N, --conc=N, --no-prof, --only-mcp.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { Redis } from 'ioredis';
import { createKey } from '../test/helpers/http.js';
import { cpuMs, summarizeProfile, type CpuProfile } from './lib/cpu-profile.js';
import { HttpClient } from './lib/http.js';
import { Receiver } from './lib/receiver.js';
import { Scope } from './lib/scope.js';
import { KIB, startStack } from './lib/stack.js';
import { now, round, sleep } from './lib/stats.js';

const args = process.argv.slice(2);
const num = (name: string, dflt: number) => Number(args.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? dflt);
const WRITES = num('writes', 2000);
const CLAIMS = num('claims', 600);
const CONC = num('conc', 8);
const MCP_CALLS = num('mcp', 1000);
const PROFILE = !args.includes('--no-prof');
const ONLY_MCP = args.includes('--only-mcp');

/** Calls per command from `INFO commandstats` (`cmdstat_<name>:calls=N,...`). */
function commandStats(info: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const m of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) out.set(m[1]!, Number(m[2]));
  return out;
}

async function pool(n: number, conc: number, fn: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: conc }, async () => {
      while (next < n) await fn(next++);
    }),
  );
}

async function main(): Promise<void> {
  const scope = new Scope();
  const profDir = mkdtempSync(join(os.tmpdir(), 'baton-prof-'));
  scope.defer('profile dir', () => rmSync(profDir, { recursive: true, force: true }));
  const phases: Array<{ name: string; ops: number; cpu: number; redisCpu: number; redisCalls: Map<string, number>; wallMs: number; from: number; to: number }> = [];
  try {
    // --cpu-prof is refused in NODE_OPTIONS, so the profiler is started by a preload instead.
    const env: Record<string, string> = PROFILE ? { NODE_OPTIONS: `--require ${join(import.meta.dirname, 'lib', 'cpu-prof-preload.cjs')}`, BATON_CPU_PROF_DIR: profDir } : {};
    const stack = await startStack(scope, { env });
    const pid = stack.baton.proc.pid!;
    const { key } = await createKey(stack.baton.url, stack.baton.adminToken, { agent: 'prof', grants: ['read:/demo/**', 'write:/demo/**', 'claim:/demo/**'] });
    const api = new HttpClient(stack.baton.url, key);
    scope.defer('agent', () => api.close());
    const rx = await Receiver.start();
    scope.defer('receiver', () => rx.close());
    await stack.subscribe(`${rx.url}/hook`, ['/demo/prof/**']);

    const redisPid = stack.redis.proc.pid!;
    const probe = new Redis(stack.redis.url);
    scope.defer('redis probe', () => probe.quit().then(() => undefined));
    const phase = async (name: string, ops: number, run: () => Promise<void>) => {
      if (ops === 0) return;
      const c0 = cpuMs(pid);
      const r0 = cpuMs(redisPid);
      const s0 = commandStats(await probe.info('commandstats'));
      const t0 = now();
      await run();
      const t1 = now();
      const s1 = commandStats(await probe.info('commandstats'));
      const redisCalls = new Map([...s1].map(([cmd, n]) => [cmd, n - (s0.get(cmd) ?? 0)] as const).filter(([, n]) => n > 0));
      phases.push({ name, ops, cpu: cpuMs(pid) - c0, redisCpu: cpuMs(redisPid) - r0, redisCalls, wallMs: Number(t1 - t0) / 1e6, from: Number(t0 / 1000n), to: Number(t1 / 1000n) });
    };
    const put = async (path: string) => {
      const r = await api.request('PUT', path, KIB, { 'content-type': 'text/plain' });
      if (r.status !== 201) throw new Error(`PUT ${path}: ${r.status} ${r.body.toString().slice(0, 200)}`);
    };

    if (!ONLY_MCP) await writesAndClaims();
    async function writesAndClaims() {
      // Warm-up: JIT, scripts, connections.
      await pool(200, CONC, (i) => put(`/v1/files/demo/prof/warm/w-${i}.txt`));
      await rx.waitFor(() => rx.unique('/hook') >= 200, 30_000);
      await sleep(1500);

      await phase('write (PUT acknowledged + delivered)', WRITES, async () => {
        await pool(WRITES, CONC, (i) => put(`/v1/files/demo/prof/run/w-${i}.txt`));
        await rx.waitFor(() => rx.unique('/hook') >= 200 + WRITES, 60_000);
      });
      await sleep(1500);

      for (let i = 0; i < CLAIMS + 100; i++) await put(`/v1/files/demo/tasks/pending/t-${String(i).padStart(5, '0')}.txt`);
      // Warm the claim path, then measure claim and complete separately.
      await pool(100, CONC, async () => {
        const c = await api.json<{ path: string; fencingToken: number }>('POST', '/v1/tickets/claim', { queue: '/demo/tasks' });
        await api.json('POST', '/v1/tickets/complete', { path: c.json.path, fencingToken: c.json.fencingToken });
      });
      await sleep(1500);
      const claimed: Array<{ path: string; fencingToken: number }> = [];
      await phase('claim', CLAIMS, () =>
        pool(CLAIMS, CONC, async () => {
          const c = await api.json<{ path: string; fencingToken: number }>('POST', '/v1/tickets/claim', { queue: '/demo/tasks' });
          if (c.status !== 200) throw new Error(`claim: ${c.status} ${JSON.stringify(c.json)}`);
          claimed.push({ path: c.json.path, fencingToken: c.json.fencingToken });
        }),
      );
      await phase('complete', CLAIMS, () =>
        pool(CLAIMS, CONC, async (i) => {
          const r = await api.json('POST', '/v1/tickets/complete', claimed[i]);
          if (r.status !== 200) throw new Error(`complete: ${r.status} ${JSON.stringify(r.json)}`);
        }),
      );
      const tokens = new Set(claimed.map((c) => c.fencingToken));
      const names = new Set(claimed.map((c) => c.path));
      if (tokens.size !== claimed.length || names.size !== claimed.length) throw new Error('double claim');
    }

    if (MCP_CALLS > 0) {
      await put('/v1/files/demo/prof/mcp/read.txt');
      const clients = await Promise.all(
        Array.from({ length: CONC }, async () => {
          const c = new Client({ name: 'prof', version: '0' });
          await c.connect(new StreamableHTTPClientTransport(new URL(`${stack.baton.url}/mcp`), { requestInit: { headers: { authorization: `Bearer ${key}` } } }));
          scope.defer('mcp client', () => c.close());
          return c;
        }),
      );
      const read = async (c: Client) => {
        const r = (await c.callTool({ name: 'read_text_file', arguments: { path: '/demo/prof/mcp/read.txt' } })) as { isError?: boolean };
        if (r.isError) throw new Error(`read_text_file: ${JSON.stringify(r)}`);
      };
      await pool(200, CONC, (i) => read(clients[i % CONC]!));
      await sleep(1500);
      let n = 0;
      await phase('MCP read_text_file of 1 KiB over /mcp', MCP_CALLS, () =>
        Promise.all(clients.map(async (c) => {
          while (n < MCP_CALLS) {
            n++;
            await read(c);
          }
        })).then(() => undefined),
      );
    }

    await stack.baton.stop();
    const files = readdirSync(profDir).filter((f) => f.endsWith('.cpuprofile'));
    const profile = files.length > 0 ? (JSON.parse(readFileSync(join(profDir, files[0]!), 'utf8')) as CpuProfile) : null;
    for (const ph of phases) {
      process.stdout.write(`\n== ${ph.name}: ${ph.ops} ops, ${round(ph.ops / (ph.wallMs / 1000), 0)} ops/s at concurrency ${CONC}; server CPU ${round(ph.cpu / ph.ops, 3)} ms/op; redis-server CPU ${round(ph.redisCpu / ph.ops, 3)} ms/op\n`);
      const calls = [...ph.redisCalls].sort((a, b) => b[1] - a[1]);
      const total = calls.reduce((a, [, n]) => a + n, 0);
      // A script's own commands count in their rows as well as in evalsha's.
      process.stdout.write(`redis: ${round(total / ph.ops, 2)} commands/op: ${calls.slice(0, 10).map(([c, n]) => `${c} ${round(n / ph.ops, 2)}`).join(', ')}\n`);
      if (!profile) continue;
      const s = summarizeProfile(profile, ph.from, ph.to);
      process.stdout.write(`profile: ${round(s.busyMs / ph.ops, 3)} ms busy/op (of ${round(s.wallMs, 0)} ms sampled)\n-- modules by self time (ms/op)\n`);
      for (const [k, v] of s.modules) process.stdout.write(`  ${round(v / ph.ops, 3).toFixed(3)}  ${k}\n`);
      process.stdout.write('-- functions by self time (ms/op)\n');
      for (const [k, v] of s.self) process.stdout.write(`  ${round(v / ph.ops, 3).toFixed(3)}  ${k}\n`);
      process.stdout.write('-- by the innermost Baton function on the stack (ms/op)\n');
      for (const [k, v] of s.owners) process.stdout.write(`  ${round(v / ph.ops, 3).toFixed(3)}  ${k}\n`);
      process.stdout.write('-- functions by total time (ms/op)\n');
      for (const [k, v] of s.total) process.stdout.write(`  ${round(v / ph.ops, 3).toFixed(3)}  ${k}\n`);
    }
  } finally {
    await scope.close();
  }
}

await main();
