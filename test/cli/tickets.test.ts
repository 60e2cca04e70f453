import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBaton, type TestBaton } from '../helpers/baton.js';
import { client, createKey } from '../helpers/http.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';
import { baton as cli } from './run.js';

let redis: TestRedis;
let server: TestBaton;
let worker: string;

beforeAll(async () => {
  redis = await startRedis();
  server = await startBaton({ redisUrl: redis.url });
  worker = (await createKey(server.url, server.adminToken, { agent: 'cli-worker', grants: ['claim:/demo/tasks/**', 'read:/demo/tasks/**'] })).key;
  const admin = client(server.url, server.adminToken);
  for (const name of ['a.md', 'b.md']) expect((await admin.put(`/demo/tasks/pending/${name}`, `task ${name}`)).status).toBe(201);
});
afterAll(async () => {
  await server?.stop();
  await redis?.stop();
});

describe('baton tickets', () => {
  it('claims, heartbeats, completes and fails tickets; a stale token exits 1 with conflict', async () => {
    const opts = { url: server.url, key: worker };
    const first = await cli(['tickets', 'claim', '/demo/tasks', '--json'], opts);
    expect(first.code).toBe(0);
    const t = first.json();
    expect(t).toMatchObject({ path: '/demo/tasks/in-progress/a.md', content: 'task a.md', attempt: 1 });

    const hb = await cli(['tickets', 'heartbeat', t.path, String(t.fencingToken), '--lease', '60'], opts);
    expect(hb.code).toBe(0);
    expect(hb.stdout).toContain('lease until');

    const stale = await cli(['tickets', 'complete', t.path, String(t.fencingToken + 100)], opts);
    expect(stale.code).toBe(1);
    expect(stale.stderr).toContain('conflict');

    const done = await cli(['tickets', 'complete', t.path, String(t.fencingToken), '--result', 'shipped'], opts);
    expect(done.code).toBe(0);
    expect(done.stdout).toContain('/demo/tasks/done/a.md');
    const result = await client(server.url, server.adminToken).get('/demo/tasks/done/a.md.result');
    expect(result.text).toBe('shipped');

    const second = (await cli(['tickets', 'claim', '/demo/tasks', '--json'], opts)).json();
    const failed = await cli(['tickets', 'fail', second.path, String(second.fencingToken), '--reason', 'bad input'], opts);
    expect(failed.code).toBe(0);
    expect(failed.stdout).toContain('/demo/tasks/failed/b.md');

    const empty = await cli(['tickets', 'claim', '/demo/tasks'], opts);
    expect(empty.code).toBe(3);
    expect(empty.stdout).toContain('queue is empty');
    expect((await cli(['tickets', 'claim', '/demo/tasks', '--json'], opts)).json()).toEqual({ ticket: null });
  });
});
