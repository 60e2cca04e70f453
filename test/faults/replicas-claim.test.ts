import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBaton, teardown, type TestBaton } from '../helpers/baton.js';
import { allEvents } from '../helpers/events.js';
import { client, createKey } from '../helpers/http.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';

/*
 * Two `baton serve` processes on one Redis and one data directory, and workers that each send
 * every request to the other replica than the last: a claim on one and its completion on the
 * other. The ticket tests drain 1000 tickets from worker processes; this is the quick version
 * for the fault suite.
 */
const TICKETS = 200;
const WORKERS = 8;
const names = Array.from({ length: TICKETS }, (_, i) => `t${String(i).padStart(3, '0')}`);

let redis: TestRedis;
let a: TestBaton;
let b: TestBaton;

beforeAll(async () => {
  redis = await startRedis();
  const adminToken = `admin-${Math.random().toString(36).slice(2)}`;
  a = await startBaton({ redisUrl: redis.url, adminToken });
  b = await startBaton({ redisUrl: redis.url, adminToken, dataDir: a.dataDir, workspacesDir: a.workspacesDir });
});
afterAll(async () => {
  await b?.stop();
  await teardown(a, redis);
});

interface Claim {
  worker: number;
  name: string;
  token: number;
}

async function post(url: string, key: string, path: string, body: unknown): Promise<{ status: number; json: any; text: string }> {
  const res = await fetch(url + path, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : undefined, text };
}

describe('two replicas, one queue', () => {
  it(`${WORKERS} workers claim ${TICKETS} tickets through both replicas: no ticket claimed twice, none lost`, async () => {
    const admin = client(a.url, a.adminToken);
    const adminB = client(b.url, b.adminToken);
    let acknowledged = 0;
    for (let i = 0; i < TICKETS; i += 20) {
      await Promise.all(
        names.slice(i, i + 20).map(async (n, j) => {
          const r = await ((i + j) % 2 ? adminB : admin).put(`/demo/jobs/pending/${n}`, n, { 'content-type': 'text/plain' });
          if (r.status === 201) acknowledged++;
        }),
      );
    }
    const { key } = await createKey(a.url, a.adminToken, { agent: 'claimer', grants: ['claim:/demo/jobs/**', 'read:/demo/jobs/**'] });

    const claims: Claim[] = [];
    const completed: string[] = [];
    const unexpected: string[] = [];
    let fiveXX = 0;
    await Promise.all(
      Array.from({ length: WORKERS }, async (_, worker) => {
        const urls = worker % 2 ? [b.url, a.url] : [a.url, b.url];
        let turn = 0;
        const next = () => urls[turn++ % 2]!;
        for (let empties = 0; empties < 2; ) {
          const c = await post(next(), key, '/v1/tickets/claim', { queue: '/demo/jobs' });
          if (c.status >= 500) fiveXX++;
          if (c.status === 204) {
            empties++;
            continue;
          }
          if (c.status !== 200) {
            unexpected.push(`claim ${c.status} ${c.text}`);
            continue;
          }
          empties = 0;
          const name = String(c.json.path).split('/').at(-1)!;
          claims.push({ worker, name, token: c.json.fencingToken });
          const d = await post(next(), key, '/v1/tickets/complete', { path: c.json.path, fencingToken: c.json.fencingToken });
          if (d.status >= 500) fiveXX++;
          if (d.status === 200) completed.push(name);
          else unexpected.push(`complete ${c.json.path}: ${d.status} ${d.text}`);
        }
      }),
    );

    const claimedTimes = new Map<string, number>();
    for (const c of claims) claimedTimes.set(c.name, (claimedTimes.get(c.name) ?? 0) + 1);
    const doubleClaims = [...claimedTimes.values()].reduce((n, t) => n + (t - 1), 0);
    const done = readdirSync(join(a.dataDir, 'demo', 'jobs', 'done')).sort();
    const lost = names.filter((n) => !done.includes(n)).length;
    console.log(`replicas claim: acknowledged ${acknowledged}, claims ${claims.length}, completed ${completed.length}, lost ${lost}, double claims ${doubleClaims}, 5xx ${fiveXX}`);

    expect(acknowledged).toBe(TICKETS);
    expect(unexpected).toEqual([]);
    expect(fiveXX).toBe(0);
    expect(doubleClaims).toBe(0);
    expect(new Set(claims.map((c) => c.token)).size).toBe(claims.length);
    expect(lost).toBe(0);
    expect(done).toEqual(names);
    for (const n of names) expect(readFileSync(join(a.dataDir, 'demo', 'jobs', 'done', n), 'utf8')).toBe(n);
    expect(readdirSync(join(a.dataDir, 'demo', 'jobs', 'pending'))).toEqual([]);
    expect(readdirSync(join(a.dataDir, 'demo', 'jobs', 'in-progress'))).toEqual([]);
    // The event log of either replica tells the same: one claim per ticket.
    const claimedEvents = (await allEvents(adminB, '/demo/jobs/**')).filter((e) => e.event === 'ticket.claimed');
    expect(claimedEvents.length).toBe(TICKETS);
    expect(new Set(claimedEvents.map((e) => e.path)).size).toBe(TICKETS);
  });
});
