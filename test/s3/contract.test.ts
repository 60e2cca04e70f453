import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeDir, startBaton, type TestBaton } from '../helpers/baton.js';
import { allEvents } from '../helpers/events.js';
import { client, createKey } from '../helpers/http.js';
import { rawRequest } from '../helpers/raw.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';
import { S3RVER_ENV, startS3rver, type TestS3 } from '../helpers/s3rver.js';

/*
 * The file contract of brief §3/§7, through HTTP, on an S3 workspace (s3rver): the same answers
 * a local workspace gives.
 */
let redis: TestRedis;
let s3: TestS3;
let baton: TestBaton;
let api: ReturnType<typeof client>;
let sdk: S3Client;

const W = '/s3ws';

beforeAll(async () => {
  [redis, s3] = await Promise.all([startRedis(), startS3rver()]);
  sdk = s3.client();
  baton = await startBaton({
    redisUrl: redis.url,
    workspaces: { 's3ws.yaml': s3.workspaceYaml('s3ws', { folders: ['inbox', 'outbox', 'tasks/pending', 'tasks/done'] }) },
    env: { ...S3RVER_ENV, BATON_MAX_BODY_BYTES: String(64 * 1024 * 1024) },
  });
  api = client(baton.url, baton.adminToken);
});
afterAll(async () => {
  await baton?.stop();
  await Promise.all([redis?.stop(), s3?.destroy()]);
  if (baton) {
    removeDir(baton.dataDir);
    removeDir(baton.workspacesDir);
  }
});

function expectError(r: { status: number; json: any }, status: number, code: string) {
  expect(r.status, JSON.stringify(r.json)).toBe(status);
  expect(r.json?.error?.code).toBe(code);
  expect(typeof r.json?.error?.message).toBe('string');
}

async function objectText(key: string): Promise<string | null> {
  try {
    const out = await sdk.send(new GetObjectCommand({ Bucket: s3.bucket, Key: key }));
    return (await out.Body?.transformToString()) ?? '';
  } catch {
    return null;
  }
}

async function keysUnder(prefix: string): Promise<string[]> {
  const out = await sdk.send(new ListObjectsV2Command({ Bucket: s3.bucket, Prefix: prefix }));
  return (out.Contents ?? []).map((o) => o.Key!).sort();
}

function vmHWM(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m![1]) * 1024;
}

