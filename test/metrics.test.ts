import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditLog } from '../src/audit/audit-log.js';
import { registerBacklogSource } from '../src/observability/backlog-sources.js';
import { Metrics } from '../src/observability/metrics.js';
import { registerOperatorMetrics } from '../src/observability/operator-metrics.js';
import { fencedBlocks } from './docs/markdown.js';
import { REPO, startBaton, teardown, type TestBaton } from './helpers/baton.js';
import { client } from './helpers/http.js';
import { eventually, Receiver } from './helpers/receiver.js';
import { startRedis, type TestRedis } from './helpers/redis.js';
import { tempDir } from './helpers/temp.js';

let redis: TestRedis;
let baton: TestBaton;
let admin: ReturnType<typeof client>;
const receivers: Receiver[] = [];

beforeAll(async () => {
  redis = await startRedis();
  // One retry a second after the first failure, then the delivery is dead.
  baton = await startBaton({ redisUrl: redis.url, env: { BATON_WEBHOOK_RETRY_SCHEDULE: '1' } });
  admin = client(baton.url, baton.adminToken);
});
afterAll(async () => {
  for (const r of receivers) await r.close();
  await teardown(baton, redis);
});

const promtool = spawnSync('promtool', ['--version']).status === 0;

async function scrape(): Promise<string> {
  const r = await client(baton.url).call('GET', '/metrics');
  expect(r.status).toBe(200);
  return r.text;
}

/** The value of one sample in Prometheus text (`labels` as written, e.g. `state="waiting"`), or undefined. */
function sample(text: string, name: string, labels = ''): number | undefined {
  const head = labels ? `${name}{${labels}} ` : `${name} `;
  const line = text.split('\n').find((l) => l.startsWith(head));
  return line === undefined ? undefined : Number(line.slice(head.length));
}

async function receiver(): Promise<Receiver> {
  const r = await Receiver.start();
  receivers.push(r);
  return r;
}

async function subscribe(rcv: Receiver, paths: string[]): Promise<void> {
  const r = await admin.post('/v1/subscriptions', { url: rcv.url(), paths, events: ['file.created'] });
  expect(r.status, r.text).toBe(201);
  rcv.secret = r.json.secret;
}

async function put(path: string): Promise<void> {
  const r = await admin.put(path, 'x', { 'content-type': 'text/plain' });
  expect(r.status, r.text).toBe(201);
}

