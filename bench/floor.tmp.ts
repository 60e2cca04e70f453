import http from 'node:http';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { z } from 'zod';
const TEXT = 'x'.repeat(4096);
const srv = http.createServer(async (req, res) => {
  const s = new McpServer({ name: 'floor', version: '0' });
  s.registerTool('noop', { inputSchema: { path: z.string() } }, async () => ({ content: [{ type: 'text', text: TEXT }] }));
  const t = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
  await s.connect(t);
  await t.handleRequest(req, res);
  res.on('close', () => void s.close());
});
await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
const port = (srv.address() as any).port;
async function time(c: Client, n = 500) { const ms: number[] = []; for (let i = 0; i < n + 50; i++) { const t0 = performance.now(); await c.callTool({ name: 'noop', arguments: { path: 'a' } }); if (i >= 50) ms.push(performance.now() - t0); } ms.sort((a, b) => a - b); return `p50 ${ms[n / 2]!.toFixed(2)} p99 ${ms[Math.floor(n * 0.99)]!.toFixed(2)}`; }
const a = new Client({ name: 'a', version: '0' }); await a.connect(new StdioClientTransport({ command: process.execPath, args: ['bench/floor-server.tmp.mjs'] }));
const b = new Client({ name: 'b', version: '0' }); await b.connect(new StreamableHTTPClientTransport(new URL(`http://127.0.0.1:${port}/mcp`)));
console.log('no-op tool, stdio', await time(a)); console.log('no-op tool, HTTP', await time(b));
const ms: number[] = []; for (let i = 0; i < 550; i++) { const t0 = performance.now(); const r = await fetch(`http://127.0.0.1:${port}/x`, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' }, body: JSON.stringify({ jsonrpc: '2.0', id: i, method: 'tools/call', params: { name: 'noop', arguments: { path: 'a' } } }) }); await r.text(); if (i >= 50) ms.push(performance.now() - t0); } ms.sort((x, y) => x - y); console.log('raw fetch of the same HTTP call p50', ms[250]!.toFixed(2));
await a.close(); await b.close(); srv.close(); process.exit(0);
