/**
 * MCP per-call latency and CPU, this checkout against another build of Baton, side by side in
 * one run: each build gets its own redis-server and `baton serve` on the same files, and the
 * same SDK client code calls both over `/mcp` and over `baton mcp`, in alternating blocks, so a
 * machine shared with other work loads both alike. CPU per call is the server's (and the
 * relay's) on-CPU time from /proc/<pid>/task/<tid>/schedstat, summed over the measured calls.
 * The reference `@modelcontextprotocol/server-filesystem` (stdio, on the second build's files)
 * takes its turn in the same blocks, so each row also shows the floor the targets are set against.
 *
 *   git archive <commit> | tar -x -C /tmp/base && ln -s $PWD/node_modules /tmp/base/ && (cd /tmp/base && npx tsc -p tsconfig.build.json)
 *   npm run build && node --import tsx bench/mcp-ab.ts /tmp/base
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { startRedis, type TestRedis } from '../test/helpers/redis.js';
import { makeMcpFiles, mcpOps, REF_BIN, toolText } from './lib/mcp.js';
import { summarize } from './lib/stats.js';

const REPO = resolve(import.meta.dirname, '..');
const N_FILES = 1_000;
const ROUNDS = 10;
const WARMUP = 20;
const OPS = mcpOps(N_FILES, { read: 200, write: 200, list: 50, search: 50 });

/** On-CPU nanoseconds of a process, all its threads. */
function cpuNs(pid: number): number {
  let sum = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      sum += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
    } catch {
      // the thread ended meanwhile
    }
  }
  return sum;
}

interface Build {
  name: string;
  bin: string;
  redis?: TestRedis;
  proc?: ChildProcess;
  url?: string;
  dataDir: string;
}

async function serve(b: Build): Promise<void> {
  b.redis = await startRedis();
  const ws = mkdtempSync(join(tmpdir(), 'baton-ab-ws-'));
  cpSync(join(REPO, 'workspaces'), ws, { recursive: true });
  const token = `admin-${Math.random().toString(36).slice(2)}`;
  b.proc = spawn(process.execPath, [b.bin, 'serve', '--port', '0', '--host', '127.0.0.1', '--data', b.dataDir, '--workspaces', ws, '--redis', b.redis.url], {
    env: { ...process.env, BATON_ADMIN_TOKEN: token, BATON_LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  b.url = await new Promise<string>((res, rej) => {
    let out = '';
    b.proc!.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /baton listening on (\S+)/.exec(out);
      if (m) res(m[1]!);
    });
    b.proc!.once('exit', (code) => rej(new Error(`${b.name}: baton serve exited with ${code}`)));
  });
  const kr = await fetch(`${b.url}/v1/keys`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ agent: 'bench', grants: ['read:/demo/**', 'write:/demo/**'] }),
  });
  (b as Build & { key: string }).key = ((await kr.json()) as { key: string }).key;
}

interface Target {
  label: string;
  build: Build;
  transport: 'HTTP /mcp' | 'stdio baton mcp' | 'reference';
  client: Client;
  relayPid?: number;
  ms: number[];
  serverNs: number;
  relayNs: number;
  calls: number;
  seq: number;
}

