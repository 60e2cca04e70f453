/**
 * 2. Sustained acknowledged writes/s: 32 clients in a closed loop PUT new 1 KiB files for a
 * fixed time, with 1 and then 10 webhook subscribers on the written folder. Every delivery
 * must arrive; the time from the end of the load to the last delivery is reported too.
 * Floor: fsync'd 1 KiB writes/s from one Node process at the same concurrency.
 */
import type { Ctx } from './run.js';
import { closedFsyncWrites, scratchDir } from './lib/floors.js';
import { closedLoop } from './lib/pace.js';
import { Receiver } from './lib/receiver.js';
import { lat, type Row, type Section } from './lib/report.js';
import { KIB, startStack } from './lib/stack.js';
import { msSince, now, sleep, summarize } from './lib/stats.js';

const CONCURRENCY = 32;

export async function sustainedWrites(ctx: Ctx): Promise<Section> {
  const durationMs = ctx.quick ? 600 : 10_000;
  const maxOps = 200_000;
  const drainTimeoutMs = ctx.quick ? 30_000 : 120_000;
  const scope = ctx.scope.child();
  try {
    const stack = await startStack(scope);
    const rx = await Receiver.start();
    scope.defer('receiver', () => rx.close());

    // Warm-up, not counted.
    await closedLoop(CONCURRENCY, ctx.quick ? 300 : 1_000, 2_000, async (i) => (await stack.api.request('PUT', `/v1/files/demo/tp/warm/w-${i}.txt`, KIB)).status === 201);

    const rows: Row[] = [];
    const details: Record<string, unknown> = {};
    const floorDir = scratchDir(scope, 'tp');
    ctx.log(`  sustained writes: floor, ${CONCURRENCY} concurrent fsync writers`);
    const floor = await closedFsyncWrites(floorDir, CONCURRENCY, durationMs, maxOps);
    const floorRate = (floor.ops / floor.elapsedMs) * 1000;
    const floorLat = summarize(floor.latencies);
    details.floor = { ops: floor.ops, elapsedMs: floor.elapsedMs, rate: floorRate, latency: floorLat };

    for (const subs of [1, 10]) {
      ctx.log(`  sustained writes: ${CONCURRENCY} clients, ${durationMs / 1000} s, ${subs} subscriber(s)`);
      const folder = `/demo/tp/s${subs}`;
      const ids: string[] = [];
      for (let k = 0; k < subs; k++) ids.push(await stack.subscribe(`${rx.url}/s${subs}/r${k}`, [`${folder}/**`]));
      const written: string[] = [];
      const t0 = now();
      const res = await closedLoop(CONCURRENCY, durationMs, maxOps, async (i) => {
        const path = `${folder}/w-${i}.txt`;
        const r = await stack.api.request('PUT', `/v1/files${path}`, KIB, { 'content-type': 'text/plain' });
        if (r.status !== 201) return false;
        written.push(path);
        return true;
      });
      const loadEnd = now();
      const expected = written.length * subs;
      const prefix = `/s${subs}/`;
      const complete = await rx.waitFor(() => rx.unique(prefix) >= expected, drainTimeoutMs);
      let lastArrival = 0n;
      for (const d of rx.deliveries) if (d.route.startsWith(prefix) && d.arrival > lastArrival) lastArrival = d.arrival;
      const delivered = rx.unique(prefix);
      // Let late duplicates show up before counting them.
      await sleep(ctx.quick ? 0 : 2_000);
      const dups = rx.duplicates(prefix);
      const rate = (res.ops / res.elapsedMs) * 1000;
      const drainMs = lastArrival > loadEnd ? Number(lastArrival - loadEnd) / 1e6 : 0;
      const deliveryRate = lastArrival > t0 ? (delivered / Number(lastArrival - t0)) * 1e9 : 0;
      const l = summarize(res.latencies);
      rows.push({
        group: '2',
        metric: `acknowledged PUTs/s, ${CONCURRENCY} clients, ${subs} subscriber${subs > 1 ? 's' : ''}`,
        unit: '/s',
        baton: { p50: rate },
        floor: { p50: floorRate, what: `fsync writes/s, ${CONCURRENCY} concurrent` },
        target: subs === 1 ? '≥ 1,000/s' : '≥ 600/s',
        met: res.ops > 0 ? rate >= (subs === 1 ? 1000 : 600) : null,
        note: `${res.ops.toLocaleString('en-US')} writes in ${(res.elapsedMs / 1000).toFixed(1)} s, ${res.errors} errors`,
      });
      rows.push({
        group: '2',
        metric: `↳ PUT latency under that load`,
        unit: 'ms',
        baton: lat(l),
        floor: { ...lat(floorLat), what: `fsync write, ${CONCURRENCY} concurrent` },
      });
      rows.push({
        group: '2',
        metric: `↳ all ${expected.toLocaleString('en-US')} deliveries done, after load end`,
        unit: 's',
        baton: { p50: complete ? drainMs / 1000 : null },
        note: `${complete ? '' : `INCOMPLETE after ${drainTimeoutMs / 1000} s; `}lost ${expected - delivered}, duplicates ${dups.extra}; ${Math.round(deliveryRate).toLocaleString('en-US')} deliveries/s overall`,
      });
      details[`subs${subs}`] = { ops: res.ops, errors: res.errors, firstError: res.firstError, elapsedMs: res.elapsedMs, rate, latency: l, expected, delivered, complete, drainMs, deliveryRate, duplicates: dups };
      for (const id of ids) await stack.unsubscribe(id);
      ctx.log(`    ${Math.round(rate)} writes/s; deliveries ${delivered}/${expected}, drained ${Math.round(drainMs)} ms after load`);
    }
    return { id: 'sustained-writes', title: `2. Sustained writes, ${CONCURRENCY} clients closed loop, 1 KiB`, rows, details };
  } finally {
    await scope.close();
  }
}
