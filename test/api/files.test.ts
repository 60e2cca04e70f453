import { mkdirSync, readFileSync, renameSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBaton, teardown, type TestBaton } from '../helpers/baton.js';
import { client, createKey } from '../helpers/http.js';
import { poll, rawRequest, sleep } from '../helpers/raw.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';

let redis: TestRedis;
let baton: TestBaton;
let api: ReturnType<typeof client>;

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

beforeAll(async () => {
  redis = await startRedis();
  baton = await startBaton({ redisUrl: redis.url });
  api = client(baton.url, baton.adminToken);
});
afterAll(() => teardown(baton, redis));

/** Run `fn` over `items` with at most `n` in flight. */
async function pool<T, R>(items: T[], n: number, fn: (t: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let i = 0;
  await Promise.all(
    Array.from({ length: n }, async () => {
      while (i < items.length) {
        const k = i++;
        out[k] = await fn(items[k]!);
      }
    }),
  );
  return out;
}

function expectError(r: { status: number; json: any }, status: number, code: string) {
  expect(r.status, JSON.stringify(r.json)).toBe(status);
  expect(r.json?.error?.code).toBe(code);
  expect(typeof r.json?.error?.message).toBe('string');
}

describe('PUT /v1/files', () => {
  it('creates with 201, updates with 200, and returns {path,size,etag,version,mimeType}', async () => {
    const c = await api.put('/demo/inbox/put-basic.txt', 'hello', { 'content-type': 'text/plain' });
    expect(c.status).toBe(201);
    for (const k of ['path', 'size', 'etag', 'version', 'mimeType']) expect(c.json).toHaveProperty(k);
    expect(c.json).toMatchObject({ path: '/demo/inbox/put-basic.txt', size: 5, version: 1, mimeType: 'text/plain' });
    expect(typeof c.json.etag).toBe('string');
    expect(c.json.etag).not.toMatch(/^"|"$/); // the JSON etag is the bare value
    expect(readFileSync(join(baton.dataDir, 'demo/inbox/put-basic.txt'), 'utf8')).toBe('hello');

    const u = await api.put('/demo/inbox/put-basic.txt', 'hello, world', { 'content-type': 'text/plain' });
    expect(u.status).toBe(200);
    expect(u.json).toMatchObject({ path: '/demo/inbox/put-basic.txt', size: 12, version: 2, mimeType: 'text/plain' });
    expect(u.json.etag).not.toBe(c.json.etag);
    expect(readFileSync(join(baton.dataDir, 'demo/inbox/put-basic.txt'), 'utf8')).toBe('hello, world');
  });

  it('keeps the Content-Type exactly as sent', async () => {
    const ct = 'application/vnd.baton.test+json; charset=utf-8';
    const r = await api.put('/demo/inbox/kept.bin', '{}', { 'content-type': ct });
    expect(r.status).toBe(201);
    expect(r.json.mimeType).toBe(ct);
    const g = await api.get('/demo/inbox/kept.bin');
    expect(g.headers.get('content-type')).toBe(ct);
    const h = await api.head('/demo/inbox/kept.bin');
    expect(h.headers.get('content-type')).toBe(ct);
  });

  it('guesses the mimeType from the extension when no Content-Type is sent', async () => {
    const cases: Array<[string, string]> = [
      ['/demo/inbox/guess.md', 'text/markdown'],
      ['/demo/inbox/guess.json', 'application/json'],
      ['/demo/inbox/guess.png', 'image/png'],
      ['/demo/inbox/guess.html', 'text/html'],
      ['/demo/inbox/guess.unknownext', 'application/octet-stream'],
    ];
    for (const [p, mime] of cases) {
      // raw request: fetch would add a Content-Type of its own for a string body
      const r = await rawRequest(baton.url, `/v1/files${p}`, { method: 'PUT', token: baton.adminToken, body: 'x' });
      expect(r.status, p).toBe(201);
      expect(r.json.mimeType, p).toBe(mime);
      const g = await api.get(p);
      expect(g.headers.get('content-type')?.split(';')[0], p).toBe(mime);
    }
  });

  it('stores binary bytes exactly and an empty body as an empty file', async () => {
    const bytes = new Uint8Array(256 * 4);
    for (let i = 0; i < bytes.length; i++) bytes[i] = i % 256;
    const r = await api.put('/demo/inbox/all-bytes.bin', bytes, { 'content-type': 'application/octet-stream' });
    expect(r.status).toBe(201);
    expect(r.json.size).toBe(1024);
    const res = await fetch(`${baton.url}/v1/files/demo/inbox/all-bytes.bin`, { headers: { authorization: `Bearer ${baton.adminToken}` } });
    expect(Buffer.from(await res.arrayBuffer()).equals(Buffer.from(bytes))).toBe(true);

    const e = await api.put('/demo/inbox/empty.txt', new Uint8Array(0));
    expect(e.status).toBe(201);
    expect(e.json.size).toBe(0);
    const g = await api.get('/demo/inbox/empty.txt');
    expect(g.status).toBe(200);
    expect(g.text).toBe('');

    // Small files are read in one call, larger ones streamed: both come back byte for byte.
    for (const size of [64 * 1024, 64 * 1024 + 1, 300 * 1024]) {
      const big = Buffer.alloc(size);
      for (let i = 0; i < size; i++) big[i] = (i * 31 + (i >> 8)) % 256;
      expect((await api.put(`/demo/inbox/sized-${size}.bin`, big, { 'content-type': 'application/octet-stream' })).status).toBe(201);
      const back = await fetch(`${baton.url}/v1/files/demo/inbox/sized-${size}.bin`, { headers: { authorization: `Bearer ${baton.adminToken}` } });
      expect(back.status).toBe(200);
      expect(Buffer.from(await back.arrayBuffer()).equals(big), `size ${size}`).toBe(true);
    }
  });

  it('creates missing parent folders', async () => {
    const r = await api.put('/demo/inbox/new/deeper/leaf.txt', 'leaf');
    expect(r.status).toBe(201);
    expect(readFileSync(join(baton.dataDir, 'demo/inbox/new/deeper/leaf.txt'), 'utf8')).toBe('leaf');
  });
});

describe('GET / HEAD / DELETE /v1/files', () => {
  it('GET returns the bytes with a quoted ETag, Content-Type and Content-Length', async () => {
    const p = await api.put('/demo/outbox/get.md', '# title\nbody\n', { 'content-type': 'text/markdown' });
    const g = await api.get('/demo/outbox/get.md');
    expect(g.status).toBe(200);
    expect(g.text).toBe('# title\nbody\n');
    expect(g.headers.get('etag')).toBe(`"${p.json.etag}"`);
    expect(g.headers.get('content-type')).toBe('text/markdown');
    expect(g.headers.get('content-length')).toBe('13');
  });

  it('GET ?version=N answers with that version\'s ETag; an unknown version is 404, a malformed one 400', async () => {
    const v1 = await api.put('/demo/outbox/versioned.txt', 'one', { 'content-type': 'text/plain' });
    await api.put('/demo/outbox/versioned.txt', 'two!', { 'content-type': 'text/plain' });
    const old = await api.get(`/demo/outbox/versioned.txt?version=${v1.json.version}`);
    expect(old.status).toBe(200);
    expect(old.headers.get('etag')).toBe(`"${v1.json.etag}"`);
    expectError(await api.get('/demo/outbox/versioned.txt?version=99'), 404, 'not_found');
    expectError(await api.get('/demo/outbox/versioned.txt?version=abc'), 400, 'bad_request');
  });

  it('GET of a missing file is not_found', async () => {
    expectError(await api.get('/demo/outbox/nope.txt'), 404, 'not_found');
  });

  it('HEAD returns the metadata headers and no body', async () => {
    const p = await api.put('/demo/outbox/head.txt', '12345', { 'content-type': 'text/plain' });
    const h = await api.head('/demo/outbox/head.txt');
    expect(h.status).toBe(200);
    expect(h.text).toBe('');
    expect(h.headers.get('etag')).toBe(`"${p.json.etag}"`);
    expect(h.headers.get('content-length')).toBe('5');
    expect(h.headers.get('content-type')).toBe('text/plain');
    expect((await api.head('/demo/outbox/head-missing.txt')).status).toBe(404);
  });

  it('DELETE is 200, then GET, HEAD and DELETE are 404; a restore answers with the ETag GET then shows', async () => {
    const v1 = await api.put('/demo/outbox/del.txt', 'first', { 'content-type': 'text/plain' });
    await api.put('/demo/outbox/del.txt', 'second', { 'content-type': 'text/plain' });
    expect((await api.del('/demo/outbox/del.txt')).status).toBe(200);
    expectError(await api.get('/demo/outbox/del.txt'), 404, 'not_found');
    expect((await api.head('/demo/outbox/del.txt')).status).toBe(404);
    expectError(await api.del('/demo/outbox/del.txt'), 404, 'not_found');
    expect((await api.call('GET', '/v1/versions/demo/outbox/del.txt')).status).toBe(200);

    const r = await api.post('/v1/restore', { path: '/demo/outbox/del.txt', version: v1.json.version });
    expect([200, 201]).toContain(r.status);
    expect(r.json).toMatchObject({ path: '/demo/outbox/del.txt', size: 5 });
    const g = await api.get('/demo/outbox/del.txt');
    expect(g.status).toBe(200);
    expect(g.headers.get('etag')).toBe(`"${r.json.etag}"`);
  });
});

// The precondition rules themselves are in the storage contract; here how the headers are read.
describe('conditional writes', () => {
  it('If-None-Match: * is 201 then 412; If-Match takes the quoted or the bare etag, a stale one of either is 412', async () => {
    expect((await api.put('/demo/outbox/inm.txt', 'orig', { 'if-none-match': '*' })).status).toBe(201);
    expectError(await api.put('/demo/outbox/inm.txt', 'other', { 'if-none-match': '*' }), 412, 'precondition_failed');
    const c = await api.put('/demo/outbox/cas.txt', 'v1');
    const q = await api.put('/demo/outbox/cas.txt', 'v2', { 'if-match': `"${c.json.etag}"` });
    expect(q.status).toBe(200);
    expect((await api.put('/demo/outbox/cas.txt', 'v3', { 'if-match': q.json.etag })).status).toBe(200);
    expectError(await api.put('/demo/outbox/cas.txt', 'v4', { 'if-match': `"${c.json.etag}"` }), 412, 'precondition_failed');
    expectError(await api.put('/demo/outbox/cas.txt', 'v4', { 'if-match': q.json.etag }), 412, 'precondition_failed');
  });
});

describe('GET /v1/list', () => {
  it('lists a folder with {entries:[{path,type,size,etag,mimeType,modifiedAt}],cursor}', async () => {
    const p = await api.put('/demo/tasks/pending/t1.json', '{"a":1}', { 'content-type': 'application/json' });
    await api.put('/demo/tasks/pending/sub/t2.json', '{}');
    const r = await api.list('/demo/tasks/pending');
    expect(r.status).toBe(200);
    expect(r.json.cursor).toBeNull();
    const byPath = new Map((r.json.entries as any[]).map((e) => [e.path, e]));
    expect([...byPath.keys()].sort()).toEqual(['/demo/tasks/pending/sub', '/demo/tasks/pending/t1.json']);
    const f = byPath.get('/demo/tasks/pending/t1.json');
    expect(f).toMatchObject({ type: 'file', size: 7, etag: p.json.etag, mimeType: 'application/json' });
    expect(f.modifiedAt).toMatch(ISO);
    const d = byPath.get('/demo/tasks/pending/sub');
    expect(d.type).toBe('directory');
    expect(d.modifiedAt).toMatch(ISO);
    for (const e of r.json.entries) {
      for (const k of ['path', 'type', 'size', 'etag', 'modifiedAt']) expect(e, k).toHaveProperty(k);
    }
  });

  it('lists the workspace root with its declared folders, and a trailing slash names the same folder', async () => {
    const r = await api.list('/demo');
    expect(r.status).toBe(200);
    const paths = (r.json.entries as any[]).map((e) => e.path);
    for (const f of ['inbox', 'outbox', 'tasks', 'events', 'drafts', 'approved']) expect(paths).toContain(`/demo/${f}`);
    const slash = await api.list('/demo/');
    expect(slash.status).toBe(200);
    expect((slash.json.entries as any[]).map((e) => e.path)).toEqual(paths);
  });

  it('pages with limit+cursor over ~250 files, covering each exactly once, cursor null at the end', async () => {
    const files: string[] = [];
    for (let d = 0; d < 5; d++) for (let f = 0; f < 50; f++) files.push(`/demo/events/page/d${d}/f${String(f).padStart(3, '0')}.txt`);
    const puts = await pool(files, 16, (p) => api.put(p, p));
    expect(puts.every((r) => r.status === 201)).toBe(true);
    const expected = [...files, ...[0, 1, 2, 3, 4].map((d) => `/demo/events/page/d${d}`)].sort();

    const walk = async (query: string, limit: number) => {
      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const r = await api.list('/demo/events/page', `?${query}limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
        expect(r.status, r.text).toBe(200);
        expect(r.json.entries.length).toBeLessThanOrEqual(limit);
        seen.push(...(r.json.entries as any[]).map((e) => e.path));
        cursor = r.json.cursor;
        expect(++pages).toBeLessThan(200);
      } while (cursor !== null);
      return { seen, pages };
    };
    const rec = await walk('recursive=1&', 37);
    expect(rec.seen.length).toBe(expected.length); // no duplicates
    expect([...rec.seen].sort()).toEqual(expected);
    expect(rec.pages).toBeGreaterThanOrEqual(Math.ceil(expected.length / 37));

    // non-recursive, over one flat folder of 50
    const flat: string[] = [];
    let cursor: string | null = null;
    do {
      const r = await api.list('/demo/events/page/d2', `?limit=7${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      expect(r.status).toBe(200);
      flat.push(...(r.json.entries as any[]).map((e) => e.path));
      cursor = r.json.cursor;
    } while (cursor !== null);
    expect(flat.length).toBe(50);
    expect([...flat].sort()).toEqual(files.filter((f) => f.startsWith('/demo/events/page/d2/')).sort());
  });

  it('limit defaults to 100 and is capped at 1000; a bad limit or cursor is bad_request', async () => {
    // 1100 files dropped straight on disk (cheaper than 1100 PUTs; Baton lists what is on disk)
    const dir = join(baton.dataDir, 'demo/events/many');
    mkdirSync(dir, { recursive: true });
    for (let i = 0; i < 1100; i++) writeFileSync(join(dir, `m${String(i).padStart(4, '0')}`), 'm');
    const dflt = await api.list('/demo/events/many');
    expect(dflt.status).toBe(200);
    expect(dflt.json.entries.length).toBe(100);
    expect(dflt.json.cursor).not.toBeNull();
    const big = await api.list('/demo/events/many', '?limit=5000');
    expect(big.status).toBe(200);
    expect(big.json.entries.length).toBe(1000);
    expect(big.json.cursor).not.toBeNull();
    const rest = await api.list('/demo/events/many', `?limit=1000&cursor=${encodeURIComponent(big.json.cursor)}`);
    expect(rest.json.entries.length).toBe(100);
    expect(rest.json.cursor).toBeNull();
    expectError(await api.list('/demo/events/many', '?limit=abc'), 400, 'bad_request');
    expectError(await api.list('/demo/events/many', '?cursor=%%%garbage'), 400, 'bad_request');
  });

  it('pages through a folder too big to be read whole in one scan, in name order, each entry once', async () => {
    // Past a few thousand entries a folder is scanned once per batch rather than read whole.
    const dir = join(baton.dataDir, 'demo/events/huge');
    mkdirSync(join(dir, 'sub'), { recursive: true });
    const names = Array.from({ length: 9000 }, (_, i) => `h${String((i * 7919) % 9000).padStart(4, '0')}`);
    for (const n of names) writeFileSync(join(dir, n), 'h');
    writeFileSync(join(dir, 'sub', 'inner.txt'), 'i');
    // Those writes can block this process for as long as the server keeps an idle connection
    // (5 s) on a loaded machine: yield once, so the HTTP client's overdue keep-alive timers close
    // its idle sockets before the next request could be sent on one the server is closing.
    await sleep(20);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const r = await api.list('/demo/events/huge', `?recursive=1&limit=1000${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      expect(r.status).toBe(200);
      seen.push(...(r.json.entries as any[]).map((e) => e.path));
      cursor = r.json.cursor;
    } while (cursor !== null);
    const expected = [...names.sort().map((n) => `/demo/events/huge/${n}`), '/demo/events/huge/sub', '/demo/events/huge/sub/inner.txt'];
    expect(seen).toEqual(expected);
  });

  it('a folder listed again shows every change since, also when it had long been unchanged (its sorted entries are kept)', async () => {
    const dir = join(baton.dataDir, 'demo/events/settled');
    mkdirSync(dir, { recursive: true });
    for (const n of ['b.txt', 'd.txt', 'f.txt']) writeFileSync(join(dir, n), n);
    const paths = async () => {
      const r = await api.list('/demo/events/settled', '?limit=1000');
      expect(r.status).toBe(200);
      return (r.json.entries as any[]).map((e) => `${e.type === 'directory' ? 'dir ' : ''}${(e.path as string).slice('/demo/events/settled/'.length)}`);
    };
    // An hour-old mtime: settled long enough for its entries to be kept and reused.
    const settle = () => utimesSync(dir, new Date(Date.now() - 3_600_000), new Date(Date.now() - 3_600_000));
    settle();
    expect(await paths()).toEqual(['b.txt', 'd.txt', 'f.txt']);
    expect(await paths()).toEqual(['b.txt', 'd.txt', 'f.txt']);
    writeFileSync(join(dir, 'a.txt'), 'dropped on disk');
    expect(await paths()).toEqual(['a.txt', 'b.txt', 'd.txt', 'f.txt']);
    settle();
    expect(await paths()).toEqual(['a.txt', 'b.txt', 'd.txt', 'f.txt']);
    rmSync(join(dir, 'd.txt'));
    expect(await paths()).toEqual(['a.txt', 'b.txt', 'f.txt']);
    settle();
    await paths();
    renameSync(join(dir, 'f.txt'), join(dir, 'c.txt'));
    expect(await paths()).toEqual(['a.txt', 'b.txt', 'c.txt']);
    settle();
    await paths();
    rmSync(join(dir, 'b.txt'));
    mkdirSync(join(dir, 'b.txt'));
    expect(await paths()).toEqual(['a.txt', 'dir b.txt', 'c.txt']);
    settle();
    await paths();
    expect((await api.put('/demo/events/settled/e.txt', 'through the API')).status).toBe(201);
    expect(await paths()).toEqual(['a.txt', 'dir b.txt', 'c.txt', 'e.txt']);
  });

  it('listing a missing folder is not_found; listing a file is a 4xx', async () => {
    expectError(await api.list('/demo/no-such-folder'), 404, 'not_found');
    await api.put('/demo/outbox/file-not-dir.txt', 'x');
    const r = await api.list('/demo/outbox/file-not-dir.txt');
    expect(r.status).toBeGreaterThanOrEqual(400);
    expect(r.status).toBeLessThan(500);
    expect(typeof r.json?.error?.code).toBe('string');
  });
});

describe('GET /v1/search', () => {
  beforeAll(async () => {
    await api.put('/demo/drafts/s/one.md', 'alpha\nthe needle is here\nomega\n');
    await api.put('/demo/drafts/s/two.md', 'no match\n');
    await api.put('/demo/drafts/s/three.txt', 'needle in a txt\n');
    await api.put('/demo/drafts/s/deep/four.md', 'x\ny\nneedle\n');
    await api.put('/demo/outbox/s-outside.md', 'needle outside root\n');
  });

  it('matches a name glob under root', async () => {
    const r = await api.call('GET', `/v1/search?root=/demo/drafts/s&glob=${encodeURIComponent('**/*.md')}`);
    expect(r.status).toBe(200);
    expect(r.json.cursor).toBeNull();
    expect((r.json.results as any[]).map((x) => x.path).sort()).toEqual(['/demo/drafts/s/deep/four.md', '/demo/drafts/s/one.md', '/demo/drafts/s/two.md']);
    for (const x of r.json.results) {
      expect(typeof x.size).toBe('number');
      expect(typeof x.etag).toBe('string');
      expect(x.modifiedAt).toMatch(ISO);
    }
  });

  it('q matches content and returns matches [{line,text}]', async () => {
    const r = await api.call('GET', '/v1/search?root=/demo/drafts/s&q=needle');
    expect(r.status).toBe(200);
    const by = new Map((r.json.results as any[]).map((x) => [x.path, x]));
    expect([...by.keys()].sort()).toEqual(['/demo/drafts/s/deep/four.md', '/demo/drafts/s/one.md', '/demo/drafts/s/three.txt']);
    expect(by.get('/demo/drafts/s/one.md').matches).toEqual([{ line: 2, text: 'the needle is here' }]);
    expect(by.get('/demo/drafts/s/deep/four.md').matches).toEqual([{ line: 3, text: 'needle' }]);
    const both = await api.call('GET', `/v1/search?root=/demo/drafts/s&q=needle&glob=${encodeURIComponent('**/*.md')}`);
    expect((both.json.results as any[]).map((x) => x.path).sort()).toEqual(['/demo/drafts/s/deep/four.md', '/demo/drafts/s/one.md']);
  });

  it('respects limit and pages with cursor', async () => {
    const all: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const r = await api.call('GET', `/v1/search?root=/demo/drafts/s&glob=**&limit=1${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      expect(r.status).toBe(200);
      expect(r.json.results.length).toBeLessThanOrEqual(1);
      all.push(...(r.json.results as any[]).map((x) => x.path));
      cursor = r.json.cursor;
      expect(++pages).toBeLessThan(20);
    } while (cursor !== null);
    expect([...all].sort()).toEqual(['/demo/drafts/s/deep/four.md', '/demo/drafts/s/one.md', '/demo/drafts/s/three.txt', '/demo/drafts/s/two.md']);
    expect(pages).toBeGreaterThanOrEqual(4);
  });

  it('needs a glob or a q', async () => {
    expectError(await api.call('GET', '/v1/search?root=/demo/drafts/s'), 400, 'bad_request');
  });
});

// What a move does to bytes and versions is in the storage contract; here the statuses, the
// answer, the Content-Type carried and how the body is read.
describe('POST /v1/move', () => {
  it('moves a file: 200 with the destination; the source is 404, the destination keeps the Content-Type', async () => {
    await api.put('/demo/inbox/mv-src.txt', 'moving bytes', { 'content-type': 'text/plain' });
    const r = await api.post('/v1/move', { from: '/demo/inbox/mv-src.txt', to: '/demo/outbox/mv-dst.txt' });
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ path: '/demo/outbox/mv-dst.txt', size: 12 });
    expectError(await api.get('/demo/inbox/mv-src.txt'), 404, 'not_found');
    expect((await api.get('/demo/outbox/mv-dst.txt')).headers.get('content-type')).toBe('text/plain');
  });

  it('an existing destination is 409 conflict unless overwrite is true', async () => {
    await api.put('/demo/inbox/mv-a.txt', 'AAA');
    await api.put('/demo/outbox/mv-b.txt', 'BBB');
    expectError(await api.post('/v1/move', { from: '/demo/inbox/mv-a.txt', to: '/demo/outbox/mv-b.txt' }), 409, 'conflict');
    expectError(await api.post('/v1/move', { from: '/demo/inbox/mv-a.txt', to: '/demo/outbox/mv-b.txt', overwrite: false }), 409, 'conflict');
    expect((await api.post('/v1/move', { from: '/demo/inbox/mv-a.txt', to: '/demo/outbox/mv-b.txt', overwrite: true })).status).toBe(200);
  });

  it('a missing source is not_found; a bad body is bad_request', async () => {
    expectError(await api.post('/v1/move', { from: '/demo/inbox/never.txt', to: '/demo/outbox/never.txt' }), 404, 'not_found');
    expectError(await api.post('/v1/move', { from: '/demo/inbox/x' }), 400, 'bad_request');
    expectError(await api.post('/v1/move', { from: 1, to: 2 }), 400, 'bad_request');
  });
});

// Numbering, old bytes and what a restore writes are in the storage contract; here the shapes,
// the actor a key maps to, and the statuses.
describe('versions and restore', () => {
  it('GET /v1/versions answers {versions:[{version,etag,size,mimeType,time,actor,deleted}]} with the key\'s agent as actor', async () => {
    const versioner = client(baton.url, (await createKey(baton.url, baton.adminToken, { agent: 'versioner', grants: ['write:/demo/outbox/**'] })).key);
    await api.put('/demo/outbox/hist.txt', 'v-one', { 'content-type': 'text/plain' });
    const p = await versioner.put('/demo/outbox/hist.txt', 'v-two!', { 'content-type': 'text/plain' });
    expect(p.status).toBe(200);
    const r = await api.call('GET', '/v1/versions/demo/outbox/hist.txt');
    expect(r.status).toBe(200);
    const vs = r.json.versions as any[];
    expect(vs).toHaveLength(2);
    for (const v of vs) {
      expect(v).toMatchObject({ version: expect.any(Number), etag: expect.any(String), size: expect.any(Number), mimeType: 'text/plain', actor: expect.any(String), deleted: false });
      expect(v.time).toMatch(ISO);
    }
    expect(vs[0]).toMatchObject({ version: 2, etag: p.json.etag, size: 6, actor: 'agent:versioner' });
    expectError(await api.call('GET', '/v1/versions/demo/outbox/no-history.txt'), 404, 'not_found');
  });

  it('POST /v1/restore is 200 with {path,size,etag,version} and the ETag GET then shows; 404 for no such version, 400 without one', async () => {
    const v1 = await api.put('/demo/outbox/rest.txt', 'original', { 'content-type': 'text/plain' });
    await api.put('/demo/outbox/rest.txt', 'changed');
    const r = await api.post('/v1/restore', { path: '/demo/outbox/rest.txt', version: v1.json.version });
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ path: '/demo/outbox/rest.txt', size: 8, version: 3 });
    expect((await api.get('/demo/outbox/rest.txt')).headers.get('etag')).toBe(`"${r.json.etag}"`);
    expectError(await api.post('/v1/restore', { path: '/demo/outbox/rest.txt', version: 42 }), 404, 'not_found');
    expectError(await api.post('/v1/restore', { path: '/demo/outbox/rest.txt' }), 400, 'bad_request');
  });
});