async function main(): Promise<void> {
  const basePath = process.argv[2];
  if (!basePath) throw new Error('usage: node --import tsx bench/mcp-ab.ts <checkout of the other build, built>');
  const load0 = loadavg();
  const builds: Build[] = [
    { name: 'before', bin: join(resolve(basePath), 'bin', 'baton.js'), dataDir: mkdtempSync(join(tmpdir(), 'baton-ab-a-')) },
    { name: 'after', bin: join(REPO, 'bin', 'baton.js'), dataDir: mkdtempSync(join(tmpdir(), 'baton-ab-b-')) },
  ];
  const targets: Target[] = [];
  let refDir: string | undefined;
  try {
    for (const b of builds) {
      makeMcpFiles(b.dataDir, N_FILES);
      mkdirSync(join(b.dataDir, 'demo', 'writes'), { recursive: true });
      await serve(b);
      const key = (b as Build & { key: string }).key;
      const http = new Client({ name: 'ab-http', version: '0' });
      await http.connect(new StreamableHTTPClientTransport(new URL(`${b.url}/mcp`), { requestInit: { headers: { Authorization: `Bearer ${key}` } } }));
      const stdioTransport = new StdioClientTransport({ command: process.execPath, args: [b.bin, 'mcp'], env: { ...(process.env as Record<string, string>), BATON_URL: b.url!, BATON_KEY: key }, stderr: 'inherit' });
      const stdio = new Client({ name: 'ab-stdio', version: '0' });
      await stdio.connect(stdioTransport);
      for (const [transport, client, relayPid] of [['HTTP /mcp', http, undefined], ['stdio baton mcp', stdio, stdioTransport.pid ?? undefined]] as const) {
        await client.listTools();
        targets.push({ label: `${b.name} ${transport}`, build: b, transport, client, relayPid, ms: [], serverNs: 0, relayNs: 0, calls: 0, seq: 0 });
      }
    }
    // Its own copy of the files: its writes must not land in a folder a Baton under test watches.
    refDir = mkdtempSync(join(tmpdir(), 'baton-ab-ref-'));
    makeMcpFiles(refDir, N_FILES);
    const refClient = new Client({ name: 'ab-ref', version: '0' });
    await refClient.connect(new StdioClientTransport({ command: process.execPath, args: [REF_BIN, join(refDir, 'demo')], stderr: 'ignore' }));
    targets.push({ label: 'reference', build: builds[1]!, transport: 'reference', client: refClient, ms: [], serverNs: 0, relayNs: 0, calls: 0, seq: 0 });
    const rootOf = (t: Target) => (t.transport === 'reference' ? join(refDir!, 'demo') : '/demo');
    // Let the start-up reconcile of 1,000 files settle before timing anything.
    await new Promise((r) => setTimeout(r, 3000));
    const rows: string[] = [];
    for (const op of OPS) {
      for (const t of targets) Object.assign(t, { ms: [], serverNs: 0, relayNs: 0, calls: 0 });
      const call = async (t: Target) => toolText(await t.client.callTool({ name: op.tool, arguments: op.args(rootOf(t), t.seq++, t.label.replace(/\W+/g, '-')) }));
      for (const t of targets) for (let i = 0; i < WARMUP; i++) await call(t);
      const block = Math.ceil(op.calls / ROUNDS);
      for (let round = 0; round < ROUNDS; round++) {
        const order = round % 2 === 0 ? targets : [...targets].reverse();
        for (const t of order) {
          const s0 = t.transport === 'reference' ? 0 : cpuNs(t.build.proc!.pid!);
          const r0 = t.relayPid ? cpuNs(t.relayPid) : 0;
          for (let i = 0; i < block; i++) {
            const t0 = process.hrtime.bigint();
            await call(t);
            t.ms.push(Number(process.hrtime.bigint() - t0) / 1e6);
          }
          if (t.transport !== 'reference') t.serverNs += cpuNs(t.build.proc!.pid!) - s0;
          if (t.relayPid) t.relayNs += cpuNs(t.relayPid) - r0;
          t.calls += block;
        }
      }
      const ref = summarize(targets.find((t) => t.transport === 'reference')!.ms);
      for (const transport of ['HTTP /mcp', 'stdio baton mcp'] as const) {
        const [a, b] = builds.map((bd) => targets.find((t) => t.build === bd && t.transport === transport)!);
        const sa = summarize(a!.ms);
        const sb = summarize(b!.ms);
        const cpu = (t: Target, ns: number) => (ns / t.calls / 1e6).toFixed(2);
        const relay = transport === 'HTTP /mcp' ? '—' : `${cpu(a!, a!.relayNs)} → ${cpu(b!, b!.relayNs)}`;
        rows.push(
          `| ${op.tool} | ${transport} | ${a!.calls} | ${sa.p50.toFixed(2)} · ${sa.p99.toFixed(2)} | ${sb.p50.toFixed(2)} · ${sb.p99.toFixed(2)} | ${ref.p50.toFixed(2)} · ${ref.p99.toFixed(2)} | ${cpu(a!, a!.serverNs)} → ${cpu(b!, b!.serverNs)} | ${relay} |`,
        );
        console.error(rows[rows.length - 1]);
      }
    }
    const fmt = (l: number[]) => l.map((x) => x.toFixed(2)).join(' / ');
    console.log('| tool | transport | calls each | before p50 · p99 (ms) | after p50 · p99 (ms) | reference p50 · p99 (ms) | server CPU ms/call, before → after | relay CPU ms/call, before → after |');
    console.log('|---|---|---|---|---|---|---|---|');
    for (const r of rows) console.log(r);
    console.log(`\nMachine: ${cpus().length} CPUs, Node ${process.version}; loadavg 1/5/15 min at start ${fmt(load0)}, at end ${fmt(loadavg())}.`);
  } finally {
    for (const t of targets) await t.client.close().catch(() => undefined);
    for (const b of builds) {
      if (b.proc && b.proc.exitCode === null) {
        const exited = new Promise((r) => b.proc!.once('exit', r));
        b.proc.kill('SIGTERM');
        await exited;
      }
      await b.redis?.stop().catch(() => undefined);
      rmSync(b.dataDir, { recursive: true, force: true });
    }
    if (refDir) rmSync(refDir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
