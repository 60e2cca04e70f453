import { createHash } from 'node:crypto';
import { DeleteObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeDir, startBaton, type TestBaton } from '../helpers/baton.js';
import { allEvents, type Ev } from '../helpers/events.js';
import { client } from '../helpers/http.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';
import { S3RVER_ENV, startS3rver, type TestS3 } from '../helpers/s3rver.js';

/*
 * Objects that change in the bucket without Baton (another tool's PUT or DELETE) are reported
 * with actor `s3`, exactly once, even with two `baton serve` replicas on the same Redis and
 * bucket; Baton's own writes are never re-reported.
 */
let redis: TestRedis;
let s3: TestS3;
let a: TestBaton;
let b: TestBaton;
let sdk: S3Client;
let apiA: ReturnType<typeof client>;
let apiB: ReturnType<typeof client>;

const ADMIN = 'admin-reconcile-test';
let yaml = '';

beforeAll(async () => {
  [redis, s3] = await Promise.all([startRedis(), startS3rver()]);
  sdk = s3.client();
  yaml = s3.workspaceYaml('lake', { prefix: 'lake/', reconcileSeconds: 1, folders: ['in'] });
  const start = () => startBaton({ redisUrl: redis.url, adminToken: ADMIN, workspaces: { 'lake.yaml': yaml }, env: S3RVER_ENV });
  [a, b] = await Promise.all([start(), start()]);
  apiA = client(a.url, ADMIN);
  apiB = client(b.url, ADMIN);
});
afterAll(async () => {
  await Promise.all([a?.stop(), b?.stop()]);
  await Promise.all([redis?.stop(), s3?.destroy()]);
  for (const x of [a, b]) {
    if (!x) continue;
    removeDir(x.dataDir);
    removeDir(x.workspacesDir);
  }
});

const put = (key: string, body: string, extra: Partial<ConstructorParameters<typeof PutObjectCommand>[0]> = {}) =>
  sdk.send(new PutObjectCommand({ Bucket: s3.bucket, Key: key, Body: body, ...extra }));

async function eventsFor(api: ReturnType<typeof client>, path: string): Promise<Ev[]> {
  return allEvents(api, path);
}

