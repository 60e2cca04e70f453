/**
 * The delivery worker alone on a busy event loop. `npm run build && node --import tsx
 * bench/delivery-fetch.ts [--fetchers=1,4] [--busy=0.9] [--n=2000] [--rounds=3]` starts a
 * redis-server and a loopback receiver, and for each round and each fetcher count runs Baton's
 * DeliveryWorker (64 slots) while jobs are added at 200/s and a timer keeps the event loop
 * `busy` of the time occupied, as a cold or loaded `baton serve` is. Latency = job added →
 * receiver sees the POST. Also samples the queue every 20 ms: jobs waiting while fewer than half
 * the slots are busy means the worker's fetching, not the receivers, held them back.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { Metrics } from '../src/observability/metrics.js';
import { AttemptLog } from '../src/webhooks/attempts.js';
import { DeliveryWorker } from '../src/webhooks/delivery-worker.js';
import { BULL_PREFIX, DELIVERY_QUEUE, deliveryJobId } from '../src/webhooks/dispatcher.js';
import { SubscriptionStore } from '../src/webhooks/subscriptions.js';
import { UrlPolicy } from '../src/webhooks/url-policy.js';
import { startRedis } from '../test/helpers/redis.js';
import { percentile } from './lib/stats.js';

const args = process.argv.slice(2);
const arg = (name: string, dflt: string) => args.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? dflt;
const FETCHERS = arg('fetchers', '1,4').split(',').map(Number);
const BUSY = Number(arg('busy', '0.9'));
const N = Number(arg('n', '2000'));
const ROUNDS = Number(arg('rounds', '3'));
const RATE = 200;
const SLOTS = 64;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function once(fetchers: number): Promise<{ p50: number; p99: number; firstP50: number; maxWaiting: number; starved: string }> {
  const rds = await startRedis();
  const redis = new Redis(rds.url);
  const arrivals = new Map<string, number>();
  const rx = http.createServer((req, res) => {
    const id = String(req.headers['webhook-id']);
    req.resume();
    req.on('end', () => {
      if (!arrivals.has(id)) arrivals.set(id, performance.now());
      res.end('ok');
    });
  });
  rx.keepAliveTimeout = 60_000;
  await new Promise<void>((r) => rx.listen(0, '127.0.0.1', () => r()));
  const subs = new SubscriptionStore(redis);
  await subs.start();
  const sub = await subs.create({ url: `http://127.0.0.1:${(rx.address() as AddressInfo).port}/hook`, paths: ['/demo/**'], owner: 'bench' });
  const worker = new DeliveryWorker(
    { redisUrl: rds.url, retrySchedule: [1], timeoutMs: 5000, concurrency: SLOTS, fetchers },
    subs,
    new AttemptLog(redis),
    new UrlPolicy([], []),
    new Metrics(),
    pino({ level: 'silent' }),
  );
  worker.start();
  const conn = new Redis(rds.url, { maxRetriesPerRequest: null });
  const queue = new Queue(DELIVERY_QUEUE, { connection: conn, prefix: BULL_PREFIX });
  const added = new Map<string, number>();
  const add = (i: number) => {
    const event = { id: `ev_${i}`, seq: i + 1000, event: 'file.created', workspace: 'demo', path: `/demo/f-${i}.txt`, time: new Date().toISOString(), actor: 'bench', etag: 'x', size: 1 };
    added.set(event.id, performance.now());
    return queue.add('file.created', { subId: sub.id, event }, { jobId: deliveryJobId(sub.id, event.id), removeOnComplete: true });
  };
  try {
    // Warm-up on an idle loop: connections, scripts, JIT.
    for (let i = -100; i < 0; i++) await add(i);
    while (arrivals.size < 100) await sleep(10);

    let sampling = true;
    let starved = 0;
    let samples = 0;
    let maxWaiting = 0;
    const sampler = (async () => {
      const r = new Redis(rds.url);
      while (sampling) {
        const [waiting, active] = await Promise.all([r.llen(`${BULL_PREFIX}:${DELIVERY_QUEUE}:wait`), r.llen(`${BULL_PREFIX}:${DELIVERY_QUEUE}:active`)]);
        samples++;
        maxWaiting = Math.max(maxWaiting, waiting);
        if (waiting > 0 && active < SLOTS / 2) starved++;
        await sleep(20);
      }
      r.disconnect();
    })();
    const burn = setInterval(() => {
      const end = performance.now() + 5 * BUSY;
      while (performance.now() < end);
    }, 5);
    const t0 = performance.now();
    await new Promise<void>((resolve) => {
      let i = 0;
      const tick = () => {
        const due = Math.floor(((performance.now() - t0) * RATE) / 1000);
        while (i < N && i <= due) void add(i++);
        if (i < N) setTimeout(tick, 1);
        else resolve();
      };
      tick();
    });
    const deadline = Date.now() + 60_000;
    while (Array.from({ length: N }, (_, i) => arrivals.has(`ev_${i}`)).includes(false) && Date.now() < deadline) await sleep(20);
    clearInterval(burn);
    sampling = false;
    await sampler;
    const lat = (from: number, to: number) => {
      const out: number[] = [];
      for (let i = from; i < to; i++) {
        const a = arrivals.get(`ev_${i}`);
        if (a !== undefined) out.push(a - added.get(`ev_${i}`)!);
      }
      return out.sort((x, y) => x - y);
    };
    const all = lat(0, N);
    if (all.length < N) throw new Error(`${N - all.length} deliveries did not arrive`);
    return { p50: percentile(all, 0.5), p99: percentile(all, 0.99), firstP50: percentile(lat(0, N / 10), 0.5), maxWaiting, starved: `${starved}/${samples}` };
  } finally {
    await worker.stop();
    await queue.close();
    conn.disconnect();
    await subs.stop();
    redis.disconnect();
    rx.close();
    await rds.stop();
  }
}

const results = new Map<number, Array<Awaited<ReturnType<typeof once>>>>();
for (let r = 0; r < ROUNDS; r++) {
  for (const f of FETCHERS) {
    const res = await once(f);
    results.set(f, [...(results.get(f) ?? []), res]);
    process.stdout.write(
      `round ${r + 1} fetchers ${f}: add→POST p50 ${res.p50.toFixed(1)} ms p99 ${res.p99.toFixed(1)} ms, first tenth p50 ${res.firstP50.toFixed(1)} ms; ` +
        `max waiting ${res.maxWaiting}; samples with jobs waiting while under half the slots were busy ${res.starved}\n`,
    );
  }
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
for (const [f, rs] of results) {
  process.stdout.write(`median of ${rs.length}, fetchers ${f}: p50 ${median(rs.map((x) => x.p50)).toFixed(1)} ms, p99 ${median(rs.map((x) => x.p99)).toFixed(1)} ms, max waiting ${median(rs.map((x) => x.maxWaiting))}\n`);
}
process.exit(0);
