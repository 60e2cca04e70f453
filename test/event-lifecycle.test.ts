import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBaton, type TestBaton } from './helpers/baton.js';
import { client } from './helpers/http.js';
import { startRedis, type TestRedis } from './helpers/redis.js';

let redis: TestRedis;
let baton: TestBaton;

beforeAll(async () => {
  redis = await startRedis();
  // 0.0005 h = 1.8 s of retention; the trimmer runs every tenth of it (at least once a second).
  baton = await startBaton({ redisUrl: redis.url, env: { BATON_EVENT_RETENTION_HOURS: '0.0005' } });
});
afterAll(async () => {
  await baton?.stop();
  await redis?.stop();
});

describe('event retention', () => {
  it('drops events older than BATON_EVENT_RETENTION_HOURS and keeps newer ones', async () => {
    const api = client(baton.url, baton.adminToken);
    await api.put('/demo/inbox/old.txt', 'old');
    const before = await api.call('GET', '/v1/events?after=0&path=/demo/inbox/**');
    expect(before.json.events.map((e: { path: string }) => e.path)).toContain('/demo/inbox/old.txt');
    const deadline = Date.now() + 15_000;
    let paths: string[] = ['/demo/inbox/old.txt'];
    while (paths.includes('/demo/inbox/old.txt') && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 500));
      await api.put('/demo/inbox/new.txt', String(Date.now()));
      paths = (await api.call('GET', '/v1/events?after=0&path=/demo/inbox/**')).json.events.map((e: { path: string }) => e.path);
    }
    expect(paths).not.toContain('/demo/inbox/old.txt');
    expect(paths).toContain('/demo/inbox/new.txt');
  });
});

describe('revocation of an open stream', () => {
  it('ends an SSE stream whose key is revoked, with an unauthorized error frame', async () => {
    const { createKey } = await import('./helpers/http.js');
    const { id, key } = await createKey(baton.url, baton.adminToken, { agent: 'streamer', grants: ['read:/demo/**'] });
    const res = await fetch(`${baton.url}/v1/events/stream?path=/demo/**`, { headers: { authorization: `Bearer ${key}` } });
    const reader = res.body!.getReader();
    let text = '';
    const readUntil = async (needle: string) => {
      const deadline = Date.now() + 15_000;
      while (!text.includes(needle) && Date.now() < deadline) {
        const { value, done } = await reader.read();
        if (done) break;
        text += new TextDecoder().decode(value);
      }
    };
    await readUntil('event: ready');
    const api = client(baton.url, baton.adminToken);
    await api.put('/demo/inbox/seen.txt', '1');
    await readUntil('seen.txt');
    expect(text).toContain('seen.txt');
    expect((await api.call('DELETE', `/v1/keys/${id}`)).status).toBe(200);
    await api.put('/demo/inbox/unseen.txt', '2');
    await readUntil('event: error');
    expect(text).toContain('"code":"unauthorized"');
    expect(text).not.toContain('unseen.txt');
  });
});
