/**
 * MCP per-call latency: Baton (`baton mcp` over stdio, and Streamable HTTP `/mcp`) against the
 * MCP reference filesystem server (`@modelcontextprotocol/server-filesystem`) over stdio, on the
 * same files. Same SDK client code for all three targets; sequential calls, one at a time.
 *
 *   node --import tsx bench/mcp.ts        (after `npm run build`)
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { startRedis, type TestRedis } from '../test/helpers/redis.js';
import { startBaton, BIN, REPO, type TestBaton } from '../test/helpers/baton.js';

const N_FILES = 1_000;
const WARMUP = 20;
const REF_BIN = resolve(REPO, 'node_modules/@modelcontextprotocol/server-filesystem/dist/index.js');

interface Target {
  name: string;
  /** Namespace root of the demo workspace for this target. */
  root: string;
  client: Client;
}

interface Op {
  tool: string;
  calls: number;
  args: (root: string, i: number, target: string) => Record<string, unknown>;
  /** Sanity check of the result text. */
  check: (text: string) => boolean;
}

const ONE_KIB = 'x'.repeat(1023) + '\n';
const FOUR_KIB = ('0123456789abcdef'.repeat(4) + '\n').repeat(64).slice(0, 4096);

const OPS: Op[] = [
  { tool: 'read_text_file', calls: 200, args: (r) => ({ path: `${r}/bench/read.txt` }), check: (t) => t.length === 4096 },
  {
    tool: 'write_file',
    calls: 200,
    args: (r, i, target) => ({ path: `${r}/writes/w-${target}-${i}.txt`, content: ONE_KIB }),
    check: (t) => t.startsWith('Successfully wrote'),
  },
  { tool: 'list_directory', calls: 50, args: (r) => ({ path: `${r}/bench` }), check: (t) => t.split('\n').length >= N_FILES },
  {
    tool: 'search_files',
    calls: 50,
    args: (r) => ({ path: `${r}/bench`, pattern: '*42*' }),
    // f-42, f-142, …, f-942 and f-420..f-429: 20 names among f-0..f-999
    check: (t) => t.trim().split("\n").length === 20,
  },
];

function text(res: unknown): string {
  const r = res as { content?: { type: string; text?: string }[]; isError?: boolean };
  if (r.isError) throw new Error(`tool error: ${r.content?.[0]?.text}`);
  return (r.content ?? []).filter((c) => c.type === 'text').map((c) => c.text).join('');
}

