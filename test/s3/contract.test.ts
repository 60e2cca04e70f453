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

  // The precondition rules (and the one-winner race s3rver cannot arbitrate) are in the storage
  // contract; here only how the headers are read and what a refusal looks like.
  it('If-None-Match: * is 201 then 412; If-Match takes the quoted or the bare etag', async () => {
    expect((await api.put(`${W}/outbox/inm.txt`, 'orig', { 'if-none-match': '*' })).status).toBe(201);
    expectError(await api.put(`${W}/outbox/inm.txt`, 'other', { 'if-none-match': '*' }), 412, 'precondition_failed');
    const c = await api.put(`${W}/outbox/cas.txt`, 'v1');
    const q = await api.put(`${W}/outbox/cas.txt`, 'v2', { 'if-match': `"${c.json.etag}"` });
    expect(q.status).toBe(200);
    expect((await api.put(`${W}/outbox/cas.txt`, 'v3', { 'if-match': q.json.etag })).status).toBe(200);
  });

  it('DELETE is 200, then 404; a stale If-Match is 412; a restore answers with the ETag GET then shows', async () => {
    const v1 = await api.put(`${W}/inbox/del/only.txt`, 'first', { 'content-type': 'text/plain' });
    await api.put(`${W}/inbox/del/only.txt`, 'second', { 'content-type': 'text/plain' });
    expectError(await api.del(`${W}/inbox/del/only.txt`, { 'if-match': `"${v1.json.etag}"` }), 412, 'precondition_failed');
    expect((await api.del(`${W}/inbox/del/only.txt`)).status).toBe(200);
    expectError(await api.get(`${W}/inbox/del/only.txt`), 404, 'not_found');
    expectError(await api.del(`${W}/inbox/del/only.txt`), 404, 'not_found');
    const r = await api.post('/v1/restore', { path: `${W}/inbox/del/only.txt`, version: v1.json.version });
    expect([200, 201]).toContain(r.status);
    expect(r.json).toMatchObject({ path: `${W}/inbox/del/only.txt`, size: 5 });
    const g = await api.get(`${W}/inbox/del/only.txt`);
    expect(g.status).toBe(200);
    expect(g.headers.get('etag')).toBe(`"${r.json.etag}"`);
  });

  it('versions: {version,etag,size,mimeType,time,actor,deleted} with the key\'s agent as actor; ?version=N has its ETag; copies under .baton/versions', async () => {
    const versioner = client(baton.url, (await createKey(baton.url, baton.adminToken, { agent: 'versioner', grants: [`write:${W}/outbox/**`, `read:${W}/**`] })).key);
    const puts = [];
    for (const body of ['v-one', 'v-two!']) puts.push(await api.put(`${W}/outbox/hist.txt`, body, { 'content-type': 'text/plain' }));
    puts.push(await versioner.put(`${W}/outbox/hist.txt`, 'v-three!!', { 'content-type': 'text/plain' }));
    expect(puts.map((p) => p.status)).toEqual([201, 200, 200]);
    const l = await api.call('GET', `/v1/versions${W}/outbox/hist.txt`);
    expect(l.status).toBe(200);
    const vs = l.json.versions as any[];
    expect(vs).toHaveLength(3);
    expect(vs[0]).toMatchObject({ version: 3, etag: puts[2]!.json.etag, size: 9, mimeType: 'text/plain', time: expect.any(String), actor: 'agent:versioner', deleted: false });
    const old = await api.get(`${W}/outbox/hist.txt?version=1`);
    expect(old.status).toBe(200);
    expect(old.headers.get('etag')).toBe(`"${puts[0]!.json.etag}"`);
    const r = await api.post('/v1/restore', { path: `${W}/outbox/hist.txt`, version: 1 });
    expect(r.status).toBe(200);
    // the kept copies live under the prefix's .baton/, which no listing shows
    expect((await keysUnder('s3ws/.baton/versions/')).some((k) => /\/v[123]$/.test(k))).toBe(true);
  });

  it('lists a folder as {entries:[{path,type,size,etag,mimeType}],cursor}; the root shows the declared folders', async () => {
    await api.put(`${W}/outbox/list/a.txt`, 'a', { 'content-type': 'text/plain' });
    await api.put(`${W}/outbox/list/sub/c.txt`, 'ccc');
    const l = await api.list(`${W}/outbox/list`);
    expect(l.status).toBe(200);
    expect(l.json.cursor).toBeNull();
    expect(l.json.entries.map((e: any) => [e.path, e.type])).toEqual([
      [`${W}/outbox/list/a.txt`, 'file'],
      [`${W}/outbox/list/sub`, 'directory'],
    ]);
    expect(l.json.entries[0]).toMatchObject({ size: 1, mimeType: 'text/plain' });
    expect(l.json.entries[0].etag).toMatch(/^[0-9a-f]{32}$/);
    const root = await api.list(W);
    expect(root.json.entries.map((e: any) => e.path)).toEqual(expect.arrayContaining([`${W}/inbox`, `${W}/outbox`, `${W}/tasks`]));
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

  // Resuming after any entry, whatever the names, is in the storage contract; here one cursor
  // round trip in S3 key order, with a folder marker made outside Baton.
  it('pages a folder in S3 key order ("a b/" < "a-b" < "a.txt" < "a/"), cursor null at the end', async () => {
    const files = ['a-b.txt', 'a.txt', 'a b/y.txt', 'a/x.txt', 'Z.txt', '~t.txt', '\u00e4.txt', 'b/c/d/e.txt'];
    for (const f of files) expect((await api.put(`${W}/inbox/odd/${f}`, f)).status, f).toBe(201);
    await sdk.send(new PutObjectCommand({ Bucket: s3.bucket, Key: 's3ws/inbox/odd/m/', Body: '' })); // an empty folder marker
    const first = await api.list(`${W}/inbox/odd`, '?limit=5');
    expect(first.status, first.text).toBe(200);
    expect(first.json.entries).toHaveLength(5);
    expect(typeof first.json.cursor).toBe('string');
    const rest = await api.list(`${W}/inbox/odd`, `?limit=5&cursor=${encodeURIComponent(first.json.cursor)}`);
    expect(rest.status, rest.text).toBe(200);
    expect(rest.json.cursor).toBeNull();
    expect([...first.json.entries, ...rest.json.entries].map((e: any) => `${e.type[0]} ${e.path}`)).toEqual(
      [
        `d ${W}/inbox/odd/a b`,
        `f ${W}/inbox/odd/a-b.txt`,
        `f ${W}/inbox/odd/a.txt`,
        `d ${W}/inbox/odd/a`,
        `d ${W}/inbox/odd/b`,
        `d ${W}/inbox/odd/m`,
        `f ${W}/inbox/odd/Z.txt`,
        `f ${W}/inbox/odd/~t.txt`,
        `f ${W}/inbox/odd/\u00e4.txt`,
      ].sort((x, y) => Buffer.compare(Buffer.from(x.slice(2) + (x[0] === 'd' ? '/' : '')), Buffer.from(y.slice(2) + (y[0] === 'd' ? '/' : '')))),
    );
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

  // What a move does to bytes and versions is in the storage contract; here the statuses and the
  // Content-Type the copy must carry.
  it('moves a file (copy + delete): 200 with the destination, its Content-Type kept; 409 and 404', async () => {
    await api.put(`${W}/inbox/mv-src.txt`, 'moving bytes', { 'content-type': 'text/plain' });
    const r = await api.post('/v1/move', { from: `${W}/inbox/mv-src.txt`, to: `${W}/outbox/mv-dst.txt` });
    expect(r.status, r.text).toBe(200);
    expect(r.json).toMatchObject({ path: `${W}/outbox/mv-dst.txt`, size: 12 });
    expect((await api.get(`${W}/outbox/mv-dst.txt`)).headers.get('content-type')).toBe('text/plain');
    await api.put(`${W}/inbox/mv-a.txt`, 'AAA');
    await api.put(`${W}/outbox/mv-b.txt`, 'BBB');
    expectError(await api.post('/v1/move', { from: `${W}/inbox/mv-a.txt`, to: `${W}/outbox/mv-b.txt` }), 409, 'conflict');
    expect((await api.post('/v1/move', { from: `${W}/inbox/mv-a.txt`, to: `${W}/outbox/mv-b.txt`, overwrite: true })).status).toBe(200);
    expectError(await api.post('/v1/move', { from: `${W}/inbox/never.txt`, to: `${W}/outbox/never.txt` }), 404, 'not_found');
  });

  it('5 concurrent moves of one object: one 200, the losers 404 not_found or 409 conflict', async () => {
    const src = `${W}/tasks/pending/race.txt`;
    expect((await api.put(src, 'the one and only')).status).toBe(201);
    const replies = await Promise.all([0, 1, 2, 3, 4].map((i) => api.post('/v1/move', { from: src, to: `${W}/tasks/done/race-${i}.txt` })));
    expect(replies.filter((r) => r.status === 200), replies.map((r) => r.status).join(',')).toHaveLength(1);
    for (const r of replies) {
      if (r.status === 200) continue;
      expect([404, 409], r.text).toContain(r.status);
      expect(r.json?.error?.code).toBe(r.status === 404 ? 'not_found' : 'conflict');
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