describe('operator metrics', () => {
  it('show the delivery queue backing up behind a slow receiver (waiting, active, age of the oldest) and draining', async () => {
    const rcv = await receiver();
    await subscribe(rcv, ['/demo/slow/**']);
    // Every POST is held 1.5 s: the worker's 64 slots fill, the rest of the deliveries wait.
    rcv.responder = () => ({ status: 200, delayMs: 1500 });
    const n = 80;
    for (let i = 0; i < n; i += 16) await Promise.all(Array.from({ length: 16 }, (_, j) => put(`/demo/slow/f-${i + j}.txt`)));
    const backed = await eventually(async () => {
      const t = await scrape();
      return (sample(t, 'baton_webhook_deliveries_queued', 'state="waiting"') ?? 0) > 0 && (sample(t, 'baton_webhook_deliveries_queued', 'state="active"') ?? 0) > 0 ? t : null;
    }, 10_000, 'deliveries waiting behind the slow receiver', 50);
    const age1 = sample(backed, 'baton_webhook_oldest_waiting_delivery_age_seconds')!;
    expect(age1).toBeGreaterThan(0);
    await new Promise((res) => setTimeout(res, 200));
    const later = await scrape();
    if ((sample(later, 'baton_webhook_deliveries_queued', 'state="waiting"') ?? 0) > 0) {
      expect(sample(later, 'baton_webhook_oldest_waiting_delivery_age_seconds')).toBeGreaterThan(age1);
    }
    rcv.responder = () => ({ status: 200 });
    await rcv.waitFor((r) => new Set(r.delivered.map((d) => d.body.path)).size === n, 20_000, `${n} deliveries`);
    const drained = await eventually(async () => {
      const t = await scrape();
      return sample(t, 'baton_webhook_deliveries_queued', 'state="waiting"') === 0 && sample(t, 'baton_webhook_deliveries_queued', 'state="active"') === 0 ? t : null;
    }, 10_000, 'the queue to drain', 50);
    expect(sample(drained, 'baton_webhook_oldest_waiting_delivery_age_seconds')).toBe(0);
  });

  it('show a failing delivery waiting out its backoff, then held as a dead letter', async () => {
    const rcv = await receiver();
    await subscribe(rcv, ['/demo/dead/**']);
    rcv.always(500);
    const before = sample(await scrape(), 'baton_webhook_dead_letters_held') ?? 0;
    await put('/demo/dead/a.txt');
    await eventually(async () => (sample(await scrape(), 'baton_webhook_deliveries_queued', 'state="delayed"') ?? 0) >= 1, 5_000, 'the retry to be delayed', 50);
    await eventually(async () => sample(await scrape(), 'baton_webhook_dead_letters_held') === before + 1, 10_000, 'a dead letter');
    expect(rcv.requests.length).toBe(2);
  });

  it('show events past the dispatcher cursor, per workspace, and the lag closing', async () => {
    await put('/demo/lag/a.txt');
    await put('/demo/lag/b.txt');
    const r = new Redis(redis.url);
    try {
      const last = Number(await r.get('baton:ev:demo:seq'));
      // Stands in for a catch-up loop that fell behind: the cursor is wound back to the start of
      // the log. The loop runs each second, so the scrape right after is tried a few times.
      let seen: string | null = null;
      for (let i = 0; i < 5 && !seen; i++) {
        await r.set('baton:ev:demo:dispatched', '0');
        const t = await scrape();
        if (sample(t, 'baton_event_dispatch_lag_events', 'workspace="demo"') === last) seen = t;
      }
      expect(seen, 'a scrape between the cursor being wound back and catch-up').not.toBeNull();
      expect(sample(seen!, 'baton_event_dispatch_lag_seconds', 'workspace="demo"')).toBeGreaterThan(0);
      const caught = await eventually(async () => {
        const t = await scrape();
        return sample(t, 'baton_event_dispatch_lag_events', 'workspace="demo"') === 0 ? t : null;
      }, 10_000, 'catch-up');
      expect(sample(caught, 'baton_event_dispatch_lag_seconds', 'workspace="demo"')).toBe(0);
    } finally {
      r.disconnect();
    }
  });

  it('count ticket leases that expired, by where the ticket went', async () => {
    const labels = 'next="pending"';
    const before = sample(await scrape(), 'baton_ticket_lease_expiries_total', labels) ?? 0;
    await put('/demo/q-metrics/pending/t1.txt');
    const c = await admin.post('/v1/tickets/claim', { queue: '/demo/q-metrics', leaseSeconds: 0.2 });
    expect(c.status, c.text).toBe(200);
    await eventually(async () => sample(await scrape(), 'baton_ticket_lease_expiries_total', labels) === before + 1, 10_000, 'the lease to be reaped');
  });

  it('show audit entries accepted but not yet on disk', async () => {
    const r = new Redis(redis.url);
    const audit = new AuditLog(tempDir('baton-audit-'), r);
    try {
      await audit.open();
      expect(audit.backlog()).toEqual({ entries: 0, oldestSeconds: 0 });
      // Redis numbers the entries before they are written: while it stalls, they wait.
      await r.call('CLIENT', 'PAUSE', '400', 'WRITE');
      const written = Array.from({ length: 50 }, (_, i) => audit.record({ time: new Date().toISOString(), actor: 'test', action: 'file.write', path: `/demo/${i}`, outcome: 'allowed', code: null, etag: null }));
      await new Promise((res) => setTimeout(res, 150));
      const stalled = audit.backlog();
      expect(stalled.entries).toBe(50);
      expect(stalled.oldestSeconds).toBeGreaterThanOrEqual(0.1);
      await Promise.all(written);
      expect(audit.backlog()).toEqual({ entries: 0, oldestSeconds: 0 });
    } finally {
      await audit.close();
      r.disconnect();
    }
    const text = await scrape();
    expect(sample(text, 'baton_audit_pending_entries')).toBeGreaterThanOrEqual(0);
    expect(sample(text, 'baton_audit_oldest_pending_age_seconds')).toBeGreaterThanOrEqual(0);
  });

  it('show the disk watcher backlog while a burst of files dropped on disk settles, then 0', async () => {
    expect(sample(await scrape(), 'baton_watch_pending_changes', 'source="demo"')).toBe(0);
    const dir = join(baton.dataDir, 'demo', 'dropped-burst');
    mkdirSync(dir, { recursive: true });
    for (let i = 0; i < 300; i++) writeFileSync(join(dir, `f${i}.txt`), `file ${i}`);
    let seen = 0;
    await eventually(
      async () => {
        seen = Math.max(seen, sample(await scrape(), 'baton_watch_pending_changes', 'source="demo"') ?? 0);
        return seen > 0;
      },
      5_000,
      'a backlog above 0',
      20,
    );
    await eventually(async () => sample(await scrape(), 'baton_watch_pending_changes', 'source="demo"') === 0, 30_000, 'the backlog back at 0');
    console.log(`watcher backlog peaked at ${seen} or more of 300 dropped files`);
  });

  it('read each registered watcher backlog on scrape, until it is unregistered', async () => {
    const metrics = new Metrics();
    const idle = async () => ({ waiting: 0, prioritized: 0, delayed: 0, active: 0, dead: 0, oldestWaitingSeconds: 0 });
    registerOperatorMetrics(metrics, { dispatchLag: async () => [], deliveryQueue: idle, auditBacklog: () => ({ entries: 0, oldestSeconds: 0 }) }, pino({ level: 'silent' }));
    let backlog = 3;
    const unregister = registerBacklogSource('ws-a', () => backlog);
    expect(sample(await metrics.registry.metrics(), 'baton_watch_pending_changes', 'source="ws-a"')).toBe(3);
    backlog = 7;
    expect(sample(await metrics.registry.metrics(), 'baton_watch_pending_changes', 'source="ws-a"')).toBe(7);
    unregister();
    expect(sample(await metrics.registry.metrics(), 'baton_watch_pending_changes', 'source="ws-a"')).toBeUndefined();
  });
});

