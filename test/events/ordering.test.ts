import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBaton, teardown, type TestBaton } from '../helpers/baton.js';
import { allEvents, openSse, type Ev } from '../helpers/events.js';
import { client, createKey } from '../helpers/http.js';
import { sleep } from '../helpers/receiver.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';

let redis: TestRedis;
let baton: TestBaton;
let writer: ReturnType<typeof client>;
let writerKey: string;
let draftsReader: ReturnType<typeof client>;

const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/;

beforeAll(async () => {
  redis = await startRedis();
  baton = await startBaton({ redisUrl: redis.url });
  writerKey = (await createKey(baton.url, baton.adminToken, { agent: 'writer', grants: ['read:/demo/**', 'write:/demo/**', 'delete:/demo/**'] })).key;
  writer = client(baton.url, writerKey);
  draftsReader = client(baton.url, (await createKey(baton.url, baton.adminToken, { agent: 'drafts-reader', grants: ['read:/demo/drafts/**'] })).key);
});
afterAll(() => teardown(baton, redis));

/** The cursor of "now": a read without `after` returns it. */
async function nowCursor(api = writer, glob = '/demo/**'): Promise<string> {
  const r = await api.call('GET', `/v1/events?path=${encodeURIComponent(glob)}`);
  expect(r.status, r.text).toBe(200);
  expect(typeof r.json.cursor).toBe('string');
  return r.json.cursor;
}

async function eventsAfter(cursor: string, glob: string, api = writer, limit = 1000): Promise<Ev[]> {
  const out: Ev[] = [];
  let after = cursor;
  for (let i = 0; i < 100; i++) {
    const r = await api.call('GET', `/v1/events?after=${encodeURIComponent(after)}&limit=${limit}&path=${encodeURIComponent(glob)}`);
    expect(r.status, r.text).toBe(200);
    if (r.json.events.length === 0) return out;
    out.push(...r.json.events);
    after = r.json.cursor;
  }
  return out;
}

function expectStrictlyIncreasingSeq(events: Ev[]): void {
  const byWs = new Map<string, number>();
  for (const e of events) {
    const prev = byWs.get(e.workspaceId) ?? 0;
    expect(e.seq, `seq after ${prev} in ${e.workspaceId}: ${JSON.stringify(e)}`).toBeGreaterThan(prev);
    byWs.set(e.workspaceId, e.seq);
  }
}

