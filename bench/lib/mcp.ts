/**
 * MCP per-call latency, shared by the suite's section 5 (bench/mcp-latency.ts) and the standalone
 * `node --import tsx bench/mcp.ts`: the files, the tools and their arguments, the five targets
 * (Baton `baton mcp` over stdio, Baton Streamable HTTP `/mcp`, the reference
 * `@modelcontextprotocol/server-filesystem` over stdio, and the transport floors: no-op tools of
 * the same names over stdio and over Streamable HTTP, bench/lib/mcp-noop.ts) and one sequential
 * timing loop.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { BIN, REPO } from '../../test/helpers/baton.js';
import { FOUR_KIB, startNoopHttp } from './mcp-noop.js';
import { msSince, now } from './stats.js';

export const REF_BIN = resolve(REPO, 'node_modules/@modelcontextprotocol/server-filesystem/dist/index.js');
const NOOP_SERVER = resolve(REPO, 'bench/lib/mcp-noop-server.ts');

/** ref: reference server; nstdio/nhttp: no-op tools over stdio/HTTP; bstdio/bhttp: Baton. */
export type TargetId = 'ref' | 'nstdio' | 'nhttp' | 'bstdio' | 'bhttp';

export interface McpTarget {
  id: TargetId;
  name: string;
  /** Namespace root of the demo workspace for this target. */
  root: string;
  client: Client;
}

export interface McpOp {
  tool: string;
  calls: number;
  args: (root: string, i: number, target: string) => Record<string, unknown>;
  /** Sanity check of the result text. */
  check: (text: string) => boolean;
}

const ONE_KIB = 'x'.repeat(1023) + '\n';

/**
 * `<dataDir>/demo/bench/` with `nFiles` small files `f-<i>.txt` plus a 4 KiB `read.txt`, and an
 * empty `<dataDir>/demo/writes/` (written files go there, so the listed folder stays as it is).
 */
export function makeMcpFiles(dataDir: string, nFiles: number): void {
  const benchDir = join(dataDir, 'demo', 'bench');
  mkdirSync(benchDir, { recursive: true });
  for (let i = 0; i < nFiles; i++) writeFileSync(join(benchDir, `f-${i}.txt`), `file ${i}\n`);
  writeFileSync(join(benchDir, 'read.txt'), FOUR_KIB);
  mkdirSync(join(dataDir, 'demo', 'writes'), { recursive: true });
}

/** The four tools, each with its number of timed calls. */
export function mcpOps(nFiles: number, counts: { read: number; write: number; list: number; search: number }): McpOp[] {
  let matches = 0;
  for (let i = 0; i < nFiles; i++) if (String(i).includes('42')) matches++;
  return [
    { tool: 'read_text_file', calls: counts.read, args: (r) => ({ path: `${r}/bench/read.txt` }), check: (t) => t.length === 4096 },
    {
      tool: 'write_file',
      calls: counts.write,
      args: (r, i, target) => ({ path: `${r}/writes/w-${target}-${i}.txt`, content: ONE_KIB }),
      check: (t) => t.startsWith('Successfully wrote'),
    },
    { tool: 'list_directory', calls: counts.list, args: (r) => ({ path: `${r}/bench` }), check: (t) => t.split('\n').length >= nFiles },
    {
      tool: 'search_files',
      calls: counts.search,
      args: (r) => ({ path: `${r}/bench`, pattern: '*42*' }),
      // f-42, f-142, …: the names among f-0..f-(n-1) that contain 42
      check: (t) => t.trim().split('\n').length === matches,
    },
  ];
}

export function toolText(res: unknown): string {
  const r = res as { content?: { type: string; text?: string }[]; isError?: boolean };
  if (r.isError) throw new Error(`tool error: ${r.content?.[0]?.text}`);
  return (r.content ?? []).filter((c) => c.type === 'text').map((c) => c.text).join('');
}