describe('operational routes', () => {
  it('GET /healthz and /readyz answer 200 without a key', async () => {
    const h = await client(baton.url).call('GET', '/healthz');
    expect(h.status).toBe(200);
    const r = await client(baton.url).call('GET', '/readyz');
    expect(r.status).toBe(200);
    expect(r.json.ok).toBe(true);
  });

  it('GET /metrics is Prometheus text with request counts by route and a latency histogram', async () => {
    await api.get('/demo/outbox/get.md');
    const r = await client(baton.url).call('GET', '/metrics');
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(r.text).toMatch(/^# TYPE baton_http_requests_total counter$/m);
    const counts = r.text.split('\n').filter((l) => l.startsWith('baton_http_requests_total{'));
    expect(counts.length).toBeGreaterThan(0);
    expect(counts.some((l) => /route="[^"]*\/v1\/files[^"]*"/.test(l))).toBe(true);
    // never the raw path as a label value (unbounded cardinality)
    expect(counts.some((l) => l.includes('get.md'))).toBe(false);
    expect(r.text).toMatch(/^# TYPE \S+ histogram$/m);
    expect(r.text).toMatch(/^baton_http_request\S*_bucket\{[^}]*le="[^"]+"[^}]*\} \d+/m);
  });

  it('GET /openapi.json describes the API', async () => {
    const r = await client(baton.url).call('GET', '/openapi.json');
    expect(r.status).toBe(200);
    expect(String(r.json.openapi)).toMatch(/^3\./);
    for (const p of ['/v1/files/{path}', '/v1/list/{dir}', '/v1/search', '/v1/move', '/v1/restore', '/v1/keys', '/v1/audit']) {
      expect(Object.keys(r.json.paths)).toContain(p);
    }
  });
});

describe('keys', () => {
  it('POST creates a working key shown once; GET never shows it; DELETE revokes it', async () => {
    const c = await api.post('/v1/keys', { agent: 'lister', grants: ['read:/demo/outbox/**'] });
    expect(c.status).toBe(201);
    expect(typeof c.json.id).toBe('string');
    expect(typeof c.json.key).toBe('string');
    expect(c.json.key.length).toBeGreaterThanOrEqual(22); // >= 128 bits of base64
    const k = client(baton.url, c.json.key);
    expect((await k.get('/demo/outbox/get.md')).status).toBe(200);

    const l = await api.call('GET', '/v1/keys');
    expect(l.status).toBe(200);
    expect(l.text).not.toContain(c.json.key);
    const rec = (l.json.keys as any[]).find((x) => x.id === c.json.id);
    expect(rec).toMatchObject({ id: c.json.id, agent: 'lister', grants: ['read:/demo/outbox/**'] });
    for (const x of l.json.keys) {
      expect(x).not.toHaveProperty('key');
      expect(x).not.toHaveProperty('secret');
    }

    const d = await api.call('DELETE', `/v1/keys/${c.json.id}`);
    expect(d.status).toBe(200);
    expectError(await k.get('/demo/outbox/get.md'), 401, 'unauthorized');
    expectError(await api.call('DELETE', '/v1/keys/key_doesnotexist'), 404, 'not_found');
  });

  it('refuses malformed key requests with bad_request', async () => {
    expectError(await api.post('/v1/keys', { agent: 'x', grants: ['fly:/demo/**'] }), 400, 'bad_request');
    expectError(await api.post('/v1/keys', { agent: 'x', grants: ['read:demo/**'] }), 400, 'bad_request');
    expectError(await api.post('/v1/keys', { grants: [] }), 400, 'bad_request');
    expectError(await api.post('/v1/keys', { agent: 'x', grants: [], expiresAt: 'not a date' }), 400, 'bad_request');
  });
});

describe('workspaces', () => {
  it('GET lists the declared workspaces', async () => {
    const r = await api.call('GET', '/v1/workspaces');
    expect(r.status).toBe(200);
    const demo = (r.json.workspaces as any[]).find((w) => w.name === 'demo');
    expect(demo).toBeTruthy();
    expect(demo.gates).toEqual(['/demo/approved']);
  });

  it('POST creates a workspace that is usable right away', async () => {
    const c = await api.post('/v1/workspaces', { name: 'apiws', folders: ['in', 'out'] });
    expect(c.status).toBe(201);
    expect(c.json.name).toBe('apiws');
    const put = await api.put('/apiws/in/hello.txt', 'hi');
    expect(put.status).toBe(201);
    expect((await api.get('/apiws/in/hello.txt')).text).toBe('hi');
    const l = await api.list('/apiws');
    expect((l.json.entries as any[]).map((e) => e.path).sort()).toEqual(['/apiws/in', '/apiws/out']);
    const ws = await api.call('GET', '/v1/workspaces');
    expect((ws.json.workspaces as any[]).map((w) => w.name)).toContain('apiws');
    const root = await api.list('/');
    expect((root.json.entries as any[]).map((e) => e.path)).toEqual(expect.arrayContaining(['/apiws', '/demo']));
    expectError(await api.post('/v1/workspaces', { name: 'apiws' }), 409, 'conflict');
    expectError(await api.post('/v1/workspaces', { name: '../escape' }), 400, 'bad_request');
  });

  it('a YAML file written into the workspaces directory becomes usable without a restart', async () => {
    expectError(await api.put('/hotws/box/a.txt', 'x'), 404, 'not_found');
    writeFileSync(join(baton.workspacesDir, 'hotws.yaml'), 'name: hotws\nfolders: [box]\ngates: [/hotws/locked]\n');
    const ok = await poll(async () => (await api.list('/hotws')).status === 200, 8_000, 100);
    expect(ok).toBe(true);
    const put = await api.put('/hotws/box/a.txt', 'hot');
    expect(put.status).toBe(201);
    expect((await api.get('/hotws/box/a.txt')).text).toBe('hot');
    // the gate of the new definition holds too
    const agent = await createKey(baton.url, baton.adminToken, { agent: 'hot-agent', grants: ['write:/hotws/**'] });
    expectError(await client(baton.url, agent.key).put('/hotws/locked/x.txt', 'x'), 403, 'forbidden');
    expect((await client(baton.url, agent.key).put('/hotws/box/y.txt', 'y')).status).toBe(201);
  });
});