function pct(sorted: number[], p: number): number {
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

async function measure(t: Target, op: Op, targetId: string): Promise<{ p50: number; p99: number }> {
  let seq = 0;
  const call = async () => {
    const res = await t.client.callTool({ name: op.tool, arguments: op.args(t.root, seq++, targetId) });
    return text(res);
  };
  for (let i = 0; i < WARMUP; i++) {
    const out = await call();
    if (i === 0 && !op.check(out)) throw new Error(`${t.name} ${op.tool}: unexpected result: ${out.slice(0, 300)}`);
  }
  const ms: number[] = [];
  for (let i = 0; i < op.calls; i++) {
    const t0 = process.hrtime.bigint();
    await call();
    ms.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  ms.sort((a, b) => a - b);
  return { p50: pct(ms, 50), p99: pct(ms, 99) };
}

async function connect(name: string, transport: Transport): Promise<Client> {
  const client = new Client({ name: `bench-${name}`, version: '0.0.0' });
  await client.connect(transport);
  return client;
}

async function main(): Promise<void> {
  const load0 = loadavg();
  const dataDir = mkdtempSync(join(tmpdir(), 'baton-bench-mcp-'));
  const benchDir = join(dataDir, 'demo', 'bench');
  mkdirSync(benchDir, { recursive: true });
  for (let i = 0; i < N_FILES; i++) writeFileSync(join(benchDir, `f-${i}.txt`), `file ${i}\n`);
  writeFileSync(join(benchDir, 'read.txt'), FOUR_KIB);
  // written files go to a separate folder, so the listed/searched folder stays at 1,001 entries
  mkdirSync(join(dataDir, 'demo', 'writes'), { recursive: true });

  let redis: TestRedis | undefined;
  let baton: TestBaton | undefined;
  const clients: Client[] = [];
  try {
    redis = await startRedis();
    baton = await startBaton({ redisUrl: redis.url, dataDir });
    const kr = await fetch(`${baton.url}/v1/keys`, {
      method: 'POST',
      headers: { authorization: `Bearer ${baton.adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ agent: 'bench', grants: ['read:/demo/**', 'write:/demo/**'] }),
    });
    if (!kr.ok) throw new Error(`POST /v1/keys: ${kr.status} ${await kr.text()}`);
    const { key } = (await kr.json()) as { key: string };

    const env = Object.fromEntries(Object.entries(process.env).filter((e): e is [string, string] => e[1] !== undefined));
    const ref = await connect('ref', new StdioClientTransport({ command: process.execPath, args: [REF_BIN, join(dataDir, 'demo')], env, stderr: 'ignore' }));
    clients.push(ref);
    const bstdio = await connect(
      'baton-stdio',
      new StdioClientTransport({ command: process.execPath, args: [BIN, 'mcp'], env: { ...env, BATON_URL: baton.url, BATON_KEY: key }, stderr: 'inherit' }),
    );
    clients.push(bstdio);
    const bhttp = await connect(
      'baton-http',
      new StreamableHTTPClientTransport(new URL(`${baton.url}/mcp`), { requestInit: { headers: { Authorization: `Bearer ${key}` } } }),
    );
    clients.push(bhttp);

    const targets: [string, Target][] = [
      ['ref', { name: 'reference stdio', root: join(dataDir, 'demo'), client: ref }],
      ['bstdio', { name: 'Baton stdio', root: '/demo', client: bstdio }],
      ['bhttp', { name: 'Baton HTTP', root: '/demo', client: bhttp }],
    ];

    const results: Record<string, Record<string, { p50: number; p99: number }>> = {};
    for (const op of OPS) {
      results[op.tool] = {};
      for (const [id, t] of targets) {
        results[op.tool]![id] = await measure(t, op, id);
        console.error(`${op.tool} ${t.name}: p50 ${results[op.tool]![id]!.p50.toFixed(2)} ms, p99 ${results[op.tool]![id]!.p99.toFixed(2)} ms`);
      }
    }
    const load1 = loadavg();

    const f = (r: { p50: number; p99: number }) => `${r.p50.toFixed(2)} / ${r.p99.toFixed(2)}`;
    const lines = [
      '| tool | calls | reference stdio p50/p99 (ms) | Baton stdio p50/p99 (ms) | Baton HTTP p50/p99 (ms) | ratio Baton-stdio/reference (p50) |',
      '|---|---|---|---|---|---|',
      ...OPS.map((op) => {
        const r = results[op.tool]!;
        return `| ${op.tool} | ${op.calls} | ${f(r.ref!)} | ${f(r.bstdio!)} | ${f(r.bhttp!)} | ${(r.bstdio!.p50 / r.ref!.p50).toFixed(1)}× |`;
      }),
    ];
    const fmtLoad = (l: number[]) => l.map((x) => x.toFixed(2)).join(' / ');
    const loadLine = `Machine: ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'}), Node ${process.version}; loadavg 1/5/15 min at start ${fmtLoad(load0)}, at end ${fmtLoad(load1)}.`;
    const table = lines.join('\n');
    console.log(table);
    console.log();
    console.log(loadLine);

    const doc = `# MCP per-call latency: Baton vs the reference filesystem server

Produced by \`node --import tsx bench/mcp.ts\` (after \`npm run build\`).

Setup: \`<dataDir>/demo/bench/\` holds ${N_FILES.toLocaleString('en')} small text files plus a 4 KiB \`read.txt\`, written to disk before the servers start. The reference server (\`@modelcontextprotocol/server-filesystem\`, stdio) gets \`<dataDir>/demo\` as its allowed directory and is called with absolute OS paths; Baton (one \`baton serve\` with Redis, a key with \`read:/demo/**\`, \`write:/demo/**\`) is called with \`/demo/bench/...\`, once through \`baton mcp\` (stdio, a REST client of the server) and once through Streamable HTTP \`/mcp\`. The same SDK \`Client\` code drives all three, one call at a time; each row is ${WARMUP} warm-up calls then the measured calls, timed with \`process.hrtime\` around \`client.callTool\`.

- \`read_text_file\`: the 4 KiB \`read.txt\`.
- \`write_file\`: a new 1 KiB file each call, in \`demo/writes/\` (so the bench folder stays as it is).
- \`list_directory\`: the bench folder (${N_FILES.toLocaleString('en')} files + \`read.txt\`).
- \`search_files\`: pattern \`*42*\` in the bench folder (20 matches).

${table}

${loadLine}
`;
    writeFileSync(join(REPO, 'docs', 'mcp-benchmark.md'), doc);
  } finally {
    for (const c of clients) await c.close().catch(() => {});
    await baton?.stop().catch(() => {});
    await redis?.stop().catch(() => {});
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