describe('event payload and order', () => {
  it('create, update, move and delete through the API give four events with the §4 fields and rising seq', async () => {
    const start = await nowCursor();
    const p = '/demo/inbox/ord/a.md';
    const c = await writer.put(p, '# hello', { 'content-type': 'text/markdown' });
    expect(c.status, c.text).toBe(201);
    const u = await writer.put(p, '# hello again', { 'content-type': 'text/markdown' });
    expect(u.status, u.text).toBe(200);
    const m = await writer.post('/v1/move', { from: p, to: '/demo/outbox/ord/a.md' });
    expect(m.status, m.text).toBe(200);
    const d = await writer.del('/demo/outbox/ord/a.md');
    expect([200, 204]).toContain(d.status);

    const events = await eventsAfter(start, '/demo/*/ord/**');
    expect(events.map((e) => e.event)).toEqual(['file.created', 'file.updated', 'file.moved', 'file.deleted']);
    expectStrictlyIncreasingSeq(events);
    for (const e of events) {
      expect(e.id).toMatch(/^evt_[A-Za-z0-9]+$/);
      expect(e.workspaceId).toBe('ws_demo');
      expect(e.actor).toBe('agent:writer');
      expect(e.time).toMatch(ISO);
      expect(Number.isInteger(e.seq)).toBe(true);
    }
    expect(new Set(events.map((e) => e.id)).size).toBe(4);
    const [ce, ue, me, de] = events;
    expect(ce).toMatchObject({ path: p, mimeType: 'text/markdown', size: 7, etag: c.json.etag, version: c.json.version });
    expect(c.json.version).toBe(1);
    expect(ue).toMatchObject({ path: p, mimeType: 'text/markdown', size: 13, etag: u.json.etag, version: 2 });
    expect(ue.etag).not.toBe(ce.etag);
    expect(me).toMatchObject({ path: '/demo/outbox/ord/a.md', from: p, size: 13, mimeType: 'text/markdown' });
    expect(typeof me.etag).toBe('string');
    expect(Number.isInteger(me.version)).toBe(true);
    expect(de).toMatchObject({ path: '/demo/outbox/ord/a.md' });
    expect(Date.parse(de.time)).toBeGreaterThanOrEqual(Date.parse(ce.time));
  });

  it('without `after` a read starts from now; `after=0` starts from the oldest retained event', async () => {
    const p = '/demo/inbox/now/first.txt';
    expect((await writer.put(p, 'one')).status).toBe(201);
    const fresh = await writer.call('GET', `/v1/events?path=${encodeURIComponent('/demo/inbox/now/**')}`);
    expect(fresh.status).toBe(200);
    expect(fresh.json.events).toEqual([]);
    // ... and that cursor sees only what comes later
    expect((await writer.put('/demo/inbox/now/second.txt', 'two')).status).toBe(201);
    const later = await eventsAfter(fresh.json.cursor, '/demo/inbox/now/**');
    expect(later.map((e) => e.path)).toEqual(['/demo/inbox/now/second.txt']);

    const oldest = await allEvents(writer, '/demo/inbox/now/**');
    expect(oldest.map((e) => e.path)).toEqual([p, '/demo/inbox/now/second.txt']);
    // the first event of the whole log is seq 1 of the workspace
    const r = await writer.call('GET', '/v1/events?after=0&limit=1');
    expect(r.json.events).toHaveLength(1);
    expect(r.json.events[0].seq).toBe(1);
  });

  it('a cursor this API did not return is bad_request', async () => {
    const r = await writer.call('GET', '/v1/events?after=not-a-cursor');
    expect(r.status).toBe(400);
    expect(r.json.error.code).toBe('bad_request');
    const w = await writer.call('GET', '/v1/events?wait=soon');
    expect(w.status).toBe(400);
  });

  it('cursor paging with a small limit returns every event once, in seq order', async () => {
    const start = await nowCursor();
    const paths = Array.from({ length: 7 }, (_, i) => `/demo/outbox/page/f${i}.txt`);
    for (const p of paths) expect((await writer.put(p, p)).status).toBe(201);
    const pages: number[] = [];
    const seen: Ev[] = [];
    let after = start;
    for (let i = 0; i < 10; i++) {
      const r = await writer.call('GET', `/v1/events?after=${encodeURIComponent(after)}&limit=3&path=${encodeURIComponent('/demo/outbox/page/**')}`);
      expect(r.status, r.text).toBe(200);
      expect(r.json.events.length).toBeLessThanOrEqual(3);
      pages.push(r.json.events.length);
      seen.push(...r.json.events);
      if (r.json.events.length === 0) break;
      after = r.json.cursor;
    }
    expect(seen.map((e) => e.path)).toEqual(paths);
    expect(pages.slice(0, 3)).toEqual([3, 3, 1]);
    expectStrictlyIncreasingSeq(seen);
  });

  it('path= filters by glob (a move matches by its source or destination)', async () => {
    const start = await nowCursor(writer, '/**');
    await writer.put('/demo/drafts/filt/a.md', 'a');
    await writer.put('/demo/inbox/filt/b.md', 'b');
    await writer.put('/demo/drafts/filt/c.txt', 'c');
    expect((await writer.post('/v1/move', { from: '/demo/inbox/filt/b.md', to: '/demo/drafts/filt/b.md' })).status).toBe(200);
    expect((await writer.post('/v1/move', { from: '/demo/drafts/filt/c.txt', to: '/demo/outbox/filt/c.txt' })).status).toBe(200);
    const md = await eventsAfter(start, '/demo/drafts/**/*.md');
    expect(md.map((e) => [e.event, e.path])).toEqual([
      ['file.created', '/demo/drafts/filt/a.md'],
      ['file.moved', '/demo/drafts/filt/b.md'],
    ]);
    const drafts = await eventsAfter(start, '/demo/drafts/**');
    expect(drafts.map((e) => [e.event, e.path, e.from])).toEqual([
      ['file.created', '/demo/drafts/filt/a.md', undefined],
      ['file.created', '/demo/drafts/filt/c.txt', undefined],
      ['file.moved', '/demo/drafts/filt/b.md', '/demo/inbox/filt/b.md'],
      ['file.moved', '/demo/outbox/filt/c.txt', '/demo/drafts/filt/c.txt'],
    ]);
    const all = await eventsAfter(start, '/**');
    expect(all.map((e) => e.path)).toEqual([
      '/demo/drafts/filt/a.md',
      '/demo/inbox/filt/b.md',
      '/demo/drafts/filt/c.txt',
      '/demo/drafts/filt/b.md',
      '/demo/outbox/filt/c.txt',
    ]);
  });

  it('a key that reads only /demo/drafts/** sees only drafts events', async () => {
    await writer.put('/demo/inbox/scoped/x.txt', 'x');
    await writer.put('/demo/drafts/scoped/y.txt', 'y');
    const seen = await allEvents(draftsReader);
    expect(seen.length).toBeGreaterThan(0);
    for (const e of seen) expect(e.path.startsWith('/demo/drafts/'), `event outside the key's reach: ${JSON.stringify(e)}`).toBe(true);
    expect(seen.map((e) => e.path)).toContain('/demo/drafts/scoped/y.txt');
    // the same holds for a long-poll: an inbox write does not wake it with an inbox event
    const from = await nowCursor(draftsReader, '/**');
    const poll = draftsReader.call('GET', `/v1/events?after=${encodeURIComponent(from)}&wait=5`);
    await sleep(300);
    await writer.put('/demo/inbox/scoped/x2.txt', 'x2');
    await writer.put('/demo/drafts/scoped/y2.txt', 'y2');
    const r = await poll;
    expect(r.status).toBe(200);
    expect(r.json.events.map((e: Ev) => e.path)).toEqual(['/demo/drafts/scoped/y2.txt']);
  });
});

