import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBaton, type TestBaton } from './helpers/baton.js';
import { client } from './helpers/http.js';
import { startRedis, type TestRedis } from './helpers/redis.js';

let redis: TestRedis;
let baton: TestBaton;

beforeAll(async () => {
  redis = await startRedis();
  baton = await startBaton({ redisUrl: redis.url });
});
afterAll(async () => {
  await baton?.stop();
  await redis?.stop();
});

describe('baton serve', () => {
  it('writes and reads a file through the API', async () => {
    const api = client(baton.url, baton.adminToken);
    const put = await api.put('/demo/inbox/hello.md', 'hi', { 'content-type': 'text/markdown' });
    expect(put.status).toBe(201);
    expect(put.json).toMatchObject({ path: '/demo/inbox/hello.md', size: 2, version: 1, mimeType: 'text/markdown' });
    const get = await api.get('/demo/inbox/hello.md');
    expect(get.text).toBe('hi');
    expect(get.headers.get('etag')).toBe(`"${put.json.etag}"`);
  });
});
