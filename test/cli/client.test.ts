import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BatonClient, BatonClientError, encodePath, type ListEntry } from '../../src/client/index.js';
import { removeDir, startBaton, type TestBaton } from '../helpers/baton.js';
import { createKey } from '../helpers/http.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';

let redis: TestRedis;
let server: TestBaton;
let admin: BatonClient;

beforeAll(async () => {
  redis = await startRedis();
  server = await startBaton({ redisUrl: redis.url });
  admin = new BatonClient({ url: `${server.url}/`, key: server.adminToken });
});
afterAll(async () => {
  await server?.stop();
  await redis?.stop();
  if (server) removeDir(server.dataDir);
});

async function failure(p: Promise<unknown>): Promise<BatonClientError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(BatonClientError);
    return err as BatonClientError;
  }
  throw new Error('expected the call to fail');
}

describe('BatonClient', () => {
  it('encodes each path segment and keeps the slashes', () => {
    expect(encodePath('/demo/inbox/a b#?%.md')).toBe('/demo/inbox/a%20b%23%3F%25.md');
    expect(encodePath('demo/x')).toBe('/demo/x');
    expect(encodePath('/')).toBe('/');
    expect(() => encodePath('/demo/../etc')).toThrow(BatonClientError);
  });

  it('puts, gets, stats and streams files, with conditional writes', async () => {
    const path = '/demo/inbox/ünï code #1?.md';
    const put = await admin.put(path, '# hi', { contentType: 'text/markdown' });
    expect(put).toMatchObject({ path, size: 4, version: 1, mimeType: 'text/markdown', created: true });

    const got = await admin.get(path);
    expect(got.text()).toBe('# hi');
    expect(got).toMatchObject({ path, etag: put.etag, version: 1, size: 4, mimeType: 'text/markdown' });

    const meta = await admin.stat(path);
    expect(meta).toMatchObject({ etag: put.etag, size: 4, version: 1 });
    expect(meta.modifiedAt).toMatch(/Z$/);

    const second = await admin.put(path, new TextEncoder().encode('# two'), { ifMatch: put.etag });
    expect(second).toMatchObject({ version: 2, created: false });
    expect((await failure(admin.put(path, 'stale', { ifMatch: put.etag }))).code).toBe('precondition_failed');
    expect((await failure(admin.put(path, 'again', { ifNoneMatch: true }))).status).toBe(412);

    async function* chunks() {
      yield 'part one, ';
      yield new TextEncoder().encode('part two');
    }
    let sent = 0;
    const streamed = await admin.put('/demo/inbox/stream.txt', chunks(), { onProgress: (n) => (sent = n) });
    expect(streamed.size).toBe(18);
    expect(sent).toBe(18);
    expect(streamed.mimeType).toBe('text/plain');
    const s = await admin.getStream('/demo/inbox/stream.txt');
    expect(await new Response(s.body).text()).toBe('part one, part two');

    expect((await admin.get(path, { version: 1 })).text()).toBe('# hi');
    const versions = await admin.versions(path);
    expect(versions.versions.map((v) => v.version)).toEqual([2, 1]);
    const restored = await admin.restore(path, 1);
    expect(restored).toMatchObject({ version: 3, restoredFrom: 1, created: false });

    const moved = await admin.move(path, '/demo/outbox/moved.md');
    expect(moved).toMatchObject({ from: path, path: '/demo/outbox/moved.md' });
    expect((await failure(admin.stat(path))).code).toBe('not_found');
    const del = await admin.delete('/demo/outbox/moved.md', { ifMatch: moved.etag! });
    expect(del).toMatchObject({ deleted: true });
  });

  it('listAll follows cursors across more than one page', async () => {
    const n = 150;
    await Promise.all(Array.from({ length: n }, (_, i) => admin.put(`/demo/events/many/f${String(i).padStart(3, '0')}.txt`, `file ${i}`)));
    const first = await admin.list('/demo/events/many');
    expect(first.entries).toHaveLength(100);
    expect(first.cursor).not.toBeNull();

    const all: ListEntry[] = [];
    for await (const e of admin.listAll('/demo/events/many')) all.push(e);
    expect(all).toHaveLength(n);
    expect(new Set(all.map((e) => e.path)).size).toBe(n);
    expect(all[0]).toMatchObject({ path: '/demo/events/many/f000.txt', type: 'file', size: 6 });

    const small: string[] = [];
    for await (const e of admin.listAll('/demo/events', { recursive: true, limit: 7 })) small.push(e.path);
    expect(small.filter((p) => p.startsWith('/demo/events/many/'))).toHaveLength(n);

    const found: string[] = [];
    for await (const r of admin.searchAll({ root: '/demo/events/many', glob: 'f1*.txt', limit: 10 })) found.push(r.path);
    expect(found).toHaveLength(50);
    const text = await admin.search({ root: '/demo/events/many', q: 'file 149' });
    expect(text.results.map((r) => r.path)).toEqual(['/demo/events/many/f149.txt']);
    expect(text.results[0]?.matches).toEqual([{ line: 1, text: 'file 149' }]);
  });

  it('maps failures to the API error codes', async () => {
    const reader = await createKey(server.url, server.adminToken, { agent: 'client-reader', grants: ['read:/demo/inbox/**'] });
    const c = new BatonClient({ url: server.url, key: reader.key });
    const forbidden = await failure(c.put('/demo/inbox/x.md', 'x'));
    expect(forbidden).toMatchObject({ code: 'forbidden', status: 403 });
    expect((await failure(c.stat('/demo/outbox/none.md'))).code).toBe('forbidden');
    expect((await failure(c.keys.list())).code).toBe('forbidden');
    expect((await failure(c.get('/demo/inbox/none.md'))).code).toBe('not_found');

    const bad = new BatonClient({ url: server.url, key: 'bk_nope' });
    expect(await failure(bad.list('/demo'))).toMatchObject({ code: 'unauthorized', status: 401 });
    await admin.keys.revoke(reader.id);
    expect((await failure(c.list('/demo/inbox'))).code).toBe('unauthorized');

    expect((await failure(admin.get('/demo/inbox/100% sure.md'))).code).toBe('not_found');
    expect((await failure(admin.put('/demo/a\\b', 'x'))).code).toBe('invalid_path');
    expect((await failure(admin.search({ root: '/demo' }))).code).toBe('bad_request');

    const down = new BatonClient({ url: 'http://127.0.0.1:9', key: 'x' });
    expect(await failure(down.health())).toMatchObject({ code: 'unavailable', status: 0 });

    const limited = new BatonClient({
      url: 'http://baton.test',
      key: 'k',
      fetch: async () =>
        new Response(JSON.stringify({ error: { code: 'rate_limited', message: 'slow down' } }), { status: 429, headers: { 'retry-after': '3' } }),
    });
    expect(await failure(limited.list('/demo'))).toMatchObject({ code: 'rate_limited', status: 429, retryAfter: 3, message: 'slow down' });
  });

  it('covers keys, workspaces, audit and health', async () => {
    const k = await admin.keys.create({ agent: 'client-ops', grants: ['read:/demo/**'], human: true });
    expect(k.key).toMatch(/^bk_/);
    expect((await admin.keys.list()).keys.find((x) => x.id === k.id)).toMatchObject({ human: true, revokedAt: null });
    expect((await admin.keys.revoke(k.id)).revokedAt).not.toBeNull();
    expect((await failure(admin.keys.create({ agent: 'x', grants: [], expiresAt: '2000-01-01T00:00:00Z' }))).code).toBe('bad_request');

    expect((await admin.workspaces.list()).workspaces.map((w) => w.name)).toContain('demo');
    expect(await admin.workspaces.create({ name: 'clientws', folders: ['a'] })).toMatchObject({ name: 'clientws', id: 'ws_clientws' });
    expect((await failure(admin.workspaces.create({ name: 'clientws' }))).code).toBe('conflict');

    const page = await admin.audit.query({ action: 'file.write', limit: 5 });
    expect(page.entries).toHaveLength(5);
    expect(page.cursor).not.toBeNull();
    let count = 0;
    for await (const e of admin.audit.queryAll({ action: 'key.create' })) {
      expect(e.action).toBe('key.create');
      count++;
    }
    expect(count).toBeGreaterThanOrEqual(2);
    expect(await admin.audit.verify()).toMatchObject({ ok: true });

    const anon = new BatonClient({ url: server.url });
    expect(await anon.health()).toEqual({ ok: true });
    expect(await anon.ready()).toMatchObject({ ok: true, redis: 'ok', workspaces: { demo: 'ok' } });
  });
});