describe('long-poll', () => {
  it('wait=5 returns as soon as another client writes', async () => {
    const t0 = Date.now();
    const poll = writer.call('GET', `/v1/events?path=${encodeURIComponent('/demo/inbox/lp/**')}&wait=5`);
    await sleep(400);
    const other = client(baton.url, baton.adminToken);
    const tw = Date.now();
    expect((await other.put('/demo/inbox/lp/wake.txt', 'wake')).status).toBe(201);
    const r = await poll;
    const took = Date.now() - t0;
    expect(r.status).toBe(200);
    expect(r.json.events.map((e: Ev) => e.path)).toEqual(['/demo/inbox/lp/wake.txt']);
    expect(r.json.events[0].actor).toBe('admin');
    expect(took, `long-poll took ${took} ms`).toBeLessThan(3000);
    expect(Date.now() - tw, 'from the write to the answer').toBeLessThan(2000);
  });

  it('with nothing to report, wait=1 returns an empty page after about a second with a usable cursor', async () => {
    const t0 = Date.now();
    const r = await writer.call('GET', `/v1/events?path=${encodeURIComponent('/demo/inbox/quiet/**')}&wait=1`);
    const took = Date.now() - t0;
    expect(r.status).toBe(200);
    expect(r.json.events).toEqual([]);
    expect(took).toBeGreaterThanOrEqual(900);
    expect(took).toBeLessThan(4000);
    await writer.put('/demo/inbox/quiet/now.txt', 'q');
    const next = await writer.call('GET', `/v1/events?after=${encodeURIComponent(r.json.cursor)}&path=${encodeURIComponent('/demo/inbox/quiet/**')}`);
    expect(next.json.events.map((e: Ev) => e.path)).toEqual(['/demo/inbox/quiet/now.txt']);
  });
});

