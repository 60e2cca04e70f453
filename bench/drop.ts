/**
 * 3. Drop → webhook: files written straight onto the workspace disk (fs.writeFileSync into
 * <dataDir>/demo/inbox), never through the API. First one at a time at a slow pace, then in
 * bursts; for a burst, the time until every file was delivered, how many never were (lost)
 * and how many were delivered more than once. Baton runs with BATON_RESCAN_SECONDS=5.
 * Floor: a bare chokidar@5 watcher on a scratch folder, same options as Baton's watcher,
 * with awaitWriteFinish off and on (Baton's: stabilityThreshold 150 ms, pollInterval 25 ms).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { watch } from 'chokidar';
import { Redis } from 'ioredis';
import type { Ctx } from './run.js';
import { scratchDir } from './lib/floors.js';
import { Receiver } from './lib/receiver.js';
import { lat, type Row, type Section } from './lib/report.js';
import { KIB, startStack } from './lib/stack.js';
import { msSince, now, sleep, summarize, type Summary } from './lib/stats.js';

const AWF = { stabilityThreshold: 150, pollInterval: 25 };
/**
 * Baton's burst is written as fast as one process can, but the writer lets its event loop run
 * every so many files: the webhook receiver lives in this process, and on a loaded machine a
 * 50,000-file write blocking it for more than Baton's 15 s delivery timeout made every
 * in-flight delivery time out and be sent again (same event id), counted as duplicates. The
 * chokidar floor's writer does not yield: there the watcher itself shares the process, and
 * letting it run during the write changes what the floor measures.
 */
export const YIELD_EVERY = 1000;
export const yieldToLoop = () => new Promise<void>((r) => setImmediate(r));

interface BurstResult {
  n: number;
  writeMs: number;
  /** Burst start → last file seen/delivered; null when not all arrived in time. */
  allMs: number | null;
  lastMs: number;
  missed: number;
  perFile: Summary;
}

/** Bare chokidar: slow single files, then bursts; latency = 'add' event − before the write. */
async function chokidarFloor(dir: string, awaitWriteFinish: boolean, slowN: number, bursts: number[], timeoutMs: (n: number) => number, idleMs: number) {
  const sub = join(dir, awaitWriteFinish ? 'awf-on' : 'awf-off');
  mkdirSync(join(sub, 'slow'), { recursive: true });
  for (const n of bursts) mkdirSync(join(sub, `b${n}`), { recursive: true });
  const seen = new Map<string, bigint>();
  let wake: (() => void) | null = null;
  const w = watch(sub, { ignoreInitial: true, followSymlinks: false, awaitWriteFinish: awaitWriteFinish ? AWF : false });
  w.on('add', (p: string) => {
    if (!seen.has(p)) seen.set(p, now());
    wake?.();
  });
  try {
    await new Promise<void>((r) => w.once('ready', () => r()));
    await sleep(200);
    const slow: number[] = [];
    for (let i = 0; i < slowN; i++) {
      const f = join(sub, 'slow', `s-${i}.txt`);
      const t0 = now();
      writeFileSync(f, KIB);
      const deadline = Date.now() + 5_000;
      while (!seen.has(f) && Date.now() < deadline) await new Promise<void>((r) => ((wake = r), setTimeout(r, 20)));
      const t = seen.get(f);
      if (t) slow.push(Number(t - t0) / 1e6);
      await sleep(20);
    }
    const burstResults: BurstResult[] = [];
    for (const n of bursts) {
      const files = Array.from({ length: n }, (_, i) => join(sub, `b${n}`, `f-${i}.txt`));
      const tw: bigint[] = new Array(n);
      const t0 = now();
      for (let i = 0; i < n; i++) {
        tw[i] = now();
        writeFileSync(files[i]!, KIB);
      }
      const writeMs = msSince(t0);
      // chokidar has no rescan: what it missed stays missed. Stop when all are seen, when
      // nothing new came for a while, or at the time limit.
      const deadline = Date.now() + timeoutMs(n);
      const count = () => files.reduce((a, f) => a + (seen.has(f) ? 1 : 0), 0);
      let last = -1;
      let lastChange = Date.now();
      for (;;) {
        const c = count();
        if (c !== last) {
          last = c;
          lastChange = Date.now();
        }
        if (c >= n || Date.now() > deadline || Date.now() - lastChange > idleMs) break;
        await sleep(100);
      }
      const per: number[] = [];
      let lastT = t0;
      for (let i = 0; i < n; i++) {
        const t = seen.get(files[i]!);
        if (t) {
          per.push(Number(t - tw[i]!) / 1e6);
          if (t > lastT) lastT = t;
        }
      }
      const missed = n - per.length;
      burstResults.push({ n, writeMs, allMs: missed === 0 ? Number(lastT - t0) / 1e6 : null, lastMs: Number(lastT - t0) / 1e6, missed, perFile: summarize(per) });
    }
    return { slow: summarize(slow), bursts: burstResults };
  } finally {
    await w.close();
  }
}

