/**
 * 8. (Extra, beyond the list.) PUT and GET of 1 KiB files, closed loop at a few
 * concurrency levels: latency and requests/s. PUTs create new files; GETs read files written
 * by those PUTs.
 * Floor: in one Node process at the same concurrency, an fsync'd 1 KiB write of a new file
 * (open+write+fsync+close) and a 1 KiB readFile.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import type { Ctx } from './run.js';
import { closedFsyncWrites, closedReads, fsyncWrite, scratchDir } from './lib/floors.js';
import { closedLoop } from './lib/pace.js';
import { lat, type Row, type Section } from './lib/report.js';
import { KIB, startStack } from './lib/stack.js';
import { msSince, now, sleep, summarize } from './lib/stats.js';

export async function putGet(ctx: Ctx): Promise<Section> {
  const levels = ctx.quick ? [16] : [1, 8, 32];
  const durationMs = ctx.quick ? 300 : 4_000;
  const maxOps = 100_000;
  // A folder that already holds many files, made on disk before baton starts.
  const bigN = ctx.quick ? 0 : 2_000;
  const scope = ctx.scope.child();
  try {
    const dataDir = mkdtempSync(join(tmpdir(), 'baton-bench-rw-'));
    mkdirSync(join(dataDir, 'demo', 'big'), { recursive: true });
    // (quick mode: bigN = 0, the big-folder row is skipped)
    for (let i = 0; i < bigN; i++) writeFileSync(join(dataDir, 'demo', 'big', `old-${i}.txt`), KIB);
    const stack = await startStack(scope, { dataDir });
    const dir = scratchDir(scope, 'rw');
    // Wait (bounded) for the start-up reconcile to report those files, so it does not run during the load.
    const seqOf = new Redis(stack.redis.url, { maxRetriesPerRequest: 1 });
    scope.defer('redis client', () => void seqOf.disconnect());
    const tRec = now();
    while (Number((await seqOf.get('baton:ev:demo:seq')) ?? 0) < bigN && msSince(tRec) < 60_000) await sleep(200);
    const reconcileMs = msSince(tRec);
    await closedLoop(8, 500, 1_000, async (i) => (await stack.api.request('PUT', `/v1/files/demo/rw/warm/w-${i}.txt`, KIB)).status === 201);
    const rows: Row[] = [];
    const details: Record<string, unknown> = {};
    for (const c of levels) {
      ctx.log(`  PUT/GET at concurrency ${c}`);
      const put = await closedLoop(c, durationMs, maxOps, async (i) => (await stack.api.request('PUT', `/v1/files/demo/rw/c${c}/w-${i}.txt`, KIB, { 'content-type': 'text/plain' })).status === 201);
      const files = Math.min(put.ops, 1000);
      const get = await closedLoop(c, durationMs, maxOps, async (i) => {
        const r = await stack.api.request('GET', `/v1/files/demo/rw/c${c}/w-${i % files}.txt`);
        return r.status === 200 && r.body.length === 1024;
      });
      const fw = await closedFsyncWrites(dir, c, durationMs, maxOps);
      const fr = await closedReads(dir, files, c, durationMs, maxOps);
      const rate = (r: { ops: number; elapsedMs: number }) => (r.ops / r.elapsedMs) * 1000;
      const pl = summarize(put.latencies);
      const gl = summarize(get.latencies);
      const fwl = summarize(fw.latencies);
      const frl = summarize(fr.latencies);
      rows.push(
        { group: '8', metric: `PUT latency, concurrency ${c}`, unit: 'ms', baton: lat(pl), floor: { ...lat(fwl), what: 'fsync write' }, note: put.errors ? `${put.errors} errors: ${put.firstError ?? ''}` : undefined },
        { group: '8', metric: `PUT requests/s, concurrency ${c}`, unit: '/s', baton: { p50: rate(put) }, floor: { p50: rate(fw), what: 'fsync writes/s' } },
        { group: '8', metric: `GET latency, concurrency ${c}`, unit: 'ms', baton: lat(gl), floor: { ...lat(frl), what: 'readFile' }, note: get.errors ? `${get.errors} errors` : undefined },
        { group: '8', metric: `GET requests/s, concurrency ${c}`, unit: '/s', baton: { p50: rate(get) }, floor: { p50: rate(fr), what: 'readFiles/s' } },
      );
      details[`c${c}`] = {
        put: { ops: put.ops, errors: put.errors, rate: rate(put), latency: pl },
        get: { ops: get.ops, errors: get.errors, rate: rate(get), latency: gl },
        floorWrite: { ops: fw.ops, rate: rate(fw), latency: fwl },
        floorRead: { ops: fr.ops, rate: rate(fr), latency: frl },
      };
    }
    // The same single-client PUT, into the folder that already holds bigN files.
    if (bigN === 0) return { id: 'put-get', title: `8. PUT / GET of 1 KiB files, closed loop, ${durationMs / 1000} s per level`, rows, details };
    ctx.log(`  PUT at concurrency 1 into a folder of ${bigN} files`);
    const big = await closedLoop(1, durationMs, maxOps, async (i) => (await stack.api.request('PUT', `/v1/files/demo/big/new-${i}.txt`, KIB, { 'content-type': 'text/plain' })).status === 201);
    const bigDir = join(dir, 'big');
    mkdirSync(bigDir);
    for (let i = 0; i < bigN; i++) writeFileSync(join(bigDir, `old-${i}.txt`), KIB);
    const fBig = await closedLoop(1, durationMs, maxOps, async (i) => {
      await fsyncWrite(join(bigDir, `new-${i}.txt`));
      return true;
    });
    const bl = summarize(big.latencies);
    const fbl = summarize(fBig.latencies);
    rows.push({
      group: '8',
      metric: `PUT latency, concurrency 1, into a folder already holding ${bigN.toLocaleString('en-US')} files`,
      unit: 'ms',
      baton: lat(bl),
      floor: { ...lat(fbl), what: 'fsync write, same folder size' },
      note: `${((big.ops / big.elapsedMs) * 1000).toFixed(0)} PUTs/s (compare the empty-folder row above)`,
    });
    details.bigFolder = { files: bigN, reconcileMs, put: { ops: big.ops, errors: big.errors, latency: bl }, floor: { ops: fBig.ops, latency: fbl } };
    return { id: 'put-get', title: `8. PUT / GET of 1 KiB files, closed loop, ${durationMs / 1000} s per level`, rows, details };
  } finally {
    await scope.close();
  }
}
