import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBaton, teardown, type TestBaton } from '../helpers/baton.js';
import { client } from '../helpers/http.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';

let redis: TestRedis;
let baton: TestBaton;
let api: ReturnType<typeof client>;

beforeAll(async () => {
  redis = await startRedis();
  baton = await startBaton({ redisUrl: redis.url });
  api = client(baton.url, baton.adminToken);
});
afterAll(() => teardown(baton, redis));

// Who wins a race (moves, create-only and compare-and-swap writes) is in the storage contract,
// for every driver; here only how the losers of one race are answered over HTTP.
describe('racing moves', () => {
  it('5 concurrent moves of one file: one 200 naming its destination, the losers 404 not_found or 409 conflict', async () => {
    const src = '/demo/tasks/pending/race.txt';
    expect((await api.put(src, 'the one and only')).status).toBe(201);
    const dests = [0, 1, 2, 3, 4].map((i) => `/demo/tasks/in-progress/race-${i}.txt`);
    const replies = await Promise.all(dests.map((to) => api.post('/v1/move', { from: src, to })));
    expect(replies.filter((r) => r.status === 200), replies.map((r) => r.status).join(',')).toHaveLength(1);
    const winner = replies.findIndex((r) => r.status === 200);
    expect(replies[winner]!.json.path).toBe(dests[winner]);
    for (const r of replies) {
      if (r.status === 200) continue;
      expect([404, 409], r.text).toContain(r.status);
      expect(r.json?.error?.code).toBe(r.status === 404 ? 'not_found' : 'conflict');
    }
  });
});

describe('atomic overwrite', () => {
  it('readers never see a torn body while a writer alternates two 256 KiB bodies', async () => {
    const SIZE = 256 * 1024;
    const A = Buffer.alloc(SIZE, 'a');
    const B = Buffer.alloc(SIZE, 'b');
    const path = '/demo/outbox/flip.bin';
    const first = await api.put(path, A, { 'content-type': 'application/octet-stream' });
    expect(first.status).toBe(201);
    const etagToByte = new Map<string, number>([[first.json.etag, 0x61]]);

    const until = Date.now() + 2000;
    let writes = 0;
    const writer = (async () => {
      let flip = true;
      while (Date.now() < until) {
        const body = flip ? B : A;
        const r = await api.put(path, body, { 'content-type': 'application/octet-stream' });
        expect(r.status).toBe(200);
        etagToByte.set(r.json.etag, body[0]!);
        flip = !flip;
        writes++;
      }
    })();

    const observations: Array<{ etag: string | null; length: string | null; byte: number; torn: boolean; size: number }> = [];
    const reader = async () => {
      while (Date.now() < until) {
        const res = await fetch(`${baton.url}/v1/files${path}`, { headers: { authorization: `Bearer ${baton.adminToken}` } });
        expect(res.status).toBe(200);
        const buf = Buffer.from(await res.arrayBuffer());
        const byte = buf[0] ?? -1;
        const torn = buf.some((x) => x !== byte);
        observations.push({ etag: res.headers.get('etag'), length: res.headers.get('content-length'), byte, torn, size: buf.length });
      }
    };
    await Promise.all([writer, reader(), reader(), reader(), reader()]);

    expect(writes).toBeGreaterThan(5);
    expect(observations.length).toBeGreaterThan(20);
    const torn = observations.filter((o) => o.torn || o.size !== SIZE || (o.byte !== 0x61 && o.byte !== 0x62));
    expect(torn.length, `torn reads: ${JSON.stringify(torn.slice(0, 3))}`).toBe(0);
    for (const o of observations) {
      expect(o.length).toBe(String(SIZE));
      expect(o.etag).toMatch(/^"[^"]+"$/);
      const bare = o.etag!.slice(1, -1);
      expect(etagToByte.has(bare), `ETag ${o.etag} is not one a write returned`).toBe(true);
      expect(etagToByte.get(bare), `ETag ${o.etag} does not describe the bytes sent with it`).toBe(o.byte);
    }
    // both bodies were actually observed, so the test exercised the overwrite
    expect(new Set(observations.map((o) => o.byte)).size).toBe(2);
  });
});
