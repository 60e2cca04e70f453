import http from 'node:http';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { open, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { HttpClient } from './http.js';
import { closedLoop, openLoop, type ClosedLoopResult } from './pace.js';
import { Receiver } from './receiver.js';
import type { Scope } from './scope.js';
import { msSince, now, sleep } from './stats.js';

const KIB = Buffer.alloc(1024, 'f');

/** A scratch folder on the same filesystem as Baton's data (both under the OS temp dir). */
export function scratchDir(scope: Scope, tag: string): string {
  const dir = mkdtempSync(join(tmpdir(), `baton-bench-${tag}-`));
  scope.defer(`rm ${dir}`, () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** The physical floor of one durable small write: open(O_CREAT) + write 1 KiB + fsync + close. */
export async function fsyncWrite(file: string, body: Buffer = KIB): Promise<void> {
  const fh = await open(file, 'w');
  try {
    await fh.write(body);
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** fsync'd 1 KiB writes, paced open-loop like the Baton run; latency of each write. */
export async function pacedFsyncWrites(dir: string, n: number, rate: number): Promise<number[]> {
  const lat: number[] = new Array(n);
  const pending: Promise<void>[] = [];
  await openLoop(n, rate, (i) => {
    const t0 = now();
    pending.push(fsyncWrite(join(dir, `p-${i}.txt`)).then(() => void (lat[i] = msSince(t0))));
  });
  await Promise.all(pending);
  return lat;
}

/** fsync'd 1 KiB writes of new files from one Node process, `concurrency` at a time. */
export function closedFsyncWrites(dir: string, concurrency: number, durationMs: number, maxOps: number): Promise<ClosedLoopResult> {
  const sub = join(dir, `c${concurrency}-${Date.now()}`);
  mkdirSync(sub, { recursive: true });
  return closedLoop(concurrency, durationMs, maxOps, async (i) => {
    await fsyncWrite(join(sub, `w-${i}.txt`));
    return true;
  });
}

/** Reads of 1 KiB files (the page cache is warm, as it is for Baton's GETs). */
export function closedReads(dir: string, files: number, concurrency: number, durationMs: number, maxOps: number): Promise<ClosedLoopResult> {
  const sub = join(dir, `r-${Date.now()}`);
  mkdirSync(sub, { recursive: true });
  for (let i = 0; i < files; i++) writeFileSync(join(sub, `f-${i}.txt`), KIB);
  return closedLoop(concurrency, durationMs, maxOps, async (i) => {
    const b = await readFile(join(sub, `f-${i % files}.txt`));
    return b.length === 1024;
  });
}

/**
 * BullMQ's own add → worker latency: a Queue and a Worker of our own on the given Redis,
 * jobs added open-loop at `rate`; latency = the worker's processor starts − add() called.
 */
export async function bullmqLatency(scope: Scope, redisUrl: string, n: number, rate: number): Promise<number[]> {
  const s = scope.child();
  try {
    const qc = new Redis(redisUrl, { maxRetriesPerRequest: null });
    const wc = new Redis(redisUrl, { maxRetriesPerRequest: null });
    s.defer('bullmq connections', () => {
      qc.disconnect();
      wc.disconnect();
    });
    const name = `bench-floor-${Date.now()}`;
    const queue = new Queue(name, { connection: qc, prefix: 'benchfloor' });
    const arrivals = new Map<number, bigint>();
    const sent = new Map<number, bigint>();
    let done = 0;
    let wake: (() => void) | null = null;
    const worker = new Worker(
      name,
      async (job) => {
        arrivals.set(job.data.i as number, now());
        done++;
        wake?.();
      },
      { connection: wc, prefix: 'benchfloor', concurrency: 64 },
    );
    s.defer('bullmq worker', async () => {
      await worker.close();
      await queue.obliterate({ force: true }).catch(() => undefined);
      await queue.close();
    });
    await worker.waitUntilReady();
    // Warm-up: connections, scripts loaded.
    for (let i = 0; i < 20; i++) await queue.add('warm', { i: -1 - i }, { removeOnComplete: true });
    while (done < 20) await new Promise<void>((r) => ((wake = r), setTimeout(r, 50)));
    done = 0;
    arrivals.clear();
    await openLoop(n, rate, (i) => {
      sent.set(i, now());
      void queue.add('job', { i }, { removeOnComplete: true });
    });
    const deadline = Date.now() + 30_000;
    while (done < n && Date.now() < deadline) await new Promise<void>((r) => ((wake = r), setTimeout(r, 50)));
    const lat: number[] = [];
    for (const [i, t] of arrivals) if (i >= 0) lat.push(Number(t - sent.get(i)!) / 1e6);
    return lat;
  } finally {
    await s.close();
  }
}

/**
 * One-way loopback POST latency: a keep-alive client POSTs a webhook-sized JSON body to a
 * local receiver, open-loop at `rate`; latency = the receiver sees the request − send.
 */
export async function loopbackPostLatency(scope: Scope, n: number, rate: number): Promise<number[]> {
  const s = scope.child();
  try {
    const rx = await Receiver.start();
    s.defer('floor receiver', () => rx.close());
    const client = new HttpClient(rx.url, null, 64);
    s.defer('floor client', () => client.close());
    const body = (i: number) =>
      JSON.stringify({
        id: `evt_${String(i).padStart(26, '0')}`,
        event: 'file.created',
        workspaceId: 'ws_demo',
        path: `/demo/floor/p-${i}.txt`,
        mimeType: 'text/plain',
        size: 1024,
        etag: 'abcdef-123456-sa',
        version: 1,
        seq: i,
        actor: 'agent:bench',
        time: new Date().toISOString(),
      });
    for (let i = 0; i < 20; i++) await client.request('POST', '/warm', JSON.stringify({ path: `/warm/${i}`, event: 'x', size: 0, id: `w${i}` }), { 'content-type': 'application/json' });
    const sent: bigint[] = new Array(n);
    const pending: Promise<unknown>[] = [];
    await openLoop(n, rate, (i) => {
      const b = body(i);
      sent[i] = now();
      pending.push(client.request('POST', '/floor', b, { 'content-type': 'application/json', 'webhook-id': `evt_${i}` }).catch(() => undefined));
    });
    await Promise.all(pending);
    const lat: number[] = [];
    for (let i = 0; i < n; i++) {
      const d = rx.first('/floor', `/demo/floor/p-${i}.txt`);
      if (d) lat.push(Number(d.arrival - sent[i]!) / 1e6);
    }
    return lat;
  } finally {
    await s.close();
  }
}

/** Spawn → first stdout line of a bare `node -e`, the floor for a Node server's start-up. */
export async function nodeStartFloor(runs: number): Promise<number[]> {
  const { spawn } = await import('node:child_process');
  const out: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = now();
    await new Promise<void>((resolve, reject) => {
      const p = spawn(process.execPath, ['-e', "console.log('baton listening on http://127.0.0.1:0')"], { stdio: ['ignore', 'pipe', 'ignore'] });
      let seen = false;
      p.stdout.on('data', () => {
        if (!seen) out.push(msSince(t0));
        seen = true;
      });
      p.on('error', reject);
      p.on('exit', () => resolve());
    });
  }
  return out;
}

/** Peak RSS of an idle bare Node process (a plain http server listening), in MiB. */
export async function bareNodeRss(): Promise<number> {
  const { spawn } = await import('node:child_process');
  const code = `const s=require('http').createServer(()=>{}).listen(0,'127.0.0.1',()=>{setTimeout(()=>{const m=require('fs').readFileSync('/proc/self/status','utf8').match(/VmHWM:\\s+(\\d+)/);console.log(m[1]);s.close()},300)})`;
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.on('error', reject);
    p.on('exit', () => resolve(Number(out.trim()) / 1024));
  });
}

export { http, sleep };
