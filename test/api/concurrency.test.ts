import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBaton, teardown, type TestBaton } from '../helpers/baton.js';
import { client } from '../helpers/http.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';

let redis: TestRedis;
let baton: TestBaton;
let api: ReturnType<typeof client>;

const onDisk = (p: string) => join(baton.dataDir, p.replace(/^\//, ''));

beforeAll(async () => {
  redis = await startRedis();
  baton = await startBaton({ redisUrl: redis.url });
  api = client(baton.url, baton.adminToken);
});
afterAll(() => teardown(baton, redis));

function tally(statuses: number[]) {
  const t: Record<number, number> = {};
  for (const s of statuses) t[s] = (t[s] ?? 0) + 1;
  return t;
}

describe('racing moves', () => {
  it('50 concurrent moves of one file to 50 destinations: exactly one wins, the file exists once', async () => {
    // a few rounds: the losers' timing differs each time, and every round must hold
    for (let round = 0; round < 3; round++) {
      const src = `/demo/tasks/pending/race-${round}.txt`;
      const body = `the one and only, round ${round}`;
      expect((await api.put(src, body)).status).toBe(201);
      const dests = Array.from({ length: 50 }, (_, i) => `/demo/tasks/in-progress/race-${round}-${i}.txt`);
      const replies = await Promise.all(dests.map((to) => api.post('/v1/move', { from: src, to })));
      const t = tally(replies.map((r) => r.status));
      expect(t[200], `round ${round}: ${JSON.stringify(t)}`).toBe(1);
      for (const r of replies) {
        if (r.status === 200) continue;
        expect([404, 409], `round ${round}: ${r.text}`).toContain(r.status);
        expect(['not_found', 'conflict']).toContain(r.json?.error?.code);
      }
      const winner = replies.findIndex((r) => r.status === 200);
      expect(replies[winner]!.json.path).toBe(dests[winner]);
      const present = dests.filter((d) => existsSync(onDisk(d)));
      expect(present).toEqual([dests[winner]]);
      expect(readFileSync(onDisk(dests[winner]!), 'utf8')).toBe(body);
      expect(existsSync(onDisk(src))).toBe(false);
      expect((await api.get(dests[winner]!)).text).toBe(body);
      // and the API agrees: the in-progress folder holds exactly one of them
      const l = await api.list('/demo/tasks/in-progress');
      expect((l.json.entries as any[]).filter((e) => e.path.includes(`/race-${round}-`)).map((e) => e.path)).toEqual([dests[winner]]);
    }
  });

  it('50 concurrent moves of 50 files to one destination: exactly one wins, the others stay put', async () => {
    const srcs = Array.from({ length: 50 }, (_, i) => `/demo/events/src-${i}.txt`);
    for (const [i, s] of srcs.entries()) expect((await api.put(s, `source ${i}`)).status).toBe(201);
    const to = '/demo/outbox/one-destination.txt';
    const replies = await Promise.all(srcs.map((from) => api.post('/v1/move', { from, to })));
    const t = tally(replies.map((r) => r.status));
    expect(t[200], JSON.stringify(t)).toBe(1);
    for (const r of replies) {
      if (r.status === 200) continue;
      expect([404, 409], r.text).toContain(r.status);
      expect(['not_found', 'conflict']).toContain(r.json?.error?.code);
    }
    const winner = replies.findIndex((r) => r.status === 200);
    expect(readFileSync(onDisk(to), 'utf8')).toBe(`source ${winner}`);
    for (const [i, s] of srcs.entries()) {
      expect(existsSync(onDisk(s)), s).toBe(i !== winner);
      if (i !== winner) expect(readFileSync(onDisk(s), 'utf8')).toBe(`source ${i}`);
    }
  });

  it('concurrent moves in both directions between two paths never lose a file', async () => {
    await api.put('/demo/drafts/ping.txt', 'ping');
    await api.put('/demo/drafts/pong.txt', 'pong');
    const replies = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        i % 2 === 0
          ? api.post('/v1/move', { from: '/demo/drafts/ping.txt', to: '/demo/drafts/pong.txt' })
          : api.post('/v1/move', { from: '/demo/drafts/pong.txt', to: '/demo/drafts/ping.txt' }),
      ),
    );
    for (const r of replies) expect([200, 404, 409], r.text).toContain(r.status);
    // overwrite is false, so with both present no move can succeed: both files survive unchanged
    expect(readFileSync(onDisk('/demo/drafts/ping.txt'), 'utf8')).toBe('ping');
    expect(readFileSync(onDisk('/demo/drafts/pong.txt'), 'utf8')).toBe('pong');
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

describe('conditional creates and compare-and-swap under contention', () => {
  it('concurrent If-None-Match: * creates of one path: exactly one 201', async () => {
    const path = '/demo/inbox/created-once.txt';
    const replies = await Promise.all(Array.from({ length: 30 }, (_, i) => api.put(path, `creator ${i}`, { 'if-none-match': '*' })));
    const t = tally(replies.map((r) => r.status));
    expect(t[201], JSON.stringify(t)).toBe(1);
    expect(t[412], JSON.stringify(t)).toBe(29);
    for (const r of replies) if (r.status === 412) expect(r.json.error.code).toBe('precondition_failed');
    const winner = replies.findIndex((r) => r.status === 201);
    expect(readFileSync(onDisk(path), 'utf8')).toBe(`creator ${winner}`);
    const vs = await api.call('GET', `/v1/versions${path}`);
    expect(vs.json.versions.length).toBe(1);
  });

  it('concurrent If-Match updates from the same etag: exactly one 200', async () => {
    const path = '/demo/inbox/cas-race.txt';
    const base = await api.put(path, 'base');
    const replies = await Promise.all(Array.from({ length: 30 }, (_, i) => api.put(path, `updater ${i}`, { 'if-match': `"${base.json.etag}"` })));
    const t = tally(replies.map((r) => r.status));
    expect(t[200], JSON.stringify(t)).toBe(1);
    expect(t[412], JSON.stringify(t)).toBe(29);
    const winner = replies.findIndex((r) => r.status === 200);
    expect(readFileSync(onDisk(path), 'utf8')).toBe(`updater ${winner}`);
    const vs = await api.call('GET', `/v1/versions${path}`);
    expect(vs.json.versions.map((v: any) => v.version)).toEqual([2, 1]);
  });
});
