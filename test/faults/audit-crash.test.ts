import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBaton, teardown, type TestBaton } from '../helpers/baton.js';
import { allEvents } from '../helpers/events.js';
import { client } from '../helpers/http.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';

let redis: TestRedis;
let baton: TestBaton;

beforeAll(async () => {
  redis = await startRedis();
  baton = await startBaton({ redisUrl: redis.url });
});
afterAll(() => teardown(baton, redis));

const restart = async () => {
  baton = await startBaton({ redisUrl: redis.url, dataDir: baton.dataDir, workspacesDir: baton.workspacesDir, adminToken: baton.adminToken });
};

describe('a crash never reads as tampering', () => {
  it('SIGKILL during 32 concurrent writers: every acknowledged write is there, and verify is ok after the restart', async () => {
    const api = client(baton.url, baton.adminToken);
    const acknowledged: string[] = [];
    let fiveXX = 0;
    let stop = false;
    const writers = Array.from({ length: 32 }, async (_, w) => {
      for (let i = 0; !stop; i++) {
        const path = `/demo/inbox/crash-${w}-${i}.txt`;
        const r = await api.put(path, `w${w} i${i}`).catch(() => null);
        if (r?.status === 201) acknowledged.push(path);
        else {
          if (r && r.status >= 500) fiveXX++;
          return;
        }
      }
    });
    await new Promise((r) => setTimeout(r, 1500));
    await baton.kill();
    stop = true;
    await Promise.all(writers);
    expect(acknowledged.length).toBeGreaterThan(0);

    await restart();
    const after = client(baton.url, baton.adminToken);
    let lost = 0;
    for (const path of acknowledged) if ((await after.get(path)).status !== 200) lost++;
    // Each acknowledged write's event was in Redis before the answer went out.
    const events = new Set((await allEvents(after, '/demo/inbox/crash-*')).filter((e) => e.event === 'file.created').map((e) => e.path as string));
    const lostEvents = acknowledged.filter((p) => !events.has(p)).length;
    const verify = await after.call('GET', '/v1/audit/verify');
    console.log(`Baton SIGKILL: acknowledged ${acknowledged.length}, lost ${lost}, events lost ${lostEvents}, 5xx ${fiveXX}, audit verify ok ${verify.json.ok}, unwritten numbers ${verify.json.unwritten?.length ?? 0}`);
    expect(lost).toBe(0);
    expect(lostEvents).toBe(0);
    expect(verify.status).toBe(200);
    expect(verify.json.ok, JSON.stringify(verify.json)).toBe(true);
  });

  it('numbers a process reserved and never wrote are reported as unwritten, not removed; later entries still verify', async () => {
    // The state a process leaves when it dies between numbering a batch and writing it: the
    // reservation (made by the same script Baton runs) names its segment, and no line has it.
    const r = new Redis(redis.url);
    const last = await r.incrby('baton:audit:seq', 3);
    await r.hset('baton:audit:reserved', '20261204T000000000Z-999999-dead00', `${last - 2}:${last}`);
    r.disconnect();

    const api = client(baton.url, baton.adminToken);
    expect((await api.put('/demo/inbox/after-gap.txt', 'after')).status).toBe(201);
    const verify = await api.call('GET', '/v1/audit/verify');
    expect(verify.json, JSON.stringify(verify.json)).toMatchObject({ ok: true, unwritten: expect.arrayContaining([last - 2, last - 1, last]) });
  });

  it('audit numbers are reserved by script SHA: EVAL calls do not grow with the requests', async () => {
    const r = new Redis(redis.url);
    const evals = async () => Number(/cmdstat_eval:calls=(\d+)/.exec(await r.info('commandstats'))?.[1] ?? 0);
    const api = client(baton.url, baton.adminToken);
    expect((await api.put('/demo/inbox/sha-warm.txt', 'warm')).status).toBe(201); // every script loaded
    const before = await evals();
    for (let i = 0; i < 20; i++) expect((await api.put(`/demo/inbox/sha-${i}.txt`, 'x')).status).toBe(201);
    const after = await evals();
    r.disconnect();
    expect(after - before).toBe(0);
  });

  it('a gap no process reserved is still named as a removal', async () => {
    const r = new Redis(redis.url);
    const last = await r.incrby('baton:audit:seq', 1); // taken, but recorded for no segment
    r.disconnect();
    const api = client(baton.url, baton.adminToken);
    expect((await api.put('/demo/inbox/after-removal.txt', 'after')).status).toBe(201);
    const verify = await api.call('GET', '/v1/audit/verify');
    expect(verify.json, JSON.stringify(verify.json)).toMatchObject({ ok: false, firstBad: { seq: last } });
    expect(verify.json.reason).toMatch(/removed/);
  });
});