async function connect(name: string, transport: Transport): Promise<Client> {
  const client = new Client({ name: `bench-${name}`, version: '0.0.0' });
  await client.connect(transport);
  return client;
}

/**
 * Connect the five targets: one running `baton serve` (`batonUrl`, a key with read and write on
 * /demo/**) whose data directory holds `makeMcpFiles`' files, the reference server on a copy of
 * those files of its own (its writes must not land in a folder Baton watches, where each would
 * be an outside change Baton records while the next target is timed), and the no-op tools for a
 * folder of `nFiles` files over stdio (a child process) and over HTTP (a server in this
 * process). Everything opened (each client with its child process, the no-op HTTP server, the
 * copy) is passed to `defer` at once, so the caller can release it whatever happens next.
 */
export async function openMcpTargets(
  batonUrl: string,
  key: string,
  nFiles: number,
  defer: (what: string, close: () => Promise<void>) => void,
  childStderr: 'inherit' | 'ignore' = 'inherit',
): Promise<McpTarget[]> {
  const env = Object.fromEntries(Object.entries(process.env).filter((e): e is [string, string] => e[1] !== undefined));
  const open = async (name: string, transport: Transport) => {
    const c = await connect(name, transport);
    defer(`mcp client ${name}`, () => c.close().catch(() => undefined));
    return c;
  };
  const refDir = mkdtempSync(join(tmpdir(), 'baton-bench-mcp-ref-'));
  defer('reference files', async () => rmSync(refDir, { recursive: true, force: true }));
  makeMcpFiles(refDir, nFiles);
  const ref = await open('ref', new StdioClientTransport({ command: process.execPath, args: [REF_BIN, join(refDir, 'demo')], env, stderr: 'ignore' }));
  const nstdio = await open('noop-stdio', new StdioClientTransport({ command: process.execPath, args: ['--import', 'tsx', NOOP_SERVER, String(nFiles)], cwd: REPO, env, stderr: childStderr }));
  const noopHttp = await startNoopHttp(nFiles);
  defer('no-op MCP HTTP server', () => noopHttp.close());
  const nhttp = await open('noop-http', new StreamableHTTPClientTransport(new URL(noopHttp.url)));
  const bstdio = await open('baton-stdio', new StdioClientTransport({ command: process.execPath, args: [BIN, 'mcp'], env: { ...env, BATON_URL: batonUrl, BATON_KEY: key }, stderr: childStderr }));
  const bhttp = await open('baton-http', new StreamableHTTPClientTransport(new URL(`${batonUrl}/mcp`), { requestInit: { headers: { Authorization: `Bearer ${key}` } } }));
  return [
    { id: 'ref', name: 'reference stdio', root: join(refDir, 'demo'), client: ref },
    { id: 'nstdio', name: 'no-op stdio', root: '/demo', client: nstdio },
    { id: 'nhttp', name: 'no-op HTTP', root: '/demo', client: nhttp },
    { id: 'bstdio', name: 'Baton stdio', root: '/demo', client: bstdio },
    { id: 'bhttp', name: 'Baton HTTP', root: '/demo', client: bhttp },
  ];
}

/** `warmup` calls (the first one's result checked), then `op.calls` timed calls, one at a time; ms each. */
export async function timeCalls(t: McpTarget, op: McpOp, warmup: number): Promise<number[]> {
  let seq = 0;
  const call = async () => toolText(await t.client.callTool({ name: op.tool, arguments: op.args(t.root, seq++, t.id) }));
  for (let i = 0; i < warmup; i++) {
    const out = await call();
    if (i === 0 && !op.check(out)) throw new Error(`${t.name} ${op.tool}: unexpected result: ${out.slice(0, 300)}`);
  }
  const ms: number[] = [];
  for (let i = 0; i < op.calls; i++) {
    const t0 = now();
    await call();
    ms.push(msSince(t0));
  }
  return ms;
}
