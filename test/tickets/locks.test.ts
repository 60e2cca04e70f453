import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBaton, teardown, type TestBaton } from '../helpers/baton.js';
import { client, createKey } from '../helpers/http.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';

let redis: TestRedis;
let baton: TestBaton;
let admin: ReturnType<typeof client>;
let keys: string[] = [];

const onDisk = (p: string) => join(baton.dataDir, p.replace(/^\//, ''));

let r: Redis;

/**
 * What a process that crashed inside a write leaves behind: its Redis lock on a path
 * (src/storage/redis-path-locks.ts), no longer renewed, here with 1.5 s of its 5 s left.
 */
async function staleLock(rel: string): Promise<string> {
  const key = `baton:pathlock:demo:${createHash('sha256').update(rel).digest('hex')}`;
  await r.set(key, 'crashed-holder', 'PX', 1_500);
  return key;
}

beforeAll(async () => {
  redis = await startRedis();
  r = new Redis(redis.url);
  baton = await startBaton({ redisUrl: redis.url });
  admin = client(baton.url, baton.adminToken);
  for (let i = 0; i < 8; i++) {
    keys.push((await createKey(baton.url, baton.adminToken, { agent: `claimant-${i}`, grants: ['claim:/demo/**', 'read:/demo/**'] })).key);
  }
});
afterAll(async () => {
  r.disconnect();
  await teardown(baton, redis);
});

describe('stale path locks of a crashed process', () => {
  it('a claim still succeeds promptly, and of 8 concurrent claimants exactly one gets the ticket', async () => {
    const q = '/demo/locked';
    expect((await admin.put(`${q}/pending/t1.md`, 'the ticket')).status).toBe(201);
    const locks = [await staleLock('locked/pending/t1.md'), await staleLock('locked/in-progress/t1.md')];
    for (const l of locks) expect(await r.exists(l)).toBe(1);

    const started = Date.now();
    const replies = await Promise.all(keys.map((k) => client(baton.url, k).post('/v1/tickets/claim', { queue: q })));
    const took = Date.now() - started;
    const won = replies.filter((r) => r.status === 200);
    expect(won.length, replies.map((r) => `${r.status} ${r.text}`).join('\n')).toBe(1);
    for (const r of replies) if (r.status !== 200) expect(r.status, r.text).toBe(204);
    expect(won[0]!.json).toMatchObject({ path: `${q}/in-progress/t1.md`, content: 'the ticket', attempt: 1 });
    expect(took).toBeLessThan(10_000);
    console.log(`8 claims past stale locks took ${took} ms`);

    // the stale locks were taken over (and released): nothing of the crashed process remains
    for (const l of locks) expect(await r.exists(l), l).toBe(0);
    expect(readdirSync(onDisk(`${q}/pending`))).toEqual([]);
    expect(readdirSync(onDisk(`${q}/in-progress`))).toEqual(['t1.md']);
    expect(readFileSync(onDisk(`${q}/in-progress/t1.md`), 'utf8')).toBe('the ticket');
    // the winner can finish it, past the stale lock of its done/ destination too
    await staleLock('locked/done/t1.md');
    const done = await client(baton.url, keys[replies.indexOf(won[0]!)]!).post('/v1/tickets/complete', { path: won[0]!.json.path, fencingToken: won[0]!.json.fencingToken });
    expect(done.status, done.text).toBe(200);
    expect(readdirSync(onDisk(`${q}/done`))).toEqual(['t1.md']);
  });

  it('50 concurrent plain moves of one ticket from pending/ to in-progress/, past stale locks: exactly one 200', async () => {
    const from = '/demo/tasks/pending/race.md';
    const to = '/demo/tasks/in-progress/race.md';
    expect((await admin.put(from, 'race')).status).toBe(201);
    await staleLock('tasks/pending/race.md');
    await staleLock('tasks/in-progress/race.md');
    const started = Date.now();
    const replies = await Promise.all(Array.from({ length: 50 }, () => admin.post('/v1/move', { from, to })));
    const took = Date.now() - started;
    const tally: Record<number, number> = {};
    for (const r of replies) tally[r.status] = (tally[r.status] ?? 0) + 1;
    expect(tally[200], JSON.stringify(tally)).toBe(1);
    for (const r of replies) {
      if (r.status === 200) continue;
      expect([404, 409], r.text).toContain(r.status);
      expect(['not_found', 'conflict']).toContain(r.json?.error?.code);
    }
    expect(took).toBeLessThan(10_000);
    expect(existsSync(onDisk(from))).toBe(false);
    expect(readFileSync(onDisk(to), 'utf8')).toBe('race');
  });
});
