/**
 * Per tool, one call at a time: latency and CPU per call of Baton over `/mcp` and over
 * `baton mcp`, next to the reference filesystem server (stdio) and Baton's REST `GET` of the same
 * 4 KiB file, on section 5's files. `list_allowed_directories` touches no file: it is what the
 * MCP layer alone costs. With --prof the server (and, for stdio, the relay) runs under the V8
 * sampling profiler, and each measured window's functions by self time are printed.
 *
 *   npm run build && node --import tsx bench/mcp-calls.ts [--calls=400] [--targets=http,stdio,ref,rest]
 *     [--tools=read_text_file,…] [--prof]
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { BIN } from '../test/helpers/baton.js';
import { createKey } from '../test/helpers/http.js';
import { cpuMs, summarizeProfile, type CpuProfile } from './lib/cpu-profile.js';
import { HttpClient } from './lib/http.js';
import { makeMcpFiles, REF_BIN, toolText } from './lib/mcp.js';
import { Scope } from './lib/scope.js';
import { startStack } from './lib/stack.js';
import { now, summarize } from './lib/stats.js';

const args = process.argv.slice(2);
const opt = (name: string, dflt: string) => args.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? dflt;
const CALLS = Number(opt('calls', '400'));
const TARGETS = opt('targets', 'http,stdio,ref,rest').split(',');
const PROFILE = args.includes('--prof');
const N_FILES = 1_000;
const WARMUP = 30;

const TOOLS: Array<{ tool: string; calls: number; args: (root: string, i: number) => Record<string, unknown> }> = [
  { tool: 'list_allowed_directories', calls: CALLS, args: () => ({}) },
  { tool: 'read_text_file', calls: CALLS, args: (r) => ({ path: `${r}/bench/read.txt` }) },
  { tool: 'write_file', calls: CALLS, args: (r, i) => ({ path: `${r}/writes/c-${process.pid}-${i}-${Math.random().toString(36).slice(2)}.txt`, content: `${'x'.repeat(1023)}\n` }) },
  { tool: 'list_directory', calls: Math.ceil(CALLS / 4), args: (r) => ({ path: `${r}/bench` }) },
  { tool: 'search_files', calls: Math.ceil(CALLS / 4), args: (r) => ({ path: `${r}/bench`, pattern: '*42*' }) },
];
const ONLY = opt('tools', TOOLS.map((t) => t.tool).join(',')).split(',');

interface Target {
  name: string;
  client: Client;
  root: string;
  relayPid?: number;
}

const scope = new Scope();
const profDir = mkdtempSync(join(tmpdir(), 'baton-mcp-calls-prof-'));
scope.defer('profile dir', () => rmSync(profDir, { recursive: true, force: true }));
const profEnv: Record<string, string> = PROFILE ? { NODE_OPTIONS: `--require ${join(import.meta.dirname, 'lib', 'cpu-prof-preload.cjs')}`, BATON_CPU_PROF_DIR: profDir } : {};
const windows: Array<{ what: string; pid: number; calls: number; from: number; to: number }> = [];

try {
  const dataDir = mkdtempSync(join(tmpdir(), 'baton-mcp-calls-'));
  makeMcpFiles(dataDir, N_FILES);
  const stack = await startStack(scope, { dataDir, env: profEnv });
  const pid = stack.baton.proc.pid!;
  const { key } = await createKey(stack.baton.url, stack.baton.adminToken, { agent: 'mcp-calls', grants: ['read:/demo/**', 'write:/demo/**'] });
  const env = Object.fromEntries(Object.entries(process.env).filter((e): e is [string, string] => e[1] !== undefined));
  const targets: Target[] = [];
  const open = async (name: string, transport: StdioClientTransport | StreamableHTTPClientTransport, root: string, relayPid?: () => number | undefined) => {
    const client = new Client({ name: `mcp-calls-${name}`, version: '0' });
    await client.connect(transport);
    scope.defer(`client ${name}`, () => client.close());
    targets.push({ name, client, root, relayPid: relayPid?.() });
  };
  if (TARGETS.includes('http')) {
    await open('http', new StreamableHTTPClientTransport(new URL(`${stack.baton.url}/mcp`), { requestInit: { headers: { authorization: `Bearer ${key}` } } }), '/demo');
  }
  if (TARGETS.includes('stdio')) {
    const t = new StdioClientTransport({ command: process.execPath, args: [BIN, 'mcp'], env: { ...env, BATON_URL: stack.baton.url, BATON_KEY: key, ...profEnv } });
    await open('stdio', t, '/demo', () => t.pid ?? undefined);
  }
  if (TARGETS.includes('ref')) {
    // Files of its own: its writes must not be outside changes the Baton under test records.
    const refDir = mkdtempSync(join(tmpdir(), 'baton-mcp-calls-ref-'));
    scope.defer('reference files', () => rmSync(refDir, { recursive: true, force: true }));
    makeMcpFiles(refDir, N_FILES);
    await open('ref', new StdioClientTransport({ command: process.execPath, args: [REF_BIN, join(refDir, 'demo')], env, stderr: 'ignore' }), join(refDir, 'demo'));
  }
  // Let the start-up reconcile of the files settle first.
  await new Promise((r) => setTimeout(r, 3000));

  const measure = async (what: string, calls: number, relayPid: number | undefined, one: (i: number) => Promise<void>) => {
    for (let i = 0; i < WARMUP; i++) await one(i);
    const c0 = cpuMs(pid);
    const r0 = relayPid ? cpuMs(relayPid) : 0;
    const from = Number(now() / 1000n);
    const ms: number[] = [];
    for (let i = 0; i < calls; i++) {
      const t0 = performance.now();
      await one(WARMUP + i);
      ms.push(performance.now() - t0);
    }
    windows.push({ what, pid, calls, from, to: Number(now() / 1000n) });
    if (relayPid) windows.push({ what: `${what} (relay)`, pid: relayPid, calls, from, to: Number(now() / 1000n) });
    const s = summarize(ms);
    const relay = relayPid ? `, relay CPU ${((cpuMs(relayPid) - r0) / calls).toFixed(2)} ms/call` : '';
    return `p50 ${s.p50.toFixed(2)} · p99 ${s.p99.toFixed(2)} ms, server CPU ${((cpuMs(pid) - c0) / calls).toFixed(2)} ms/call${relay}`;
  };

  if (TARGETS.includes('rest')) {
    const api = new HttpClient(stack.baton.url, key);
    scope.defer('rest client', () => api.close());
    const line = await measure('REST GET of read.txt', CALLS, undefined, async () => {
      const r = await api.request('GET', '/v1/files/demo/bench/read.txt');
      if (r.status !== 200) throw new Error(`GET: ${r.status}`);
    });
    console.log(`REST GET /v1/files/demo/bench/read.txt (node:http keep-alive): ${line}`);
  }
  for (const t of TOOLS.filter((x) => ONLY.includes(x.tool))) {
    for (const target of targets) {
      if (target.name === 'ref' && t.tool === 'list_allowed_directories') continue;
      const line = await measure(`${t.tool} over ${target.name}`, t.calls, target.relayPid, async (i) => {
        toolText(await target.client.callTool({ name: t.tool, arguments: t.args(target.root, i) }));
      });
      console.log(`${t.tool} over ${target.name}: ${line}${target.name === 'ref' ? ' (server CPU: Baton, idle meanwhile)' : ''}`);
    }
  }

  if (PROFILE) {
    for (const target of targets) await target.client.close().catch(() => undefined);
    await stack.baton.stop();
    await new Promise((r) => setTimeout(r, 500));
    const profiles = new Map(
      readdirSync(profDir)
        .filter((f) => f.endsWith('.cpuprofile'))
        .map((f) => [Number(/-(\d+)\.cpuprofile$/.exec(f)?.[1]), JSON.parse(readFileSync(join(profDir, f), 'utf8')) as CpuProfile]),
    );
    for (const w of windows) {
      const p = profiles.get(w.pid);
      if (!p) continue;
      const s = summarizeProfile(p, w.from, w.to, { self: 25, total: 0, modules: 12 });
      console.log(`\n== ${w.what}: ${(s.busyMs / w.calls).toFixed(3)} ms busy per call (profiled)`);
      for (const [k, v] of s.modules) console.log(`  module ${(v / w.calls).toFixed(3)}  ${k}`);
      for (const [k, v] of s.self) console.log(`  self   ${(v / w.calls).toFixed(3)}  ${k}`);
    }
  }
} finally {
  await scope.close();
}
process.exit(0);
