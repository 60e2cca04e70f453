/**
 * The floor of any MCP server over HTTP for the client the benchmarks use (and agents do): the
 * SDK's `Client` on `StreamableHTTPClientTransport` with the global `fetch`, calling a tool of a
 * server that does no work at all — a bare `node:http` handler in this process that answers
 * every JSON-RPC request with a fixed result of the size of section 5's read (4 KiB of text) —
 * next to the same client on the `node:http` keep-alive fetch that `baton mcp` relays with.
 * What is left is the SDK client, the HTTP client and loopback TCP: no MCP server, no file.
 * Prints p50 · p99 and the process's CPU per call (client and the bare server together).
 *
 *   node --import tsx bench/mcp-http-floor.ts [calls]
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { keepAliveFetch } from '../src/mcp/keep-alive-fetch.js';
import { FOUR_KIB } from './lib/mcp-noop.js';
import { summarize } from './lib/stats.js';

const CALLS = Number(process.argv[2] ?? 2000);
const ROUNDS = 3;

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (d: Buffer) => chunks.push(d));
  req.on('end', () => {
    if (req.method !== 'POST') {
      res.writeHead(405).end();
      return;
    }
    const m = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { id?: number | string; method: string; params?: { protocolVersion?: string } };
    if (m.id === undefined) {
      res.writeHead(202).end();
      return;
    }
    const result =
      m.method === 'initialize'
        ? { protocolVersion: m.params?.protocolVersion, capabilities: { tools: {} }, serverInfo: { name: 'floor', version: '0' } }
        : { content: [{ type: 'text', text: FOUR_KIB }], structuredContent: { content: FOUR_KIB } };
    res.writeHead(200, { 'content-type': 'application/json', 'mcp-session-id': 'floor' }).end(JSON.stringify({ result, jsonrpc: '2.0', id: m.id }));
  });
});
await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
const url = new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`);

const clients = { 'global fetch (undici)': undefined, 'node:http keep-alive fetch': keepAliveFetch() } as const;
const ms: Record<string, number[]> = {};
const cpu: Record<string, number> = {};
const connected = new Map<string, Client>();
for (const [name, ka] of Object.entries(clients)) {
  const c = new Client({ name: 'floor', version: '0' });
  await c.connect(new StreamableHTTPClientTransport(url, ka ? { fetch: ka.fetch } : {}));
  for (let i = 0; i < 200; i++) await c.callTool({ name: 'read_text_file', arguments: { path: '/demo/bench/read.txt' } });
  connected.set(name, c);
  ms[name] = [];
  cpu[name] = 0;
}
// Alternating blocks, so other work on the machine loads both clients alike.
for (let round = 0; round < ROUNDS; round++) {
  for (const [name, c] of connected) {
    const u0 = process.cpuUsage();
    for (let i = 0; i < Math.ceil(CALLS / ROUNDS); i++) {
      const t0 = performance.now();
      await c.callTool({ name: 'read_text_file', arguments: { path: '/demo/bench/read.txt' } });
      ms[name]!.push(performance.now() - t0);
    }
    const u = process.cpuUsage(u0);
    cpu[name]! += (u.user + u.system) / 1000;
  }
}
for (const [name, c] of connected) {
  const s = summarize(ms[name]!);
  console.log(`${name}: p50 ${s.p50.toFixed(2)} ms · p99 ${s.p99.toFixed(2)} ms, CPU ${(cpu[name]! / ms[name]!.length).toFixed(3)} ms/call (client + bare server)`);
  await c.close();
}
clients['node:http keep-alive fetch'].close();
server.close();
server.closeAllConnections();