/** Wait until `path` has at least `n` events, then a little longer to catch any duplicate. */
async function settle(path: string, n: number, timeoutMs = 15_000): Promise<Ev[]> {
  const deadline = Date.now() + timeoutMs;
  let evs: Ev[] = [];
  while (Date.now() < deadline) {
    evs = await eventsFor(apiA, path);
    if (evs.length >= n) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  // both replicas reconcile every second: give a duplicate every chance to appear
  await new Promise((r) => setTimeout(r, 3_000));
  return eventsFor(apiB, path);
}

describe('changes made straight in the bucket', () => {
  it('an object put with the AWS SDK is one file.created with actor s3, seen by both replicas', async () => {
    await put('lake/in/dropped.md', '# from another tool\n', { ContentType: 'text/markdown' });
    const evs = await settle('/lake/in/dropped.md', 1);
    expect(evs.map((e) => [e.event, e.actor])).toEqual([['file.created', 's3']]);
    expect(evs[0]).toMatchObject({ workspaceId: 'ws_lake', path: '/lake/in/dropped.md', size: 20, mimeType: 'text/markdown', version: 1 });
    expect(evs[0].etag).toMatch(/^[0-9a-f]{32}$/);
    // the same event on the other replica, and the file is readable through either
    expect((await eventsFor(apiA, '/lake/in/dropped.md')).map((e) => e.id)).toEqual(evs.map((e) => e.id));
    const g = await apiB.get('/lake/in/dropped.md');
    expect(g.text).toBe('# from another tool\n');
    expect(g.headers.get('etag')).toBe(`"${evs[0].etag}"`);
  });

  it('an overwrite and a delete in the bucket are one file.updated and one file.deleted (actor s3), listed as versions', async () => {
    await put('lake/in/changing.txt', 'one');
    await settle('/lake/in/changing.txt', 1);
    await put('lake/in/changing.txt', 'two, longer');
    await settle('/lake/in/changing.txt', 2);
    await sdk.send(new DeleteObjectCommand({ Bucket: s3.bucket, Key: 'lake/in/changing.txt' }));
    const evs = await settle('/lake/in/changing.txt', 3);
    expect(evs.map((e) => [e.event, e.actor])).toEqual([
      ['file.created', 's3'],
      ['file.updated', 's3'],
      ['file.deleted', 's3'],
    ]);
    expect(evs[1]).toMatchObject({ size: 11, version: 2 });
    const vs = (await apiA.call('GET', '/v1/versions/lake/in/changing.txt')).json.versions as any[];
    expect(vs.map((v) => [v.version, v.actor, v.deleted])).toEqual([
      [3, 's3', true],
      [2, 's3', false],
      [1, 's3', false],
    ]);
  });

  it("Baton's own writes, moves and deletes are reported once, with their agent, never again as s3", async () => {
    expect((await apiA.put('/lake/in/mine.txt', 'by baton')).status).toBe(201);
    expect((await apiB.put('/lake/in/mine.txt', 'by baton, again')).status).toBe(200);
    expect((await apiA.post('/v1/move', { from: '/lake/in/mine.txt', to: '/lake/in/moved.txt' })).status).toBe(200);
    expect((await apiB.del('/lake/in/moved.txt')).status).toBe(200);
    await new Promise((r) => setTimeout(r, 3_000));
    const byId = new Map<string, Ev>();
    for (const e of [...(await eventsFor(apiA, '/lake/in/mine.txt')), ...(await eventsFor(apiA, '/lake/in/moved.txt'))]) byId.set(e.id, e);
    const evs = [...byId.values()].sort((x, y) => x.seq - y.seq);
    expect(evs.map((e) => [e.event, e.path, e.actor])).toEqual([
      ['file.created', '/lake/in/mine.txt', 'admin'],
      ['file.updated', '/lake/in/mine.txt', 'admin'],
      ['file.moved', '/lake/in/moved.txt', 'admin'],
      ['file.deleted', '/lake/in/moved.txt', 'admin'],
    ]);
  });

  it('20 concurrent moves of one object, split across both replicas: exactly one wins, one file.moved', async () => {
    expect((await apiA.put('/lake/in/contested.txt', 'only one may take me')).status).toBe(201);
    const replies = await Promise.all(
      Array.from({ length: 20 }, (_, i) => (i % 2 ? apiA : apiB).post('/v1/move', { from: '/lake/in/contested.txt', to: `/lake/in/taken-${i}.txt` })),
    );
    const winners = replies.map((r, i) => [r.status, i] as const).filter(([st]) => st === 200);
    expect(winners, replies.map((r) => r.status).join(',')).toHaveLength(1);
    for (const r of replies) if (r.status !== 200) expect(['not_found', 'conflict']).toContain(r.json?.error?.code);
    const i = winners[0]![1];
    expect((await apiB.get(`/lake/in/taken-${i}.txt`)).text).toBe('only one may take me');
    expect((await apiA.get('/lake/in/contested.txt')).status).toBe(404);
    const listed = (await apiA.list('/lake/in')).json.entries.map((e: any) => e.path).filter((p: string) => /taken-|contested/.test(p));
    expect(listed).toEqual([`/lake/in/taken-${i}.txt`]);
    await new Promise((r) => setTimeout(r, 2_000));
    const moved = (await eventsFor(apiA, '/lake/in/taken-*.txt')).filter((e) => e.event === 'file.moved');
    expect(moved.map((e) => [e.path, e.from, e.actor])).toEqual([[`/lake/in/taken-${i}.txt`, '/lake/in/contested.txt', 'admin']]);
  });

  it('a write cut short before its event (object stamped by Baton, no event) is reported with its agent, not s3', async () => {
    const stamp = { 'baton-path': createHash('sha256').update('in/crashed.txt').digest('hex').slice(0, 32), 'baton-version': '1', 'baton-actor': 'agent%3Awriter' };
    await put('lake/in/crashed.txt', 'written, never announced', { Metadata: stamp, ContentType: 'text/plain' });
    const evs = await settle('/lake/in/crashed.txt', 1);
    expect(evs.map((e) => [e.event, e.actor, e.version])).toEqual([['file.created', 'agent:writer', 1]]);
  });

  it('objects that arrive while every replica is down are reported once when one comes back', async () => {
    await Promise.all([a.stop(), b.stop()]);
    await put('lake/in/while-down.txt', 'nobody was watching');
    a = await startBaton({ redisUrl: redis.url, adminToken: ADMIN, workspacesDir: a.workspacesDir, dataDir: a.dataDir, env: S3RVER_ENV });
    b = await startBaton({ redisUrl: redis.url, adminToken: ADMIN, workspacesDir: b.workspacesDir, dataDir: b.dataDir, env: S3RVER_ENV });
    apiA = client(a.url, ADMIN);
    apiB = client(b.url, ADMIN);
    const evs = await settle('/lake/in/while-down.txt', 1);
    expect(evs.map((e) => [e.event, e.actor])).toEqual([['file.created', 's3']]);
    // and nothing reported before is reported again
    expect((await eventsFor(apiA, '/lake/in/dropped.md')).length).toBe(1);
  });

  it('keys Baton cannot address, folder markers and .baton metadata produce no events', async () => {
    await put('lake/in/bad\\name.txt', 'x');
    await put('lake/in/newdir/', '');
    await put('lake/.baton/not-a-file', 'x');
    await new Promise((r) => setTimeout(r, 3_000));
    const all = await eventsFor(apiA, '/lake/**');
    expect(all.filter((e) => /bad|newdir|\.baton/.test(e.path))).toEqual([]);
    // the marker is a folder to Baton
    const l = await apiA.list('/lake/in');
    expect(l.json.entries.filter((e: any) => e.path === '/lake/in/newdir').map((e: any) => e.type)).toEqual(['directory']);
  });
});