describe('files on S3', () => {
  it('PUT creates (201) then updates (200); the object lives at prefix + path with its Content-Type', async () => {
    const c = await api.put(`${W}/inbox/a.md`, '# hello\n', { 'content-type': 'text/markdown' });
    expect(c.status).toBe(201);
    expect(c.json).toMatchObject({ path: `${W}/inbox/a.md`, size: 8, version: 1, mimeType: 'text/markdown' });
    expect(c.json.etag).toMatch(/^[0-9a-f]{32}$/);
    expect(c.headers.get('etag')).toBe(`"${c.json.etag}"`);
    const head = await sdk.send(new HeadObjectCommand({ Bucket: s3.bucket, Key: 's3ws/inbox/a.md' }));
    expect(head.ContentType).toBe('text/markdown');
    expect(head.ETag).toBe(`"${c.json.etag}"`);
    const u = await api.put(`${W}/inbox/a.md`, '# hello again\n', { 'content-type': 'text/markdown' });
    expect(u.status).toBe(200);
    expect(u.json.version).toBe(2);
    expect(await objectText('s3ws/inbox/a.md')).toBe('# hello again\n');
  });

  it('GET returns the bytes with a quoted ETag, Content-Type and Content-Length; HEAD the same headers', async () => {
    const bin = randomBytes(3000);
    const p = await api.put(`${W}/outbox/bin.dat`, bin, { 'content-type': 'application/x-thing' });
    const g = await fetch(`${baton.url}/v1/files${W}/outbox/bin.dat`, { headers: { authorization: `Bearer ${baton.adminToken}` } });
    expect(g.status).toBe(200);
    expect(Buffer.from(await g.arrayBuffer()).equals(bin)).toBe(true);
    expect(g.headers.get('etag')).toBe(`"${p.json.etag}"`);
    expect(g.headers.get('content-type')).toBe('application/x-thing');
    expect(g.headers.get('content-length')).toBe('3000');
    const h = await api.head(`${W}/outbox/bin.dat`);
    expect(h.status).toBe(200);
    expect(h.headers.get('etag')).toBe(`"${p.json.etag}"`);
    expect(h.headers.get('content-length')).toBe('3000');
    expectError(await api.get(`${W}/outbox/missing.txt`), 404, 'not_found');
    expect((await api.head(`${W}/outbox/missing.txt`)).status).toBe(404);
    // an empty body is an empty file; a guessed type when none is sent
    const e = await api.put(`${W}/outbox/empty.json`, new Uint8Array(0));
    expect(e.status).toBe(201);
    expect(e.json).toMatchObject({ size: 0, mimeType: 'application/json' });
    expect((await api.get(`${W}/outbox/empty.json`)).text).toBe('');
  });

  it('If-None-Match: * creates only, If-Match compares and swaps (quoted or bare), else 412 with no change', async () => {
    expect((await api.put(`${W}/outbox/inm.txt`, 'orig', { 'if-none-match': '*' })).status).toBe(201);
    expectError(await api.put(`${W}/outbox/inm.txt`, 'other', { 'if-none-match': '*' }), 412, 'precondition_failed');
    expect(await objectText('s3ws/outbox/inm.txt')).toBe('orig');

    const c = await api.put(`${W}/outbox/cas.txt`, 'v1');
    const q = await api.put(`${W}/outbox/cas.txt`, 'v2', { 'if-match': `"${c.json.etag}"` });
    expect(q.status).toBe(200);
    const b = await api.put(`${W}/outbox/cas.txt`, 'v3', { 'if-match': q.json.etag });
    expect(b.status).toBe(200);
    expectError(await api.put(`${W}/outbox/cas.txt`, 'v4', { 'if-match': `"${c.json.etag}"` }), 412, 'precondition_failed');
    expectError(await api.put(`${W}/outbox/cas-missing.txt`, 'x', { 'if-match': '"abc"' }), 412, 'precondition_failed');
    expect(await objectText('s3ws/outbox/cas.txt')).toBe('v3');
    expect(await objectText('s3ws/outbox/cas-missing.txt')).toBeNull();
  });

  it('of 10 racing If-None-Match: * creates exactly one wins (the Redis-guarded check; s3rver ignores the header)', async () => {
    const replies = await Promise.all(Array.from({ length: 10 }, (_, i) => api.put(`${W}/outbox/race-create.txt`, `writer ${i}`, { 'if-none-match': '*' })));
    const statuses = replies.map((r) => r.status).sort();
    expect(statuses.filter((s) => s === 201)).toHaveLength(1);
    expect(statuses.filter((s) => s === 412)).toHaveLength(9);
    const winner = replies.findIndex((r) => r.status === 201);
    expect(await objectText('s3ws/outbox/race-create.txt')).toBe(`writer ${winner}`);
  });

  it('DELETE removes the object, keeps the versions listed and restorable; the folder stays', async () => {
    const v1 = await api.put(`${W}/inbox/del/only.txt`, 'first', { 'content-type': 'text/plain' });
    const v2 = await api.put(`${W}/inbox/del/only.txt`, 'second', { 'content-type': 'text/plain' });
    expectError(await api.del(`${W}/inbox/del/only.txt`, { 'if-match': `"${v1.json.etag}"` }), 412, 'precondition_failed');
    const d = await api.del(`${W}/inbox/del/only.txt`);
    expect(d.status).toBe(200);
    expect(await objectText('s3ws/inbox/del/only.txt')).toBeNull();
    expectError(await api.get(`${W}/inbox/del/only.txt`), 404, 'not_found');
    expectError(await api.del(`${W}/inbox/del/only.txt`), 404, 'not_found');
    // the folder it was in is still there, empty
    const l = await api.list(`${W}/inbox/del`);
    expect(l.status).toBe(200);
    expect(l.json.entries).toEqual([]);

    const vs = (await api.call('GET', `/v1/versions${W}/inbox/del/only.txt`)).json.versions as any[];
    expect(vs[0].deleted).toBe(true);
    expect(vs.filter((v) => !v.deleted).map((v) => v.etag)).toEqual([v2.json.etag, v1.json.etag]);
    const r = await api.post('/v1/restore', { path: `${W}/inbox/del/only.txt`, version: v1.json.version });
    expect([200, 201]).toContain(r.status);
    expect(r.json).toMatchObject({ path: `${W}/inbox/del/only.txt`, size: 5 });
    expect(r.json.version).toBeGreaterThan(vs[0].version);
    const g = await api.get(`${W}/inbox/del/only.txt`);
    expect(g.text).toBe('first');
    expect(g.headers.get('etag')).toBe(`"${r.json.etag}"`);
  });

  it('versions: newest first with {version,etag,size,mimeType,time,actor,deleted}; ?version=N reads an old one; restore is a new version', async () => {
    const versioner = client(baton.url, (await createKey(baton.url, baton.adminToken, { agent: 'versioner', grants: [`write:${W}/outbox/**`, `read:${W}/**`] })).key);
    const puts = [];
    for (const body of ['v-one', 'v-two!']) puts.push(await api.put(`${W}/outbox/hist.txt`, body, { 'content-type': 'text/plain' }));
    puts.push(await versioner.put(`${W}/outbox/hist.txt`, 'v-three!!', { 'content-type': 'text/plain' }));
    expect(puts.map((p) => p.status)).toEqual([201, 200, 200]);
    const vs = (await api.call('GET', `/v1/versions${W}/outbox/hist.txt`)).json.versions as any[];
    expect(vs.map((v) => v.version)).toEqual([3, 2, 1]);
    expect(vs.map((v) => v.etag)).toEqual(puts.map((p) => p.json.etag).reverse());
    expect(vs.map((v) => v.size)).toEqual([9, 6, 5]);
    expect(vs[0]).toMatchObject({ actor: 'agent:versioner', mimeType: 'text/plain', deleted: false });
    const old = await api.get(`${W}/outbox/hist.txt?version=1`);
    expect(old.text).toBe('v-one');
    expect(old.headers.get('etag')).toBe(`"${puts[0]!.json.etag}"`);
    expect((await api.get(`${W}/outbox/hist.txt?version=3`)).text).toBe('v-three!!');
    expectError(await api.get(`${W}/outbox/hist.txt?version=99`), 404, 'not_found');
    const r = await api.post('/v1/restore', { path: `${W}/outbox/hist.txt`, version: 1 });
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ version: 4, size: 5 });
    expect((await api.get(`${W}/outbox/hist.txt`)).text).toBe('v-one');
    expectError(await api.post('/v1/restore', { path: `${W}/outbox/hist.txt`, version: 42 }), 404, 'not_found');
    expectError(await api.call('GET', `/v1/versions${W}/outbox/never.txt`), 404, 'not_found');
    // the kept copies live under the prefix's .baton/, which no listing shows
    expect((await keysUnder('s3ws/.baton/versions/')).some((k) => /\/v[123]$/.test(k))).toBe(true);
  });

  it('lists a folder; the root shows folders but never .baton', async () => {
    await api.put(`${W}/outbox/list/a.txt`, 'a', { 'content-type': 'text/plain' });
    await api.put(`${W}/outbox/list/b.txt`, 'bb');
    await api.put(`${W}/outbox/list/sub/c.txt`, 'ccc');
    const l = await api.list(`${W}/outbox/list`);
    expect(l.status).toBe(200);
    expect(l.json.cursor).toBeNull();
    expect(l.json.entries.map((e: any) => [e.path, e.type])).toEqual([
      [`${W}/outbox/list/a.txt`, 'file'],
      [`${W}/outbox/list/b.txt`, 'file'],
      [`${W}/outbox/list/sub`, 'directory'],
    ]);
    expect(l.json.entries[0]).toMatchObject({ size: 1, mimeType: 'text/plain' });
    expect(l.json.entries[0].etag).toMatch(/^[0-9a-f]{32}$/);
    const rec = await api.list(`${W}/outbox/list`, '?recursive=1');
    expect(rec.json.entries.map((e: any) => e.path)).toEqual([
      `${W}/outbox/list/a.txt`,
      `${W}/outbox/list/b.txt`,
      `${W}/outbox/list/sub`,
      `${W}/outbox/list/sub/c.txt`,
    ]);
    const root = await api.list(W);
    const names = root.json.entries.map((e: any) => e.path);
    expect(names).toEqual(expect.arrayContaining([`${W}/inbox`, `${W}/outbox`, `${W}/tasks`]));
    expect(names.some((n: string) => n.includes('.baton'))).toBe(false);
    const all = await api.list(W, '?recursive=1&limit=1000');
    expect(all.json.entries.some((e: any) => e.path.includes('.baton'))).toBe(false);
    expect(all.json.entries.map((e: any) => e.path)).toEqual(expect.arrayContaining([`${W}/tasks/pending`, `${W}/tasks/done`]));
    expectError(await api.list(`${W}/nope`), 404, 'not_found');
    expect((await api.list(`${W}/outbox/list/a.txt`)).status).toBeGreaterThanOrEqual(400);
  });

  it('pages with limit+cursor over 120 files, each exactly once, cursor null at the end', async () => {
    const names = Array.from({ length: 120 }, (_, i) => `${W}/inbox/page/${String(i).padStart(3, '0')}-${i % 7 === 0 ? 'sub/x' : 'f'}.txt`);
    for (let i = 0; i < names.length; i += 20) await Promise.all(names.slice(i, i + 20).map((n) => api.put(n, n)));
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const r = await api.list(`${W}/inbox/page`, `?recursive=1&limit=17${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      expect(r.status, r.text).toBe(200);
      expect(r.json.entries.length).toBeLessThanOrEqual(17);
      seen.push(...r.json.entries.filter((e: any) => e.type === 'file').map((e: any) => e.path));
      cursor = r.json.cursor;
      pages++;
    } while (cursor && pages < 50);
    expect(cursor).toBeNull();
    expect(seen.sort()).toEqual([...names].sort());
    expect(new Set(seen).size).toBe(names.length);
  });

  it('paging resumes exactly after any entry, whatever the names (S3 key order: "a b/" < "a-b" < "a.txt" < "a/")', async () => {
    const files = ['a-b.txt', 'a.txt', 'a b/y.txt', 'a/x.txt', 'a/z/deep.txt', 'a/z/e.txt', 'Z.txt', '~t.txt', '\u00e4.txt', 'b/c/d/e.txt'];
    for (const f of files) expect((await api.put(`${W}/inbox/odd/${f}`, f)).status, f).toBe(201);
    await sdk.send(new PutObjectCommand({ Bucket: s3.bucket, Key: 's3ws/inbox/odd/m/', Body: '' })); // an empty folder marker
    for (const recursive of [true, false]) {
      const q = recursive ? '&recursive=1' : '';
      const full = (await api.list(`${W}/inbox/odd`, `?limit=1000${q}`)).json.entries.map((e: any) => `${e.type[0]} ${e.path}`);
      expect(new Set(full).size).toBe(full.length);
      for (const limit of [1, 2, 3]) {
        const paged: string[] = [];
        let cursor: string | null = null;
        for (let i = 0; i < 100; i++) {
          const r = await api.list(`${W}/inbox/odd`, `?limit=${limit}${q}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
          expect(r.status, r.text).toBe(200);
          paged.push(...r.json.entries.map((e: any) => `${e.type[0]} ${e.path}`));
          cursor = r.json.cursor;
          if (!cursor) break;
        }
        expect(paged, `recursive=${recursive} limit=${limit}`).toEqual(full);
      }
      if (recursive) {
        expect(full.filter((x: string) => x.startsWith('f ')).map((x: string) => x.slice(2 + `${W}/inbox/odd/`.length)).sort()).toEqual([...files].sort());
        expect(full).toContain(`d ${W}/inbox/odd/m`);
        expect(full).toContain(`d ${W}/inbox/odd/b/c/d`);
      } else {
        expect(full).toEqual([
          `d ${W}/inbox/odd/a b`,
          `f ${W}/inbox/odd/a-b.txt`,
          `f ${W}/inbox/odd/a.txt`,
          `d ${W}/inbox/odd/a`,
          `d ${W}/inbox/odd/b`,
          `d ${W}/inbox/odd/m`,
          `f ${W}/inbox/odd/Z.txt`,
          `f ${W}/inbox/odd/~t.txt`,
          `f ${W}/inbox/odd/\u00e4.txt`,
        ].sort((x, y) => Buffer.compare(Buffer.from(x.slice(2) + (x[0] === 'd' ? '/' : '')), Buffer.from(y.slice(2) + (y[0] === 'd' ? '/' : '')))));
      }
    }
  });

  it('search: a name glob and a content match', async () => {
    await api.put(`${W}/outbox/s/one.md`, 'alpha\nneedle here\n');
    await api.put(`${W}/outbox/s/two.md`, 'nothing\n');
    await api.put(`${W}/outbox/s/deep/three.txt`, 'needle again\n');
    const g = await api.call('GET', `/v1/search?root=${W}/outbox/s&glob=**/*.md`);
    expect(g.status, g.text).toBe(200);
    expect(g.json.results.map((r: any) => r.path).sort()).toEqual([`${W}/outbox/s/one.md`, `${W}/outbox/s/two.md`]);
    const q = await api.call('GET', `/v1/search?root=${W}/outbox/s&q=needle`);
    expect(q.json.results.map((r: any) => r.path).sort()).toEqual([`${W}/outbox/s/deep/three.txt`, `${W}/outbox/s/one.md`]);
    const one = q.json.results.find((r: any) => r.path.endsWith('one.md'));
    expect(one.matches).toEqual([{ line: 2, text: 'needle here' }]);
  });

  it('moves a file (copy + delete): source gone, destination holds the bytes and type; conflicts and not_found', async () => {
    await api.put(`${W}/inbox/mv-src.txt`, 'moving bytes', { 'content-type': 'text/plain' });
    const r = await api.post('/v1/move', { from: `${W}/inbox/mv-src.txt`, to: `${W}/outbox/mv-dst.txt` });
    expect(r.status, r.text).toBe(200);
    expect(r.json).toMatchObject({ path: `${W}/outbox/mv-dst.txt`, size: 12 });
    expect(await objectText('s3ws/inbox/mv-src.txt')).toBeNull();
    const g = await api.get(`${W}/outbox/mv-dst.txt`);
    expect(g.text).toBe('moving bytes');
    expect(g.headers.get('content-type')).toBe('text/plain');
    await api.put(`${W}/inbox/mv-a.txt`, 'AAA');
    await api.put(`${W}/outbox/mv-b.txt`, 'BBB');
    expectError(await api.post('/v1/move', { from: `${W}/inbox/mv-a.txt`, to: `${W}/outbox/mv-b.txt` }), 409, 'conflict');
    expect((await api.post('/v1/move', { from: `${W}/inbox/mv-a.txt`, to: `${W}/outbox/mv-b.txt`, overwrite: true })).status).toBe(200);
    expect((await api.get(`${W}/outbox/mv-b.txt`)).text).toBe('AAA');
    expectError(await api.post('/v1/move', { from: `${W}/inbox/never.txt`, to: `${W}/outbox/never.txt` }), 404, 'not_found');
    // the replaced destination's bytes are still a version
    const vs = (await api.call('GET', `/v1/versions${W}/outbox/mv-b.txt`)).json.versions as any[];
    expect(vs.length).toBe(2);
    expect((await api.get(`${W}/outbox/mv-b.txt?version=${vs[1].version}`)).text).toBe('BBB');
  });

  it('20 concurrent moves of one object to 20 destinations: exactly one wins, the object exists once', async () => {
    for (let round = 0; round < 2; round++) {
      const src = `${W}/tasks/pending/race-${round}.txt`;
      const body = `the one and only ${round}`;
      expect((await api.put(src, body)).status).toBe(201);
      const dests = Array.from({ length: 20 }, (_, i) => `${W}/tasks/done/race-${round}-${i}.txt`);
      const replies = await Promise.all(dests.map((to) => api.post('/v1/move', { from: src, to })));
      const ok = replies.filter((r) => r.status === 200);
      expect(ok, replies.map((r) => r.status).join(',')).toHaveLength(1);
      for (const r of replies) {
        if (r.status === 200) continue;
        expect([404, 409], r.text).toContain(r.status);
        expect(['not_found', 'conflict']).toContain(r.json?.error?.code);
      }
      const winner = replies.findIndex((r) => r.status === 200);
      const present = (await keysUnder('s3ws/tasks/done/')).filter((k) => k.includes(`race-${round}-`));
      expect(present).toEqual([`s3ws/tasks/done/race-${round}-${winner}.txt`]);
      expect(await objectText(`s3ws/tasks/pending/race-${round}.txt`)).toBeNull();
      expect(await objectText(present[0]!)).toBe(body);
    }
  });

  it('hostile paths are refused before they reach the bucket', async () => {
    const before = await keysUnder('');
    for (const raw of ['/v1/files/s3ws/%2e%2e/x', '/v1/files/s3ws/a/%2Fetc', '/v1/files/s3ws/.baton/versions/x', '/v1/files/s3ws/a%5cb', '/v1/files/s3ws/a/%00b']) {
      const r = await rawRequest(baton.url, raw, { method: 'PUT', token: baton.adminToken, body: 'evil' });
      expect(r.status, raw).toBe(400);
      expect(r.json?.error?.code, raw).toBe('invalid_path');
    }
    expectError(await api.get(`${W}/.baton/versions`), 400, 'invalid_path');
    expect(await keysUnder('')).toEqual(before);
  });

  it('events: each write is one event with its agent as actor', async () => {
    const evs = await allEvents(api, `${W}/outbox/hist.txt`);
    expect(evs.map((e: any) => e.event)).toEqual(['file.created', 'file.updated', 'file.updated', 'file.updated']);
    expect(evs.every((e: any) => e.actor !== 's3')).toBe(true);
  });

  it('streams a 50 MiB upload and download (multipart) with the server RSS staying bounded', async () => {
    const MiB = 1024 * 1024;
    const chunk = randomBytes(MiB);
    const upload = (path: string, mib: number) => {
      let sent = 0;
      return fetch(`${baton.url}/v1/files${path}`, {
        method: 'PUT',
        body: new ReadableStream<Uint8Array>({
          pull(ctrl) {
            if (sent++ >= mib) return ctrl.close();
            ctrl.enqueue(new Uint8Array(chunk));
          },
        }),
        headers: { authorization: `Bearer ${baton.adminToken}`, 'content-type': 'application/octet-stream' },
        duplex: 'half',
      } as RequestInit);
    };
    const download = async (path: string) => {
      const get = await fetch(`${baton.url}/v1/files${path}`, { headers: { authorization: `Bearer ${baton.adminToken}` } });
      expect(get.status).toBe(200);
      let got = 0;
      let same = true;
      for await (const c of get.body as unknown as AsyncIterable<Uint8Array>) {
        for (let i = 0; i < c.length; i += 4099) if (c[i] !== chunk[(got + i) % MiB]) same = false;
        got += c.length;
      }
      return { got, same };
    };
    // Warm up the process (its heap grows to a working size on the first transfers), then measure.
    for (let i = 0; i < 2; i++) {
      expect((await upload(`${W}/outbox/warm.bin`, 20)).status).toBeLessThan(300);
      await download(`${W}/outbox/warm.bin`);
    }
    const pid = baton.proc.pid!;
    const before = vmHWM(pid);
    const t0 = Date.now();
    const put = await upload(`${W}/outbox/big.bin`, 50);
    const putJson = (await put.json()) as any;
    expect(put.status, JSON.stringify(putJson)).toBe(201);
    expect(putJson.size).toBe(50 * MiB);
    const t1 = Date.now();
    const { got, same } = await download(`${W}/outbox/big.bin`);
    const t2 = Date.now();
    expect(got).toBe(50 * MiB);
    expect(same).toBe(true);
    const growth = vmHWM(pid) - before;
    console.log(`50 MiB on s3rver: PUT ${t1 - t0} ms, GET ${t2 - t1} ms, peak RSS growth ${(growth / MiB).toFixed(1)} MiB`);
    expect(growth).toBeLessThan(25 * MiB);
    expect(await keysUnder('s3ws/.baton/tmp/')).toEqual([]);
  });

  it('a body past the limit is payload_too_large and leaves nothing behind', async () => {
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(ctrl) {
        if (sent++ >= 70) return ctrl.close();
        ctrl.enqueue(new Uint8Array(1024 * 1024));
      },
    });
    const r = await fetch(`${baton.url}/v1/files${W}/outbox/too-big.bin`, {
      method: 'PUT',
      body,
      headers: { authorization: `Bearer ${baton.adminToken}` },
      duplex: 'half',
    } as RequestInit).catch((e) => e as Error);
    if (!(r instanceof Error)) {
      expect(r.status).toBe(413);
      expect(((await r.json()) as any).error.code).toBe('payload_too_large');
    }
    expect(await objectText('s3ws/outbox/too-big.bin')).toBeNull();
    // the aborted multipart upload and any staging object are gone
    await new Promise((r) => setTimeout(r, 300));
    expect(await keysUnder('s3ws/.baton/tmp/')).toEqual([]);
  });
});
