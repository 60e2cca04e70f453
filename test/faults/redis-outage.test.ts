import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBaton, teardown, type TestBaton } from '../helpers/baton.js';
import { rawRequest, sleep } from '../helpers/raw.js';
import { kill, startRedis, type TestRedis } from '../helpers/redis.js';

let redis: TestRedis;
let baton: TestBaton;

const put = (path: string, body: string) =>
  rawRequest(baton.url, `/v1/files${path}`, { method: 'PUT', token: baton.adminToken, body, headers: { 'content-type': 'text/plain' } });

beforeAll(async () => {
  redis = await startRedis();
  baton = await startBaton({ redisUrl: redis.url });
});
afterAll(() => teardown(baton, redis));

describe('Redis killed, then back', () => {
  it('answers 503 unavailable with Retry-After while Redis is down, does nothing, and recovers without a restart', async () => {
    expect((await put('/demo/inbox/before.txt', 'before')).status).toBe(201);

    await kill(redis.proc, 'SIGKILL');
    // Until Baton's connection sees the close, a request may start and land (its answer then says
    // it may have happened); once /readyz reports the outage, refusals must come before any change.
    for (let i = 0; i < 100 && (await rawRequest(baton.url, '/readyz')).status !== 503; i++) await sleep(50);
    // Writes, reads and MCP all refuse the same way; health stays answerable.
    const refused = [
      await put('/demo/inbox/during.txt', 'during'),
      await rawRequest(baton.url, '/v1/files/demo/inbox/before.txt', { token: baton.adminToken }),
      await rawRequest(baton.url, '/v1/list/demo/inbox', { token: baton.adminToken }),
    ];
    for (const r of refused) {
      expect(r.status).toBe(503);
      expect(r.json.error.code).toBe('unavailable');
      expect(r.headers.get('retry-after')).toBe('1');
    }
    expect((await rawRequest(baton.url, '/readyz')).status).toBe(503);
    expect(existsSync(join(baton.dataDir, 'demo', 'inbox', 'during.txt'))).toBe(false);

    await redis.restart();
    let after = await put('/demo/inbox/after.txt', 'after');
    for (let i = 0; i < 100 && after.status === 503; i++) {
      await sleep(100);
      after = await put('/demo/inbox/after.txt', 'after');
    }
    expect(after.status).toBe(201);

    // Both acknowledged writes kept their events (Redis runs with appendfsync always here).
    const events = await rawRequest(baton.url, '/v1/events?after=0&path=/demo/inbox/**', { token: baton.adminToken });
    const paths = events.json.events.map((e: { path: string }) => e.path);
    expect(paths).toContain('/demo/inbox/before.txt');
    expect(paths).toContain('/demo/inbox/after.txt');
    expect(paths).not.toContain('/demo/inbox/during.txt');
    const lost = ['/demo/inbox/before.txt', '/demo/inbox/after.txt'].filter((p) => !paths.includes(p)).length;
    console.log(`Redis outage: acknowledged 2, lost ${lost}, refused while down ${refused.filter((r) => r.status === 503).length} of ${refused.length} (503), 5xx other than 503: ${refused.filter((r) => r.status >= 500 && r.status !== 503).length}`);
  });
});
