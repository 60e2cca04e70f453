import { existsSync, mkdirSync, readdirSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeDir, startBaton, type TestBaton } from '../helpers/baton.js';
import { allEvents, type Ev } from '../helpers/events.js';
import { client, createKey } from '../helpers/http.js';
import { eventually, Receiver, sleep } from '../helpers/receiver.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';

/**
 * Crashes: Baton killed -9 mid-burst, Redis killed -9 with deliveries queued, files changed on
 * disk while Baton was down. One Redis, one data directory, one subscriber throughout.
 */

const ENV = {
  BATON_WEBHOOK_RETRY_SCHEDULE: '1,1,1,1,1,1,1,1,1,1,1,1',
  BATON_WEBHOOK_TIMEOUT_MS: '3000',
  BATON_RESCAN_SECONDS: '1',
};

let redis: TestRedis;
let baton: TestBaton;
let dataDir: string;
let workspacesDir: string;
let rcv: Receiver;
let agentKey: string;

const admin = () => client(baton.url, baton.adminToken);
const onDisk = (p: string) => join(dataDir, p.replace(/^\//, ''));

let expectExit = false;
/** An exit nobody asked for is logged with the process's stderr. */
function watchExit(b: TestBaton): TestBaton {
  b.proc.once('exit', (code, signal) => {
    if (!expectExit) console.error(`baton serve exited unexpectedly (${code ?? signal}):\n${b.logs().slice(-4000)}`);
  });
  return b;
}
async function restart(): Promise<void> {
  baton = watchExit(await startBaton({ redisUrl: redis.url, dataDir, workspacesDir, env: ENV, adminToken: baton.adminToken }));
  expectExit = false;
}

beforeAll(async () => {
  redis = await startRedis();
  rcv = await Receiver.start();
  baton = watchExit(await startBaton({ redisUrl: redis.url, env: ENV }));
  dataDir = baton.dataDir;
  workspacesDir = baton.workspacesDir;
  const r = await admin().post('/v1/subscriptions', { url: rcv.url(), paths: ['/demo/**'] });
  expect(r.status, r.text).toBe(201);
  rcv.secret = r.json.secret;
  agentKey = (await createKey(baton.url, baton.adminToken, { agent: 'burst', grants: ['read:/demo/**', 'write:/demo/**', 'delete:/demo/**'] })).key;
});
afterAll(async () => {
  expectExit = true;
  await rcv?.close();
  await baton?.stop();
  await redis?.stop();
  if (dataDir) removeDir(dataDir);
  if (workspacesDir) removeDir(workspacesDir);
});

describe('while Baton was down', () => {
  it('files created, changed and deleted on disk while Baton was stopped are reported with actor fs after start, once', async () => {
    const api = client(baton.url, agentKey);
    expect((await api.put('/demo/inbox/offline/changed.txt', 'v1')).status).toBe(201);
    expect((await api.put('/demo/inbox/offline/removed.txt', 'bye')).status).toBe(201);
    await rcv.waitFor((r) => r.deliveredFor((p) => p.startsWith('/demo/inbox/offline/')).length >= 2, 10_000, 'the two API writes');
    expectExit = true;
    await baton.stop();
    writeFileSync(onDisk('/demo/inbox/offline/new.txt'), 'dropped while down');
    writeFileSync(onDisk('/demo/inbox/offline/changed.txt'), 'v2 written while down');
    unlinkSync(onDisk('/demo/inbox/offline/removed.txt'));
    await restart();

    const want = [
      ['file.created', '/demo/inbox/offline/new.txt'],
      ['file.updated', '/demo/inbox/offline/changed.txt'],
      ['file.deleted', '/demo/inbox/offline/removed.txt'],
    ];
    const fsEvents = await eventually(async () => {
      const evs = (await allEvents(admin(), '/demo/inbox/offline/**')).filter((e: Ev) => e.actor === 'fs');
      return evs.length >= 3 ? evs : null;
    }, 15_000, 'three fs events');
    await sleep(2500); // a couple more rescans: nothing is reported twice
    const evs = await allEvents(admin(), '/demo/inbox/offline/**');
    expect(evs.filter((e) => e.actor === 'fs').map((e) => [e.event, e.path]).sort()).toEqual([...want].sort());
    expect(evs.filter((e) => e.actor !== 'fs').map((e) => [e.event, e.path, e.actor]).sort()).toEqual([
      ['file.created', '/demo/inbox/offline/changed.txt', 'agent:burst'],
      ['file.created', '/demo/inbox/offline/removed.txt', 'agent:burst'],
    ]);
    const created = fsEvents.find((e: Ev) => e.event === 'file.created')!;
    expect(created).toMatchObject({ workspaceId: 'ws_demo', size: 'dropped while down'.length });
    expect(typeof created.etag).toBe('string');
    // and the subscriber hears of them
    await rcv.waitFor((r) => want.every(([ev, p]) => r.delivered.some((d) => d.body.event === ev && d.body.path === p && d.body.actor === 'fs')), 10_000, 'fs deliveries');
    expect(rcv.signatureFailures).toBe(0);
  });
});

describe('Baton killed -9 during a burst of writes', () => {
  const acked = new Map<string, string>(); // path -> etag of the 2xx answer, in answer order
  const N = 500;
  const paths = Array.from({ length: N }, (_, i) => `/demo/inbox/burst/f${String(i).padStart(3, '0')}.txt`);
  let restartedAt = 0;

  it('every acknowledged write of the burst is in the event log after the restart, as its agent', async () => {
    const api = client(baton.url, agentKey);
    let next = 0;
    let killing: Promise<void> | null = null;
    await Promise.all(
      Array.from({ length: 20 }, async () => {
        for (;;) {
          const i = next++;
          if (i >= N) return;
          try {
            const r = await api.put(paths[i]!, `burst ${i} ${'x'.repeat(i % 50)}`);
            if (r.status === 200 || r.status === 201) acked.set(paths[i]!, r.json.etag);
          } catch {
            if (killing) return;
          }
          // the kill lands right after an acknowledgement, with ~20 writes in flight
          if (acked.size >= 150 && !killing) {
            expectExit = true;
            killing = baton.kill();
          }
        }
      }),
    );
    await killing;
    expect(acked.size).toBeGreaterThanOrEqual(150);
    expect(acked.size, 'the kill landed mid-burst').toBeLessThan(N);
    await restart();
    restartedAt = Date.now();
    const evs = await allEvents(admin(), '/demo/inbox/burst/**');
    for (const [p, etag] of acked) {
      const mine = evs.filter((e) => e.path === p);
      expect(mine.map((e) => [e.event, e.actor, e.etag]), p).toEqual([['file.created', 'agent:burst', etag]]);
    }
  });

  it('after the new process takes the watch over, no acknowledged write is re-reported with actor fs, and no file twice', async () => {
    // the killed process held the watch lease (15 s); a sentinel dropped on disk shows when the new one watches
    mkdirSync(onDisk('/demo/outbox/sentinel'), { recursive: true });
    writeFileSync(onDisk('/demo/outbox/sentinel/after-kill.txt'), 'sentinel');
    await eventually(async () => (await allEvents(admin(), '/demo/outbox/sentinel/**')).length > 0, 40_000, 'the sentinel to be reported (watch lease taken over)', 500);
    await sleep(3000); // several rescans at BATON_RESCAN_SECONDS=1
    const evs = await allEvents(admin(), '/demo/inbox/burst/**');
    const byPath = new Map<string, Ev[]>();
    for (const e of evs) byPath.set(e.path, [...(byPath.get(e.path) ?? []), e]);
    for (const [p, etag] of acked) {
      expect((byPath.get(p) ?? []).map((e) => [e.event, e.actor, e.etag]), p).toEqual([['file.created', 'agent:burst', etag]]);
    }
    // every file that made it to disk (acknowledged or not) is reported exactly once
    const onDiskNow = readdirSync(onDisk('/demo/inbox/burst'));
    for (const name of onDiskNow) {
      const p = `/demo/inbox/burst/${name}`;
      expect((byPath.get(p) ?? []).length, `events of ${p}: ${JSON.stringify(byPath.get(p))}`).toBe(1);
    }
    for (const [p] of byPath) expect(existsSync(onDisk(p)), `${p} has an event but is not on disk`).toBe(true);
    expect(byPath.size).toBe(onDiskNow.length);
  }, 60_000);

  it('every write that got a 2xx is delivered at least once; duplicates share the webhook-id; none as fs', async () => {
    const missing = () => [...acked].filter(([p, etag]) => !rcv.delivered.some((d) => d.body.path === p && d.body.etag === etag));
    try {
      // deliveries that were in flight at the kill come back when the queue notices them stalled
      await rcv.waitFor(() => missing().length === 0, Math.max(5000, 95_000 - (Date.now() - restartedAt)), 'every acknowledged write delivered');
    } catch (err) {
      throw new Error(`${(err as Error).message}; ${missing().length} of ${acked.size} acknowledged writes not delivered ${Math.round((Date.now() - restartedAt) / 1000)} s after the restart, e.g. ${missing().slice(0, 3).map(([p]) => p).join(', ')}`);
    }
    const ids = new Map<string, Set<string>>();
    for (const d of rcv.delivered) {
      if (!d.body.path.startsWith('/demo/inbox/burst/')) continue;
      const k = `${d.body.path} ${d.body.etag}`;
      ids.set(k, (ids.get(k) ?? new Set()).add(d.id));
    }
    for (const [k, s] of ids) expect(s.size, `webhook-ids for ${k}: ${[...s].join(', ')}`).toBe(1);
    for (const d of rcv.delivered) {
      if (!acked.has(d.body.path)) continue;
      expect(d.body.actor, `actor of ${d.body.path}`).toBe('agent:burst');
      expect(d.id).toBe(d.body.id);
    }
    expect(rcv.signatureFailures).toBe(0);
  }, 100_000);
});

describe('Redis killed -9 while deliveries are queued', () => {
  it('after Redis restarts and the receiver comes back, every event is delivered', async () => {
    const api = client(baton.url, agentKey);
    await rcv.down();
    const paths = Array.from({ length: 12 }, (_, i) => `/demo/outbox/redis-crash/f${i}.txt`);
    const etags = new Map<string, string>();
    for (const p of paths) {
      const r = await api.put(p, p);
      expect(r.status, r.text).toBe(201);
      etags.set(p, r.json.etag);
    }
    await sleep(1500); // first attempts fail: the jobs wait for their retry
    await redis.restart();
    await eventually(async () => (await fetch(`${baton.url}/readyz`)).status === 200, 15_000, 'readyz after the Redis restart');
    await sleep(500);
    await rcv.up();
    const missing = () => paths.filter((p) => !rcv.delivered.some((d) => d.body.path === p && d.body.etag === etags.get(p)));
    try {
      await rcv.waitFor(() => missing().length === 0, 30_000, 'every queued event');
    } catch (err) {
      throw new Error(`${(err as Error).message}; missing ${missing().join(', ')}\n${baton.logs().slice(-2000)}`);
    }
    // Baton still works after the Redis crash: a new write is delivered too
    expect((await api.put('/demo/outbox/redis-crash/after.txt', 'after')).status).toBe(201);
    await rcv.waitFor((r) => r.delivered.some((d) => d.body.path === '/demo/outbox/redis-crash/after.txt'), 10_000, 'a write after the crash');
    expect(rcv.signatureFailures).toBe(0);
  });
});
