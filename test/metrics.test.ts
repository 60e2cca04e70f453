import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBaton, teardown, type TestBaton } from './helpers/baton.js';
import { client } from './helpers/http.js';
import { startRedis, type TestRedis } from './helpers/redis.js';

let redis: TestRedis;
let baton: TestBaton;

beforeAll(async () => {
  redis = await startRedis();
  baton = await startBaton({ redisUrl: redis.url });
});
afterAll(() => teardown(baton, redis));

const promtool = spawnSync('promtool', ['--version']).status === 0;

async function scrape(): Promise<string> {
  const r = await client(baton.url).call('GET', '/metrics');
  expect(r.status).toBe(200);
  return r.text;
}

describe('/metrics', () => {
  it('labels operational routes and rejected requests by their route pattern, never unmatched', async () => {
    const anon = client(baton.url);
    for (const path of ['/healthz', '/readyz', '/openapi.json', '/metrics']) expect((await anon.call('GET', path)).status).toBe(200);
    // answered by the authenticate middleware, still counted against the route it was meant for
    expect((await anon.call('GET', '/v1/keys')).status).toBe(401);
    const text = await scrape();
    const counted = (route: string, status: string) => new RegExp(`^baton_http_requests_total\\{method="GET",route="${route.replace(/[.*?/]/g, '\\$&')}",status="${status}"\\} [1-9]`, 'm');
    for (const path of ['/healthz', '/readyz', '/openapi.json', '/metrics']) expect(text).toMatch(counted(path, '200'));
    expect(text).toMatch(counted('/v1/keys', '401'));
    expect(text).not.toMatch(/route="unmatched",status="200"/);
  });

  it('has no gauge named like a counter', async () => {
    const text = await scrape();
    expect(text).not.toMatch(/^# TYPE \S+_total gauge$/m);
    expect(text).toMatch(/^# TYPE baton_nodejs_active_resources gauge$/m);
  });

  it.runIf(promtool)('passes promtool check metrics', async () => {
    const text = await scrape();
    const r = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
    expect(r.stdout + r.stderr).toBe('');
    expect(r.status).toBe(0);
  });
});