describe('Server-Sent Events', () => {
  it('delivers events live and resumes with Last-Event-ID without loss or repeats', async () => {
    const url = `${baton.url}/v1/events/stream?path=${encodeURIComponent('/demo/events/sse/**')}`;
    const s1 = await openSse(url, writerKey);
    expect(s1.status).toBe(200);
    const ready = await s1.next();
    expect(ready.id).toBeTruthy();
    const names = Array.from({ length: 9 }, (_, i) => `/demo/events/sse/e${i}.txt`);
    for (const p of names.slice(0, 3)) expect((await writer.put(p, p)).status).toBe(201);
    const got: Ev[] = [];
    let lastId = ready.id!;
    for (let i = 0; i < 3; i++) {
      const f = await s1.next();
      expect(f.event).toBe('file.created');
      expect(f.id).toBeTruthy();
      got.push(JSON.parse(f.data));
      lastId = f.id!;
    }
    await s1.close();
    expect(got.map((e) => e.path)).toEqual(names.slice(0, 3));

    // written while nobody listens
    for (const p of names.slice(3, 6)) expect((await writer.put(p, p)).status).toBe(201);
    const s2 = await openSse(url, writerKey, { 'last-event-id': lastId });
    const resumed: Ev[] = [];
    for (let i = 0; i < 3; i++) {
      const f = await s2.next();
      if (f.event === 'ready') {
        i--;
        continue;
      }
      resumed.push(JSON.parse(f.data));
    }
    // and live again
    for (const p of names.slice(6)) expect((await writer.put(p, p)).status).toBe(201);
    for (let i = 0; i < 3; i++) resumed.push(JSON.parse((await s2.next()).data));
    await sleep(300);
    const extra = s2.frames.filter((f) => f.event.startsWith('file.')).length;
    await s2.close();
    const all = [...got, ...resumed];
    expect(all.map((e) => e.path)).toEqual(names);
    expect(new Set(all.map((e) => e.id)).size).toBe(9);
    expect(extra, 'frames beyond the expected six after resuming').toBe(6);
    expectStrictlyIncreasingSeq(all);
  });

  it('an SSE stream for the drafts-only key carries only drafts events', async () => {
    const key = (await createKey(baton.url, baton.adminToken, { agent: 'drafts-sse', grants: ['read:/demo/drafts/**'] })).key;
    const s = await openSse(`${baton.url}/v1/events/stream`, key);
    expect(s.status).toBe(200);
    const ready = await s.next();
    expect(ready.event).toBe('ready');
    await writer.put('/demo/inbox/sse-scope/hidden.txt', 'h');
    await writer.put('/demo/drafts/sse-scope/shown.txt', 's');
    const f = await s.next();
    await s.close();
    expect(JSON.parse(f.data).path).toBe('/demo/drafts/sse-scope/shown.txt');
  });
});

describe('two processes writing one workspace', () => {
  it('seq stays strictly increasing and paging with limit=7 neither loses nor repeats an event', async () => {
    const second = await startBaton({ redisUrl: redis.url, dataDir: baton.dataDir, workspacesDir: baton.workspacesDir });
    try {
      const start = await nowCursor();
      const a = client(baton.url, writerKey);
      const b = client(second.url, writerKey);
      const paths = Array.from({ length: 240 }, (_, i) => `/demo/outbox/two/f${String(i).padStart(3, '0')}.txt`);
      const acked: string[] = [];
      let next = 0;
      await Promise.all(
        Array.from({ length: 16 }, async (_, w) => {
          for (;;) {
            const i = next++;
            if (i >= paths.length) return;
            const r = await (w % 2 ? a : b).put(paths[i]!, `body ${i}`);
            expect(r.status, r.text).toBe(201);
            acked.push(paths[i]!);
          }
        }),
      );
      const seen = await eventsAfter(start, '/demo/outbox/two/**', writer, 7);
      expect(seen.length).toBe(240);
      expect(new Set(seen.map((e) => e.path)).size).toBe(240);
      expect(new Set(seen.map((e) => e.id)).size).toBe(240);
      expectStrictlyIncreasingSeq(seen);
      expect([...seen.map((e) => e.path)].sort()).toEqual([...acked].sort());
    } finally {
      await second.stop();
    }
  });
});