export async function dropToWebhook(ctx: Ctx): Promise<Section> {
  const slowN = ctx.quick ? 3 : 60;
  const bursts = ctx.quick ? [200] : [10_000, 50_000];
  // Bounded: at Baton's measured ~100 files/s a 50,000 burst would need minutes more than the run allows.
  const timeoutMs = (n: number) => (ctx.quick ? 25_000 : n <= 10_000 ? 120_000 : 180_000);
  const scope = ctx.scope.child();
  try {
    ctx.log('  drop→webhook: chokidar floors');
    const fdir = scratchDir(scope, 'chokidar');
    const idleMs = ctx.quick ? 1_000 : 4_000;
    const floorOff = await chokidarFloor(fdir, false, slowN, bursts, timeoutMs, idleMs);
    const floorOn = await chokidarFloor(fdir, true, slowN, bursts, timeoutMs, idleMs);

    const stack = await startStack(scope, { env: { BATON_RESCAN_SECONDS: '5' } });
    const inbox = join(stack.baton.dataDir, 'demo', 'inbox');
    const redis = new Redis(stack.redis.url, { maxRetriesPerRequest: 1 });
    scope.defer('redis client', () => void redis.disconnect());
    const seq = async () => Number((await redis.get('baton:ev:demo:seq')) ?? 0);
    const rx = await Receiver.start();
    scope.defer('receiver', () => rx.close());
    mkdirSync(join(inbox, 'probe'), { recursive: true });
    mkdirSync(join(inbox, 'slow'), { recursive: true });
    for (const n of bursts) mkdirSync(join(inbox, `b${n}`), { recursive: true });
    await stack.subscribe(`${rx.url}/probe`, ['/demo/inbox/probe/**']);
    await stack.subscribe(`${rx.url}/slow`, ['/demo/inbox/slow/**']);
    for (const n of bursts) await stack.subscribe(`${rx.url}/b${n}`, [`/demo/inbox/b${n}/**`]);

    // The watcher starts in the background after 'listening': wait until a probe file is delivered.
    const probeStart = now();
    let probes = 0;
    while (!(await rx.waitFor(() => rx.unique('/probe') > 0, 1_000)) && probes < 30) writeFileSync(join(inbox, 'probe', `p-${probes++}.txt`), KIB);
    const watcherReadyMs = msSince(probeStart);
    await sleep(ctx.quick ? 300 : 1_000);

    ctx.log(`  drop→webhook: ${slowN} slow drops`);
    const slow: number[] = [];
    let slowLost = 0;
    for (let i = 0; i < slowN; i++) {
      const rel = `s-${i}.txt`;
      const t0 = now();
      writeFileSync(join(inbox, 'slow', rel), KIB);
      const ok = await rx.waitFor(() => rx.byKey.has(`/slow|/demo/inbox/slow/${rel}`), 10_000);
      if (ok) slow.push(Number(rx.first('/slow', `/demo/inbox/slow/${rel}`)!.arrival - t0) / 1e6);
      else slowLost++;
      await sleep(20);
    }
    const slowS = summarize(slow);
    const rows: Row[] = [
      {
        group: '3',
        metric: `single file dropped on disk → webhook (${slowN} files, one at a time)`,
        unit: 'ms',
        baton: lat(slowS),
        floor: { ...lat(floorOn.slow), what: 'chokidar, awaitWriteFinish on' },
        note: `lost ${slowLost}; chokidar with awaitWriteFinish off: ${floorOff.slow.p50.toFixed(2)} · ${floorOff.slow.p99.toFixed(2)} ms`,
      },
    ];
    const details: Record<string, unknown> = { slow: slowS, slowLost, watcherReadyMs, floorOff, floorOn };

    for (const [bi, n] of bursts.entries()) {
      ctx.log(`  drop→webhook: burst of ${n.toLocaleString('en-US')} files`);
      const route = `/b${n}`;
      const dir = join(inbox, `b${n}`);
      const tw: bigint[] = new Array(n);
      const seqBefore = await seq();
      const t0 = now();
      for (let i = 0; i < n; i++) {
        tw[i] = now();
        writeFileSync(join(dir, `f-${i}.txt`), KIB);
        if (i % YIELD_EVERY === YIELD_EVERY - 1) await yieldToLoop();
      }
      const writeMs = msSince(t0);
      const limit = timeoutMs(n);
      const progress = setInterval(() => ctx.log(`    ${rx.unique(route)}/${n} delivered after ${(msSince(t0) / 1000).toFixed(0)} s`), 10_000);
      const complete = await rx.waitFor(() => rx.unique(route) >= n, limit);
      clearInterval(progress);
      const allMs = msSince(t0);
      // Events Baton had recorded by the limit: tells a slow watcher from slow delivery.
      const recorded = (await seq()) - seqBefore;
      const deliveredAtLimit = rx.unique(route);
      // Late duplicates: give the rescan (every 5 s) a full pass more (quick: a short look).
      await sleep(ctx.quick ? 1_000 : 6_000);
      const per: number[] = [];
      let wrongSize = 0;
      let lastArrival = t0;
      for (let i = 0; i < n; i++) {
        const list = rx.byKey.get(`${route}|/demo/inbox/b${n}/f-${i}.txt`);
        if (!list) continue;
        per.push(Number(list[0]!.arrival - tw[i]!) / 1e6);
        if (list[0]!.arrival > lastArrival) lastArrival = list[0]!.arrival;
        if (list.some((d) => d.size !== 1024)) wrongSize++;
      }
      const lost = n - per.length;
      const dups = rx.duplicates(`${route}|`);
      const perS = summarize(per);
      const fOn = floorOn.bursts[bi]!;
      const fOff = floorOff.bursts[bi]!;
      const lastMs = Number(lastArrival - t0) / 1e6;
      rows.push({
        group: '3',
        metric: `burst of ${n.toLocaleString('en-US')} files: written → all delivered`,
        unit: 's',
        baton: { p50: complete ? lastMs / 1000 : null },
        floor: { p50: fOn.allMs === null ? null : fOn.allMs / 1000, what: `chokidar awf on${fOn.missed ? `, missed ${fOn.missed}` : ''}` },
        target: '≤ 2× the floor, 0 lost, 0 duplicated',
        met: complete && fOn.allMs !== null ? lastMs <= 2 * fOn.allMs && dups.extra === 0 : null,
        note:
          `${complete ? `lost 0` : `only ${deliveredAtLimit.toLocaleString('en-US')} delivered (${recorded.toLocaleString('en-US')} events recorded) within the ${limit / 1000} s limit; the rest still pending, not counted as lost`}, ` +
          `duplicates ${dups.extra} (same id ${dups.sameId}, new id ${dups.otherId})` +
          `${wrongSize ? `, ${wrongSize} created events with size ≠ 1024` : ''}; writing took ${(writeMs / 1000).toFixed(2)} s; ` +
          `chokidar awf off: ${fOff.missed ? `missed ${fOff.missed} of ${n}` : `all in ${(fOff.lastMs / 1000).toFixed(2)} s`}`,
      });
      rows.push({
        group: '3',
        metric: `↳ per-file latency in that burst`,
        unit: 'ms',
        baton: lat(perS),
        floor: { ...lat(fOn.perFile), what: 'chokidar awf on' },
      });
      details[`burst${n}`] = { n, writeMs, complete, allMs, lastMs, recorded, deliveredAtLimit, delivered: per.length, notDelivered: lost, duplicates: dups, wrongSize, perFile: perS };
      ctx.log(`    ${per.length}/${n} in ${(lastMs / 1000).toFixed(1)} s, dup ${dups.extra}`);
    }
    details.batonWarnings = stack.baton.logs().split('\n').filter(Boolean).slice(-20);
    return { id: 'drop-to-webhook', title: `3. Drop on disk → webhook (BATON_RESCAN_SECONDS=5), 1 KiB${ctx.quick ? ' (quick mode: one burst of 200; full run: 10,000 and 50,000)' : ''}`, rows, details };
  } finally {
    await scope.close();
  }
}