describe('/metrics', () => {
  it('labels operational routes and rejected requests by their route pattern, never unmatched', async () => {
    const anon = client(baton.url);
    for (const path of ['/healthz', '/readyz', '/openapi.json', '/metrics']) expect((await anon.call('GET', path)).status).toBe(200);
    // answered by the authenticate middleware, still counted against the route it was meant for
    expect((await anon.call('GET', '/v1/keys')).status).toBe(401);
    const text = await scrape();
    const counted = (route: string, status: string) => new RegExp(`^baton_http_requests_total\\{method="GET",route="${route.replace(/[.*?/]/g, '\\$&')}",status="${status}"\\} [1-9]`, 'm');
    for (const path of ['/healthz', '/readyz', '/openapi.json', '/metrics']) expect(text).toMatch(counted(path, '200'));
    expect(text).toMatch(counted('/v1/keys', '401'));
    expect(text).not.toMatch(/route="unmatched",status="200"/);
  });

  it('has no gauge named like a counter', async () => {
    const text = await scrape();
    expect(text).not.toMatch(/^# TYPE \S+_total gauge$/m);
    expect(text).toMatch(/^# TYPE baton_nodejs_active_resources gauge$/m);
  });

  it.runIf(promtool)('passes promtool check metrics', async () => {
    const text = await scrape();
    const r = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
    expect(r.stdout + r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('documents every Baton metric in docs/metrics.md', async () => {
    const doc = readFileSync(join(REPO, 'docs/metrics.md'), 'utf8');
    const families = [...(await scrape()).matchAll(/^# TYPE (baton_\S+) /gm)].map((m) => m[1]!);
    // prom-client's defaults are described there as a group, by prefix.
    const ours = families.filter((f) => !/^baton_(process|nodejs)_/.test(f) || f === 'baton_nodejs_active_resources');
    expect(ours.length).toBeGreaterThan(15);
    expect(ours.filter((f) => !doc.includes(`\`${f}\``))).toEqual([]);
  });

  it.runIf(promtool)('has alert rules in docs/metrics.md that promtool accepts', () => {
    const [rules] = fencedBlocks('docs/metrics.md', '## Alerts to start from', 'yaml');
    const file = join(tempDir('baton-rules-'), 'baton.rules.yml');
    writeFileSync(file, rules!);
    const r = spawnSync('promtool', ['check', 'rules', file], { encoding: 'utf8' });
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/SUCCESS: 6 rules found/);
  });
});
