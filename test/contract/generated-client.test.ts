import { readFileSync } from 'node:fs';
import createClient from 'openapi-fetch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBaton, teardown, type TestBaton } from '../helpers/baton.js';
import { Receiver, eventually } from '../helpers/receiver.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';
import type { paths } from './baton-api.js';
import { GENERATED, generateTypes } from './generate-types.js';

/**
 * The drop-off as an agent in another language would write it: a client generated from
 * /openapi.json by openapi-typescript and called through openapi-fetch. This file type-checks
 * against the generated types (npm run typecheck), so a schema change that breaks generated
 * clients breaks the build.
 */
describe('a client generated from /openapi.json', () => {
  let redis: TestRedis;
  let baton: TestBaton;
  let receiver: Receiver;

  beforeAll(async () => {
    redis = await startRedis();
    baton = await startBaton({ redisUrl: redis.url });
    receiver = await Receiver.start();
  });
  afterAll(async () => {
    await receiver?.close();
    await teardown(baton, redis);
  });

  it('is what openapi-typescript makes of the document today', async () => {
    expect(readFileSync(GENERATED, 'utf8'), 'run `npm run api:types`').toBe(await generateTypes());
  });

  it('does the whole drop-off: keys, put, list, events, subscribe, move, claim, complete', async () => {
    const admin = createClient<paths>({ baseUrl: baton.url, headers: { authorization: `Bearer ${baton.adminToken}` } });
    const log = (step: string, value: unknown) => console.log(`${step}: ${JSON.stringify(value)}`);

    const made = await admin.POST('/v1/keys', {
      body: { agent: 'gen-worker', grants: ['read:/demo/**', 'write:/demo/**', 'delete:/demo/inbox/**', 'claim:/demo/tasks/**', 'subscribe:/demo/**'] },
    });
    expect(made.response.status).toBe(201);
    log('keys', { id: made.data!.id, agent: made.data!.agent, key: `${made.data!.key.slice(0, 3)}…` });
    const agent = createClient<paths>({ baseUrl: baton.url, headers: { authorization: `Bearer ${made.data!.key}` } });

    const start = await agent.GET('/v1/events', { params: { query: { path: '/demo/inbox/**' } } });
    expect(start.response.status).toBe(200);

    const sub = await agent.POST('/v1/subscriptions', { body: { url: receiver.url(), paths: ['/demo/inbox/**'], events: ['file.created'] } });
    expect(sub.response.status).toBe(201);
    log('subscribe', { id: sub.data!.id, paths: sub.data!.paths });

    const put = await agent.PUT('/v1/files/{path}', {
      params: { path: { path: 'demo/inbox/gen-job.md' } },
      body: '# a job for the next agent\n',
      bodySerializer: (b: string) => b,
      headers: { 'content-type': 'text/markdown' },
    });
    expect(put.response.status).toBe(201);
    log('put', put.data);

    const listed = await agent.GET('/v1/list/{dir}', { params: { path: { dir: 'demo/inbox' } } });
    expect(listed.response.url).toBe(`${baton.url}/v1/list/demo%2Finbox`);
    expect(listed.data!.entries.map((e) => e.path)).toContain('/demo/inbox/gen-job.md');
    log('list', listed.data!.entries.map((e) => e.path));

    const events = await agent.GET('/v1/events', { params: { query: { path: '/demo/inbox/**', after: start.data!.cursor, wait: 5 } } });
    expect(events.data!.events.map((e) => `${e.event} ${e.path}`)).toEqual(['file.created /demo/inbox/gen-job.md']);
    log('events', events.data!.events.map((e) => ({ event: e.event, path: e.path, seq: e.seq })));

    await eventually(async () => receiver.requests.length > 0, 10_000, 'the webhook delivery');
    log('webhook', receiver.requests.map((r) => (r.body as { event: string; path: string }).path));

    const moved = await agent.POST('/v1/move', { body: { from: '/demo/inbox/gen-job.md', to: '/demo/tasks/pending/gen-job.md' } });
    expect(moved.response.status).toBe(200);
    log('move', { from: moved.data!.from, path: moved.data!.path });

    const claimed = await agent.POST('/v1/tickets/claim', { body: { queue: '/demo/tasks', leaseSeconds: 60 } });
    expect(claimed.response.status).toBe(200);
    expect(claimed.data!.content).toBe('# a job for the next agent\n');
    log('claim', { path: claimed.data!.path, fencingToken: claimed.data!.fencingToken, attempt: claimed.data!.attempt });

    const done = await agent.POST('/v1/tickets/complete', { body: { path: claimed.data!.path, fencingToken: claimed.data!.fencingToken, result: 'done' } });
    expect(done.response.status).toBe(200);
    log('complete', done.data);

    const stale = await agent.POST('/v1/tickets/complete', { body: { path: claimed.data!.path, fencingToken: claimed.data!.fencingToken } });
    expect(stale.response.status).toBe(409);
    expect(stale.error!.error.code).toBe('conflict');
  });
});
