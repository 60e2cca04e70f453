/**
 * 1. Write → webhook latency at a steady 200 writes/s (open loop). Each PUT of a new 1 KiB
 * file is sent when due, never waiting for earlier ones; one loopback receiver is subscribed;
 * a delivery is matched to its write by path; latency = receiver arrival − PUT send time.
 * Floor: the three physical steps Baton cannot avoid, each measured here at the same pace —
 * an fsync'd 1 KiB write, a BullMQ add → worker hop on the same Redis, a loopback POST.
 */
import type { Ctx } from './run.js';
import { bullmqLatency, loopbackPostLatency, pacedFsyncWrites, scratchDir } from './lib/floors.js';
import { openLoop } from './lib/pace.js';
import { Receiver } from './lib/receiver.js';
import { lat, type Section } from './lib/report.js';
import { KIB, startStack } from './lib/stack.js';
import { msSince, now, round, sleep, summarize } from './lib/stats.js';

const RATE = 200;

export async function writeToWebhook(ctx: Ctx): Promise<Section> {
  const n = ctx.quick ? 200 : 4000; // 1 s or 20 s at 200/s
  const floorN = ctx.quick ? 100 : 2000;
  const scope = ctx.scope.child();
  try {
    const stack = await startStack(scope);
    const rx = await Receiver.start();
    scope.defer('receiver', () => rx.close());
    await stack.subscribe(`${rx.url}/warm`, ['/demo/lat/warm/**']);
    await stack.subscribe(`${rx.url}/hook`, ['/demo/lat/run/**']);

    // Warm-up (not counted): connections, scripts, JIT.
    const warm = ctx.quick ? 30 : 100;
    await openLoop(warm, RATE, (i) => void stack.api.request('PUT', `/v1/files/demo/lat/warm/w-${i}.txt`, KIB, { 'content-type': 'text/plain' }).catch(() => undefined));
    await rx.waitFor(() => rx.unique('/warm') >= warm, 15_000);
    await sleep(ctx.quick ? 100 : 500);

    ctx.log(`  write→webhook: ${n} PUTs at ${RATE}/s`);
    const sent: bigint[] = new Array(n);
    const acks: number[] = [];
    let failed = 0;
    let firstError = '';
    const pending: Promise<void>[] = [];
    const pacing = await openLoop(n, RATE, (i) => {
      sent[i] = now();
      pending.push(
        stack.api.request('PUT', `/v1/files/demo/lat/run/w-${i}.txt`, KIB, { 'content-type': 'text/plain' }).then(
          (r) => {
            if (r.status === 201) acks.push(Number(r.t1 - r.t0) / 1e6);
            else {
              failed++;
              firstError ||= `${r.status} ${r.body.toString().slice(0, 200)}`;
            }
          },
          (err) => {
            failed++;
            firstError ||= String(err);
          },
        ),
      );
    });
    await Promise.all(pending);
    const expected = n - failed;
    const waitStart = now();
    await rx.waitFor(() => rx.unique('/hook') >= expected, 30_000);
    const drainMs = msSince(waitStart);
    const latencies: number[] = [];
    for (let i = 0; i < n; i++) {
      const d = rx.first('/hook', `/demo/lat/run/w-${i}.txt`);
      if (d) latencies.push(Number(d.arrival - sent[i]!) / 1e6);
    }
    const lost = expected - latencies.length;
    const dups = rx.duplicates('/hook|');

    // Floors, each at the same pace, on the same machine and the same Redis.
    ctx.log('  write→webhook: floors');
    const dir = scratchDir(scope, 'fsync');
    const fsyncLat = summarize(await pacedFsyncWrites(dir, floorN, RATE));
    const bullLat = summarize(await bullmqLatency(scope, stack.redis.url, floorN, RATE));
    const postLat = summarize(await loopbackPostLatency(scope, floorN, RATE));
    const floor = { p50: fsyncLat.p50 + bullLat.p50 + postLat.p50, p99: fsyncLat.p99 + bullLat.p99 + postLat.p99 };

    const s = summarize(latencies);
    // The folder grows during the run: compare the first and the last tenth of the writes.
    const tenth = Math.max(1, Math.floor(n / 10));
    const windowLat = (from: number) => {
      const out: number[] = [];
      for (let i = from; i < Math.min(n, from + tenth); i++) {
        const d = rx.first('/hook', `/demo/lat/run/w-${i}.txt`);
        if (d) out.push(Number(d.arrival - sent[i]!) / 1e6);
      }
      return summarize(out);
    };
    const firstTenth = windowLat(0);
    const lastTenth = windowLat(n - tenth);
    const ack = summarize(acks);
    return {
      id: 'write-to-webhook',
      title: `1. Write → webhook, ${RATE} writes/s open loop, 1 KiB, 1 receiver`,
      rows: [
        {
          group: '1',
          metric: `PUT sent → webhook arrives (${s.n.toLocaleString('en-US')} writes)`,
          unit: 'ms',
          baton: lat(s),
          floor: { ...floor, what: 'fsync + BullMQ + POST' },
          target: 'p50 ≤ 5 ms, p99 ≤ 25 ms',
          met: s.n > 0 ? s.p50 <= 5 && s.p99 <= 25 && lost === 0 : null,
          note:
            `lost ${lost}, duplicates ${dups.extra}, PUT errors ${failed}; first tenth of the writes p50 ${round(firstTenth.p50, 1)} ms, last tenth p50 ${round(lastTenth.p50, 1)} ms ` +
            `(all into one folder); max send lag ${round(pacing.maxLagMs, 1)} ms`,
        },
        { group: '1', metric: 'PUT acknowledged (same run)', unit: 'ms', baton: lat(ack), floor: { ...lat(fsyncLat), what: 'fsync 1 KiB' } },
        { group: '1', metric: '↳ floor part: fsync 1 KiB write', unit: 'ms', baton: { p50: null, p99: null }, floor: { ...lat(fsyncLat), what: 'open+write+fsync+close' }, note: `${fsyncLat.n} writes at ${RATE}/s` },
        { group: '1', metric: '↳ floor part: BullMQ add → worker', unit: 'ms', baton: { p50: null, p99: null }, floor: { ...lat(bullLat), what: 'own Queue+Worker' }, note: `${bullLat.n} jobs at ${RATE}/s, same Redis` },
        { group: '1', metric: '↳ floor part: loopback POST, one way', unit: 'ms', baton: { p50: null, p99: null }, floor: { ...lat(postLat), what: 'node:http keep-alive' }, note: `${postLat.n} POSTs at ${RATE}/s` },
      ],
      details: { n, rate: RATE, latency: s, firstTenth, lastTenth, ack, lost, duplicates: dups, failed, firstError, pacing, drainMs, floor: { fsync: fsyncLat, bullmq: bullLat, post: postLat, sum: floor } },
    };
  } finally {
    await scope.close();
  }
}
