import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeDir, startBaton, type TestBaton } from '../helpers/baton.js';
import { allEvents } from '../helpers/events.js';
import { client, createKey } from '../helpers/http.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';
import { spawnWorker, type DrainReport, type WorkerProc } from '../helpers/workers.js';

const TICKETS = 1000;
const WORKERS = 8;
const names = Array.from({ length: TICKETS }, (_, i) => `t${String(i).padStart(4, '0')}`);

let redis: TestRedis;
let a: TestBaton;
let b: TestBaton;
const workers: WorkerProc[] = [];

beforeAll(async () => {
  redis = await startRedis();
  const adminToken = `admin-${Math.random().toString(36).slice(2)}`;
  a = await startBaton({ redisUrl: redis.url, adminToken });
  // a second replica on the same data directory, workspace definitions and Redis
  b = await startBaton({ redisUrl: redis.url, adminToken, dataDir: a.dataDir, workspacesDir: a.workspacesDir });
});
afterAll(async () => {
  for (const w of workers) w.proc.kill('SIGKILL');
  await a?.stop();
  await b?.stop();
  await redis?.stop();
  if (a) {
    removeDir(a.dataDir);
    removeDir(a.workspacesDir);
  }
});

/** Run `fn` over `items` with at most `n` in flight. */
async function pool<T>(items: T[], n: number, fn: (t: T) => Promise<void>): Promise<void> {
  let i = 0;
  await Promise.all(
    Array.from({ length: n }, async () => {
      while (i < items.length) await fn(items[i++]!);
    }),
  );
}

describe('draining one queue from 8 worker processes through 2 replicas', () => {
  it('every ticket ends in done/ exactly once, no ticket is completed twice, every fencing token is unique', async () => {
    const admin = client(a.url, a.adminToken);
    const adminB = client(b.url, b.adminToken);
    // the tickets, written through both replicas
    await pool(names, 16, async (n) => {
      const r = await (Number(n.slice(1)) % 2 ? adminB : admin).put(`/demo/tasks/pending/${n}`, n, { 'content-type': 'text/plain' });
      expect(r.status, r.text).toBe(201);
    });
    const { key } = await createKey(a.url, a.adminToken, { agent: 'drainer', grants: ['claim:/demo/tasks/**', 'read:/demo/tasks/**'] });

    const started = Date.now();
    for (let i = 0; i < WORKERS; i++) {
      // half the workers start on each replica; every worker alternates between both
      const urls = i % 2 ? [b.url, a.url] : [a.url, b.url];
      workers.push(spawnWorker({ mode: 'drain', urls, key, queue: '/demo/tasks', deadlineMs: 170_000 }));
    }
    const reports = await Promise.all(workers.map((w) => w.firstLine<DrainReport>(190_000)));
    const seconds = (Date.now() - started) / 1000;
    const claims = reports.reduce((s, r) => s + r.claims, 0);
    console.log(`drain: ${claims} claims by ${WORKERS} workers on 2 replicas in ${seconds.toFixed(1)} s = ${(claims / seconds).toFixed(1)} claims/s`);

    // no worker saw anything but claims, completions and empty queues
    for (const [i, r] of reports.entries()) {
      expect(r.timedOut, `worker ${i} timed out`).toBe(false);
      // soft: a refused completion is reported here, and the checks below still show the damage
      expect.soft(r.unexpected, `worker ${i}`).toEqual([]);
    }
    // nothing stranded: a ticket left in pending/ or in-progress/ is listed here (soft, so the
    // checks below still run)
    const root = join(a.dataDir, 'demo', 'tasks');
    expect.soft(readdirSync(join(root, 'pending')), 'left in pending/').toEqual([]);
    expect.soft(readdirSync(join(root, 'in-progress')), 'left in in-progress/').toEqual([]);
    // no ticket completed twice; together they completed all of them
    const completed = reports.flatMap((r) => r.completed);
    expect(completed.length).toBe(TICKETS);
    expect(new Set(completed).size).toBe(TICKETS);
    expect([...completed].sort()).toEqual(names);
    // every claim got its own fencing token
    const tokens = reports.flatMap((r) => r.tokens);
    expect(tokens.length).toBe(claims);
    expect(new Set(tokens).size).toBe(tokens.length);
    expect(claims).toBe(TICKETS);

    // on disk: all in done/, exactly once, with their content; nothing left behind
    expect(readdirSync(join(root, 'pending'))).toEqual([]);
    expect(readdirSync(join(root, 'in-progress'))).toEqual([]);
    const done = readdirSync(join(root, 'done')).sort();
    expect(done).toEqual(names);
    for (const n of names) expect(readFileSync(join(root, 'done', n), 'utf8')).toBe(n);
    expect(existsSync(join(root, 'failed')) ? readdirSync(join(root, 'failed')) : []).toEqual([]);

    // and through the API of either replica
    for (const api of [admin, adminB]) {
      expect((await api.list('/demo/tasks/pending')).json.entries).toEqual([]);
      expect((await api.list('/demo/tasks/in-progress')).json.entries).toEqual([]);
    }
    const listed: string[] = [];
    let cursor: string | null = null;
    do {
      const r = await admin.list('/demo/tasks/done', `?limit=1000${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      expect(r.status, r.text).toBe(200);
      listed.push(...r.json.entries.map((e: { path: string }) => e.path));
      cursor = r.json.cursor;
    } while (cursor);
    expect(listed.sort()).toEqual(names.map((n) => `/demo/tasks/done/${n}`));

    // the event log agrees: one claim and one completion per ticket, no token given out twice
    const events = await allEvents(admin, '/demo/tasks/**');
    const claimed = events.filter((e) => e.event === 'ticket.claimed');
    const completedEvents = events.filter((e) => e.event === 'ticket.completed');
    expect(claimed.length).toBe(TICKETS);
    expect(new Set(claimed.map((e) => e.path)).size).toBe(TICKETS);
    const eventTokens = claimed.map((e) => e.ticket?.fencingToken).filter((t) => t !== undefined);
    expect(new Set(eventTokens).size).toBe(eventTokens.length);
    expect(completedEvents.length).toBe(TICKETS);
    expect(new Set(completedEvents.map((e) => e.path)).size).toBe(TICKETS);
  }, 230_000);
});
