import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBaton, teardown, type TestBaton } from '../helpers/baton.js';
import { client, createKey } from '../helpers/http.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';

// Two replicas on one Redis: each holds key records in process, so these tests check that a
// change made through one is seen by the other on its very next request.
let redis: TestRedis;
let a: TestBaton;
let b: TestBaton;
let direct: Redis;

beforeAll(async () => {
  redis = await startRedis();
  const adminToken = 'admin-key-cache';
  [a, b] = await Promise.all([startBaton({ redisUrl: redis.url, adminToken }), startBaton({ redisUrl: redis.url, adminToken })]);
  direct = new Redis(redis.url);
}, 60_000);

afterAll(async () => {
  direct?.disconnect();
  await teardown(b, undefined);
  await teardown(a, redis);
});

/** Authenticated but absent is 404; an unknown or revoked key is 401. */
const probe = async (base: string, key: string) => (await client(base, key).get('/demo/nothing-here.txt')).status;

describe('key records held in process', () => {
  it('a key revoked through one replica fails on the next request to the other', async () => {
    for (let round = 0; round < 5; round++) {
      const k = await createKey(a.url, a.adminToken, { agent: `cache-${round}`, grants: ['read:/demo/**'] });
      // Warm both replicas' caches.
      for (let i = 0; i < 3; i++) {
        expect(await probe(a.url, k.key)).toBe(404);
        expect(await probe(b.url, k.key)).toBe(404);
      }
      expect((await client(a.url, a.adminToken).call('DELETE', `/v1/keys/${k.id}`)).status).toBe(200);
      expect(await probe(b.url, k.key)).toBe(401);
      expect(await probe(a.url, k.key)).toBe(401);
    }
  });

  it('a change whose message is lost while the subscription is down is still seen', async () => {
    const k = await createKey(a.url, a.adminToken, { agent: 'cache-lost', grants: ['read:/demo/**'] });
    for (let i = 0; i < 3; i++) expect(await probe(b.url, k.key)).toBe(404);
    // Cut every pub/sub connection, then revoke behind Baton's back: no message is ever sent.
    await direct.client('KILL', 'TYPE', 'pubsub');
    const h = await direct.get(`baton:key:byid:${k.id}`);
    const rec = JSON.parse((await direct.get(`baton:key:byhash:${h}`))!);
    await direct.set(`baton:key:byhash:${h}`, JSON.stringify({ ...rec, revokedAt: new Date().toISOString() }));
    expect(await probe(b.url, k.key)).toBe(401);
    expect(await probe(a.url, k.key)).toBe(401);
  });

  it('after the subscription is back, revocations are seen again', async () => {
    const k = await createKey(a.url, a.adminToken, { agent: 'cache-back', grants: ['read:/demo/**'] });
    await new Promise((r) => setTimeout(r, 500));
    for (let i = 0; i < 3; i++) expect(await probe(b.url, k.key)).toBe(404);
    expect((await client(a.url, a.adminToken).call('DELETE', `/v1/keys/${k.id}`)).status).toBe(200);
    expect(await probe(b.url, k.key)).toBe(401);
  });
});

describe('subscriptions held in process', () => {
  it('a subscription removed through one replica gets nothing more from writes through the other', async () => {
    const got: string[] = [];
    const rx = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        got.push((JSON.parse(body) as { path: string }).path);
        res.end('ok');
      });
    });
    await new Promise<void>((r) => rx.listen(0, '127.0.0.1', r));
    try {
      const k = await createKey(a.url, a.adminToken, { agent: 'sub-cache', grants: ['read:/demo/**', 'write:/demo/**', 'subscribe:/demo/**'] });
      const sub = await client(a.url, k.key).post('/v1/subscriptions', { url: `http://127.0.0.1:${(rx.address() as AddressInfo).port}/hook`, paths: ['/demo/subcache/**'] });
      expect(sub.status).toBe(201);
      expect((await client(b.url, k.key).put('/demo/subcache/one.txt', 'x')).status).toBe(201);
      for (let i = 0; i < 100 && !got.includes('/demo/subcache/one.txt'); i++) await new Promise((r) => setTimeout(r, 50));
      expect(got).toContain('/demo/subcache/one.txt');
      expect((await client(a.url, k.key).call('DELETE', `/v1/subscriptions/${sub.json.id}`)).status).toBeLessThan(300);
      expect((await client(b.url, k.key).put('/demo/subcache/two.txt', 'x')).status).toBe(201);
      await new Promise((r) => setTimeout(r, 1500));
      expect(got).not.toContain('/demo/subcache/two.txt');
    } finally {
      rx.close();
    }
  });
});
