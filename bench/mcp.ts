/**
 * MCP per-call latency: Baton (`baton mcp` over stdio, and Streamable HTTP `/mcp`) against the
 * MCP reference filesystem server (`@modelcontextprotocol/server-filesystem`) over stdio, on the
 * same files, and against each transport's floor: no-op tools of the same names over stdio and
 * over Streamable HTTP (bench/lib/mcp-noop.ts). Same SDK client code for all five targets;
 * sequential calls, one at a time.
 *
 *   node --import tsx bench/mcp.ts        (after `npm run build`)
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRedis, type TestRedis } from '../test/helpers/redis.js';
import { startBaton, REPO, type TestBaton } from '../test/helpers/baton.js';
import { makeMcpFiles, mcpOps, openMcpTargets, timeCalls } from './lib/mcp.js';
import { summarize } from './lib/stats.js';

const N_FILES = 1_000;
const WARMUP = 20;
const OPS = mcpOps(N_FILES, { read: 200, write: 200, list: 50, search: 50 });

async function main(): Promise<void> {
  const load0 = loadavg();
  const dataDir = mkdtempSync(join(tmpdir(), 'baton-bench-mcp-'));
  // written files go to a separate folder, so the listed/searched folder stays at 1,001 entries
  makeMcpFiles(dataDir, N_FILES);

  let redis: TestRedis | undefined;
  let baton: TestBaton | undefined;
  const cleanups: Array<() => Promise<void>> = [];
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

    const targets = await openMcpTargets(baton.url, key, N_FILES, (_what, close) => cleanups.push(close));
    const results: Record<string, Record<string, { p50: number; p99: number }>> = {};
    for (const op of OPS) {
      results[op.tool] = {};
      for (const t of targets) {
        const id = t.id;
        const sum = summarize(await timeCalls(t, op, WARMUP));
        results[op.tool]![id] = { p50: sum.p50, p99: sum.p99 };
        console.error(`${op.tool} ${t.name}: p50 ${results[op.tool]![id]!.p50.toFixed(2)} ms, p99 ${results[op.tool]![id]!.p99.toFixed(2)} ms`);
      }
    }
    const load1 = loadavg();

    const f = (r: { p50: number; p99: number }) => `${r.p50.toFixed(2)} / ${r.p99.toFixed(2)}`;
    const x = (a: number, b: number) => `${(a / b).toFixed(1)}×`;
    const lines = [
      '| tool | calls | reference stdio p50/p99 (ms) | no-op stdio p50/p99 (ms) | no-op HTTP p50/p99 (ms) | Baton stdio p50/p99 (ms) | Baton HTTP p50/p99 (ms) | Baton stdio / reference (p50) | Baton stdio / (no-op stdio + no-op HTTP) (p50) | Baton HTTP / no-op HTTP (p50) |',
      '|---|---|---|---|---|---|---|---|---|---|',
      ...OPS.map((op) => {
        const r = results[op.tool]!;
        return `| ${op.tool} | ${op.calls} | ${f(r.ref!)} | ${f(r.nstdio!)} | ${f(r.nhttp!)} | ${f(r.bstdio!)} | ${f(r.bhttp!)} | ${x(r.bstdio!.p50, r.ref!.p50)} | ${x(r.bstdio!.p50, r.nstdio!.p50 + r.nhttp!.p50)} | ${x(r.bhttp!.p50, r.nhttp!.p50)} |`;
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

Setup: \`<dataDir>/demo/bench/\` holds ${N_FILES.toLocaleString('en')} small text files plus a 4 KiB \`read.txt\`, written to disk before the servers start. The reference server (\`@modelcontextprotocol/server-filesystem\`, stdio) gets a copy of \`<dataDir>/demo\` of its own as its allowed directory (so its writes are not outside changes Baton records) and is called with absolute OS paths; Baton (one \`baton serve\` with Redis, a key with \`read:/demo/**\`, \`write:/demo/**\`) is called with \`/demo/bench/...\`, once through \`baton mcp\` (stdio, relaying to the server's \`/mcp\`) and once through Streamable HTTP \`/mcp\`. The transport floors: an MCP server (\`McpServer\` of the same SDK) whose four tools have the same names and arguments but touch no file and answer at once with a text of the same size (the 4 KiB text, \`Successfully wrote to <path>\`, ${(N_FILES + 1).toLocaleString('en')} \`[FILE]\` lines, the 20 matching paths), served over stdio (\`bench/lib/mcp-noop-server.ts\`, a child process) and over Streamable HTTP (a \`node:http\` server in the bench process on 127.0.0.1, one server per session on the SDK's \`StreamableHTTPServerTransport\` with JSON answers, like Baton's \`/mcp\`). What they cost is the SDK and the transport alone. Baton's \`/mcp\` is compared with the no-op HTTP tool; \`baton mcp\` goes stdio → \`baton mcp\` → \`/mcp\` over HTTP → server, so it is compared with the sum of both no-op floors. The same SDK \`Client\` code drives all five, one call at a time; each row is ${WARMUP} warm-up calls then the measured calls, timed with \`process.hrtime\` around \`client.callTool\`.

- \`read_text_file\`: the 4 KiB \`read.txt\`.
- \`write_file\`: a new 1 KiB file each call, in \`demo/writes/\` (so the bench folder stays as it is).
- \`list_directory\`: the bench folder (${N_FILES.toLocaleString('en')} files + \`read.txt\`).
- \`search_files\`: pattern \`*42*\` in the bench folder (20 matches).

${table}

${loadLine}
`;
    writeFileSync(join(REPO, 'docs', 'mcp-benchmark.md'), doc);
  } finally {
    for (const close of cleanups.reverse()) await close().catch(() => {});
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
