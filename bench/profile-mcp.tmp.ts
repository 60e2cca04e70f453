import { mkdirSync, mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { startRedis } from '../test/helpers/redis.js';
import { startBaton } from '../test/helpers/baton.js';
const op = process.argv[2] ?? 'read';
const n = Number(process.argv[3] ?? 300);
const prof = process.env.PROF === '1';
const dataDir = mkdtempSync(join(tmpdir(), 'prof-'));
const bench = join(dataDir, 'demo', 'bench'); mkdirSync(bench, { recursive: true });
for (let i = 0; i < 1000; i++) writeFileSync(join(bench, `f-${i}.txt`), `file ${i}\n`);
writeFileSync(join(bench, 'read.txt'), 'x'.repeat(4096));
mkdirSync(join(dataDir, 'demo', 'writes'), { recursive: true });
const redis = await startRedis();
const baton = await startBaton({ redisUrl: redis.url, dataDir, env: { ...(prof ? { NODE_OPTIONS: '--import /tmp/prof/cpuprof.mjs' } : {}), ...(process.env.NOWATCH ? { NOWATCH: '1' } : {}) } });
const kr = await fetch(`${baton.url}/v1/keys`, { method: 'POST', headers: { authorization: `Bearer ${baton.adminToken}`, 'content-type': 'application/json' }, body: JSON.stringify({ agent: 'bench', grants: ['read:/demo/**', 'write:/demo/**'] }) });
const { key } = (await kr.json()) as { key: string };
const c = new Client({ name: 'p', version: '0' });
await c.connect(new StreamableHTTPClientTransport(new URL(`${baton.url}/mcp`), { requestInit: { headers: { Authorization: `Bearer ${key}` } } }));
const args = (i: number): [string, Record<string, unknown>] => op === 'read' ? ['read_text_file', { path: '/demo/bench/read.txt' }] : op === 'write' ? ['write_file', { path: `/demo/writes/w${i}.txt`, content: 'y'.repeat(1024) }] : op === 'list' ? ['list_directory', { path: '/demo/bench' }] : ['search_files', { path: '/demo/bench', pattern: '*42*' }];
await new Promise((r) => setTimeout(r, 6000));
for (let i = 0; i < 30; i++) await c.callTool({ name: args(i)[0], arguments: args(100000 + i)[1] });
if (prof) baton.proc.kill('SIGUSR2');
let st: any = null;
if (process.env.STRACE) { const { spawn } = await import('node:child_process'); st = spawn('strace', ['-f', '-tt', '-T', '-e', 'trace=fsync,fdatasync,rename,link,mkdir,rmdir,openat,write,writev,sendto,recvfrom,read,statx,newfstatat,lstat,unlink,close', '-p', String(baton.proc.pid), '-o', '/tmp/strace.txt'], { stdio: 'ignore' }); await new Promise((r) => setTimeout(r, 1000)); }
const ms: number[] = [];
if (op === 'claims') {
  const ak = (await (await fetch(`${baton.url}/v1/keys`, { method: 'POST', headers: { authorization: `Bearer ${baton.adminToken}`, 'content-type': 'application/json' }, body: JSON.stringify({ agent: 'w', grants: ['claim:/demo/tasks/**', 'read:/demo/tasks/**', 'write:/demo/tasks/**'] }) })).json()) as { key: string };
  for (let i = 0; i < n; i++) await fetch(`${baton.url}/v1/files/demo/tasks/pending/t${i}`, { method: 'PUT', headers: { authorization: `Bearer ${baton.adminToken}` }, body: 'task' });
  const t0 = performance.now(); let done = 0;
  await Promise.all(Array.from({ length: 8 }, async () => { for (;;) { const t = performance.now(); const r = await fetch(`${baton.url}/v1/tickets/claim`, { method: 'POST', headers: { authorization: `Bearer ${ak.key}`, 'content-type': 'application/json' }, body: JSON.stringify({ queue: '/demo/tasks' }) }); ms.push(performance.now() - t); if (r.status === 204) break; const tk = await r.json() as any; const c = await fetch(`${baton.url}/v1/tickets/complete`, { method: 'POST', headers: { authorization: `Bearer ${ak.key}`, 'content-type': 'application/json' }, body: JSON.stringify({ path: tk.path, fencingToken: tk.fencingToken }) }); if (!c.ok) throw new Error(await c.text()); done++; } }));
  console.log('claims/s', (done / (performance.now() - t0) * 1000).toFixed(0), 'done', done);
} else if (op === 'load') {
  const http = await import('node:http');
  let got = 0;
  const rcv = http.createServer((q, r) => { q.resume(); q.on('end', () => { got++; r.end('ok'); }); });
  await new Promise<void>((r) => rcv.listen(0, '127.0.0.1', () => r()));
  const sr = await fetch(`${baton.url}/v1/subscriptions`, { method: 'POST', headers: { authorization: `Bearer ${baton.adminToken}`, 'content-type': 'application/json' }, body: JSON.stringify({ url: `http://127.0.0.1:${(rcv.address() as any).port}/hook`, paths: ['/demo/writes/**'] }) });
  if (!sr.ok) throw new Error(await sr.text());
  let i = 0; const t0 = performance.now();
  await Promise.all(Array.from({ length: 32 }, async () => { while (i < n) { const k = i++; const t = performance.now(); const r = await fetch(`${baton.url}/v1/files/demo/writes/l${k}.txt`, { method: 'PUT', headers: { authorization: `Bearer ${key}` }, body: 'y'.repeat(1024) }); await r.text(); ms.push(performance.now() - t); } }));
  const el = performance.now() - t0;
  while (got < n && performance.now() - t0 < 60000) await new Promise((r) => setTimeout(r, 50));
  console.log('writes/s', (n / el * 1000).toFixed(0), 'delivered', got, 'after', ((performance.now() - t0 - el) / 1000).toFixed(2), 's');
  rcv.close();
} else if (op === 'rest') { for (let i = 0; i < n; i++) { const t0 = performance.now(); const r = await fetch(`${baton.url}/v1/files/demo/bench/read.txt`, { headers: { authorization: `Bearer ${key}` } }); await r.text(); ms.push(performance.now() - t0); } }
else if (op === 'restput') { for (let i = 0; i < n; i++) { const t0 = performance.now(); const r = await fetch(`${baton.url}/v1/files/demo/writes/r${i}.txt`, { method: 'PUT', headers: { authorization: `Bearer ${key}` }, body: 'y'.repeat(1024) }); await r.text(); ms.push(performance.now() - t0); } }
else
for (let i = 0; i < n; i++) { const [name, a] = args(i); const t0 = performance.now(); const r = await c.callTool({ name, arguments: a }); ms.push(performance.now() - t0); if ((r as any).isError) throw new Error(JSON.stringify(r)); }
if (prof) { baton.proc.kill("SIGUSR2"); await new Promise((r) => setTimeout(r, 1500)); }
if (st) { st.kill('SIGINT'); await new Promise((r) => setTimeout(r, 500)); }
if (process.env.STATS) { const counts: Record<string, number> = {}; let after = '0'; for (;;) { const r = (await (await fetch(`${baton.url}/v1/events?after=${after}&limit=1000&path=/**`, { headers: { authorization: `Bearer ${baton.adminToken}` } })).json()) as any; if (r.events.length === 0) break; for (const e of r.events) { const k = `${e.event} ${e.actor} ${e.path.split('/').slice(0, 4).join('/')}`; counts[k] = (counts[k] ?? 0) + 1; } after = r.cursor; } console.log(counts); const { execSync } = await import('node:child_process'); console.log(execSync(`redis-cli -u ${redis.url} info commandstats`).toString().split('\n').filter((l) => l.startsWith('cmdstat')).map((l) => l.replace(/,usec_per_call.*/, '')).join('\n')); }
ms.sort((a, b) => a - b);
console.log(op, 'p50', ms[Math.floor(n / 2)]!.toFixed(2), 'p99', ms[Math.floor(n * 0.99)]!.toFixed(2));
await c.close(); await baton.stop(); await redis.stop(); rmSync(dataDir, { recursive: true, force: true });
process.exit(0);
