import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeDir, startBaton, type TestBaton } from '../helpers/baton.js';
import { client } from '../helpers/http.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';
import { S3RVER_ENV, startS3rver, type TestS3 } from '../helpers/s3rver.js';

/*
 * The bucket goes away (s3rver stopped: connections refused) and comes back on the same port:
 * its workspace answers `unavailable` with a message that says why, /readyz is 503 naming it,
 * other workspaces keep serving, and everything works again once the bucket is back.
 */
let redis: TestRedis;
let s3: TestS3;
let baton: TestBaton;
let api: ReturnType<typeof client>;

beforeAll(async () => {
  [redis, s3] = await Promise.all([startRedis(), startS3rver()]);
  baton = await startBaton({
    redisUrl: redis.url,
    workspaces: { 'cloud.yaml': s3.workspaceYaml('cloud', { folders: ['in'] }), 'disk.yaml': 'name: disk\nfolders: [in]\n' },
    env: S3RVER_ENV,
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

function expectUnavailable(r: { status: number; json: any }) {
  expect(r.status, JSON.stringify(r.json)).toBe(503);
  expect(r.json?.error?.code).toBe('unavailable');
  expect(r.json?.error?.message).toMatch(/workspace cloud: S3 bucket baton-test .*unreachable/);
}

describe('the bucket goes away and comes back', () => {
  it('serves, then answers unavailable (503) and /readyz 503 per workspace, then recovers on the same port', async () => {
    expect((await api.put('/cloud/in/before.txt', 'kept')).status).toBe(201);
    const ready = await client(baton.url).call('GET', '/readyz');
    expect(ready.status).toBe(200);
    expect(ready.json).toMatchObject({ ok: true, workspaces: { cloud: 'ok', disk: 'ok' } });

    await s3.stop();
    const t0 = Date.now();
    expectUnavailable(await api.put('/cloud/in/during.txt', 'x'));
    expect(Date.now() - t0, 'a refused connection is answered promptly').toBeLessThan(10_000);
    expectUnavailable(await api.get('/cloud/in/before.txt'));
    expect((await api.head('/cloud/in/before.txt')).status).toBe(503);
    expectUnavailable(await api.list('/cloud/in'));
    expectUnavailable(await api.del('/cloud/in/before.txt'));
    expectUnavailable(await api.post('/v1/move', { from: '/cloud/in/before.txt', to: '/cloud/in/after.txt' }));
    expectUnavailable(await api.call('GET', '/v1/versions/cloud/in/before.txt'));

    const down = await client(baton.url).call('GET', '/readyz');
    expect(down.status).toBe(503);
    expect(down.json.ok).toBe(false);
    expect(down.json.redis).toBe('ok');
    expect(down.json.workspaces.disk).toBe('ok');
    expect(down.json.workspaces.cloud).toMatch(/^unavailable: workspace cloud: S3 bucket baton-test/);

    // the local workspace keeps serving
    expect((await api.put('/disk/in/still.txt', 'fine')).status).toBe(201);
    expect((await api.get('/disk/in/still.txt')).text).toBe('fine');

    await s3.start();
    const deadline = Date.now() + 15_000;
    let back = await client(baton.url).call('GET', '/readyz');
    while (back.status !== 200 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 250));
      back = await client(baton.url).call('GET', '/readyz');
    }
    expect(back.status, JSON.stringify(back.json)).toBe(200);
    expect((await api.get('/cloud/in/before.txt')).text).toBe('kept');
    expect((await api.put('/cloud/in/during.txt', 'now it works')).status).toBe(201);
    expect((await api.get('/cloud/in/during.txt')).text).toBe('now it works');
    expect((await api.post('/v1/move', { from: '/cloud/in/before.txt', to: '/cloud/in/after.txt' })).status).toBe(200);
    // nothing failed half-way: no version or event was made by the refused requests
    const vs = (await api.call('GET', '/v1/versions/cloud/in/during.txt')).json.versions as any[];
    expect(vs.map((v) => v.version)).toEqual([1]);
  });

  it('a workspace whose bucket is down at start still opens, answers unavailable, and works once the bucket is up', async () => {
    await baton.stop();
    await s3.stop();
    baton = await startBaton({ redisUrl: redis.url, workspacesDir: baton.workspacesDir, dataDir: baton.dataDir, env: S3RVER_ENV, adminToken: baton.adminToken });
    api = client(baton.url, baton.adminToken);
    expectUnavailable(await api.get('/cloud/in/during.txt'));
    expect((await client(baton.url).call('GET', '/readyz')).status).toBe(503);
    await s3.start();
    const deadline = Date.now() + 15_000;
    let r = await api.get('/cloud/in/during.txt');
    while (r.status !== 200 && Date.now() < deadline) {
      await new Promise((res) => setTimeout(res, 250));
      r = await api.get('/cloud/in/during.txt');
    }
    expect(r.text).toBe('now it works');
    expect((await client(baton.url).call('GET', '/readyz')).status).toBe(200);
  });
});
