import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBaton, teardown, type TestBaton } from '../helpers/baton.js';
import { allEvents } from '../helpers/events.js';
import { client, createKey, type Reply } from '../helpers/http.js';
import { poll, sleep } from '../helpers/raw.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';

let redis: TestRedis;
let baton: TestBaton;
let admin: ReturnType<typeof client>;

const onDisk = (p: string) => join(baton.dataDir, p.replace(/^\//, ''));

beforeAll(async () => {
  redis = await startRedis();
  baton = await startBaton({ redisUrl: redis.url, env: { BATON_MAX_CAUSATION_DEPTH: '3' } });
  admin = client(baton.url, baton.adminToken);
});
afterAll(() => teardown(baton, redis));

function refused(r: Reply, status: number, code: string): void {
  expect(r.status, r.text).toBe(status);
  expect(r.json?.error?.code, r.text).toBe(code);
}

/** A key created with the admin token, with optional `limits`; a client bound to it. */
async function keyWith(agent: string, grants: string[], limits?: Record<string, number>, human = false) {
  const r = await admin.post('/v1/keys', { agent, grants, human, ...(limits ? { limits } : {}) });
  expect(r.status, r.text).toBe(201);
  return client(baton.url, r.json.key as string);
}

describe('gates', () => {
  it('a non-human key with write on the workspace cannot create, overwrite or move into the gate; a human key can', async () => {
    const all = ['read:/demo/**', 'write:/demo/**', 'delete:/demo/**'];
    const agent = client(baton.url, (await createKey(baton.url, baton.adminToken, { agent: 'drafter', grants: all })).key);
    const human = client(baton.url, (await createKey(baton.url, baton.adminToken, { agent: 'editor', grants: all, human: true })).key);
    expect((await admin.put('/demo/approved/existing.md', 'signed off')).status).toBe(201);
    expect((await agent.put('/demo/drafts/post.md', 'draft')).status).toBe(201);

    refused(await agent.put('/demo/approved/new.md', 'sneaking in'), 403, 'forbidden');
    expect(existsSync(onDisk('/demo/approved/new.md'))).toBe(false);
    refused(await agent.put('/demo/approved/sub/deeper.md', 'sneaking in deeper'), 403, 'forbidden');
    expect(existsSync(onDisk('/demo/approved/sub/deeper.md'))).toBe(false);
    refused(await agent.put('/demo/approved/existing.md', 'overwritten'), 403, 'forbidden');
    expect(readFileSync(onDisk('/demo/approved/existing.md'), 'utf8')).toBe('signed off');
    refused(await agent.post('/v1/move', { from: '/demo/drafts/post.md', to: '/demo/approved/post.md' }), 403, 'forbidden');
    expect(existsSync(onDisk('/demo/approved/post.md'))).toBe(false);
    expect(readFileSync(onDisk('/demo/drafts/post.md'), 'utf8')).toBe('draft');
    // a folder that merely starts with the gate's name is not the gate
    expect((await agent.put('/demo/approved-later/x.md', 'not gated')).status).toBe(201);
    // reading and deleting in the gate are not what it guards
    expect((await agent.get('/demo/approved/existing.md')).status).toBe(200);

    const created = await human.put('/demo/approved/new.md', 'approved by a human');
    expect(created.status, created.text).toBe(201);
    const overwritten = await human.put('/demo/approved/existing.md', 'signed off again');
    expect(overwritten.status, overwritten.text).toBe(200);
    const moved = await human.post('/v1/move', { from: '/demo/drafts/post.md', to: '/demo/approved/post.md' });
    expect(moved.status, moved.text).toBe(200);
    expect(readFileSync(onDisk('/demo/approved/post.md'), 'utf8')).toBe('draft');
    const evs = await allEvents(admin, '/demo/approved/**');
    const byHuman = evs.filter((e) => e.path === '/demo/approved/post.md' && e.event === 'file.moved');
    expect(byHuman.length).toBe(1);
    expect(byHuman[0].actor).toBe('human:editor');
    // nothing the agent tried left an event in the gate
    expect(evs.filter((e) => String(e.actor).includes('drafter'))).toEqual([]);
  });

  it('a signer key with read:/demo/approved/** reads approved files and nothing else', async () => {
    expect((await admin.put('/demo/approved/contract.md', 'final text')).status).toBeLessThan(300);
    expect((await admin.put('/demo/drafts/contract.md', 'draft text')).status).toBeLessThan(300);
    const signer = client(baton.url, (await createKey(baton.url, baton.adminToken, { agent: 'signer', grants: ['read:/demo/approved/**'] })).key);
    const got = await signer.get('/demo/approved/contract.md');
    expect(got.status, got.text).toBe(200);
    expect(got.text).toBe('final text');
    const listed = await signer.list('/demo/approved');
    expect(listed.status, listed.text).toBe(200);
    expect(listed.json.entries.map((e: { path: string }) => e.path)).toContain('/demo/approved/contract.md');
    refused(await signer.get('/demo/drafts/contract.md'), 403, 'forbidden');
    refused(await signer.get('/demo/approved-later/x.md'), 403, 'forbidden');
    refused(await signer.put('/demo/approved/contract.md', 'forged'), 403, 'forbidden');
    refused(await signer.del('/demo/approved/contract.md'), 403, 'forbidden');
    expect(readFileSync(onDisk('/demo/approved/contract.md'), 'utf8')).toBe('final text');
  });
});

describe('causation (BATON_MAX_CAUSATION_DEPTH=3)', () => {
  it('each write caused by the previous one is one level deeper; past the limit it is refused and changes nothing', async () => {
    const agent = client(baton.url, (await createKey(baton.url, baton.adminToken, { agent: 'echo', grants: ['read:/demo/**', 'write:/demo/**'] })).key);
    const eventOf = async (path: string) => {
      const evs = (await allEvents(admin, path)).filter((e) => e.path === path);
      expect(evs.length, path).toBe(1);
      return evs[0];
    };
    // a request without the header: depth 0, no causation recorded
    expect((await agent.put('/demo/inbox/hop0.md', 'hop 0')).status).toBe(201);
    const e0 = await eventOf('/demo/inbox/hop0.md');
    expect(e0.causation?.depth ?? 0).toBe(0);
    expect(e0.causation?.eventId).toBeUndefined();

    let cause = e0;
    for (const depth of [1, 2, 3]) {
      const p = `/demo/inbox/hop${depth}.md`;
      const r = await agent.put(p, `hop ${depth}`, { 'Baton-Causation': cause.id });
      expect(r.status, r.text).toBe(201);
      const e = await eventOf(p);
      expect(e.causation).toEqual({ eventId: cause.id, depth });
      cause = e;
    }
    // the 4th caused write would be depth 4 > 3
    const p4 = '/demo/inbox/hop4.md';
    const r4 = await agent.put(p4, 'hop 4', { 'Baton-Causation': cause.id });
    refused(r4, 409, 'conflict');
    expect(existsSync(onDisk(p4))).toBe(false);
    expect((await admin.get(p4)).status).toBe(404);
    expect((await allEvents(admin, p4)).length).toBe(0);
    // nor may it change an existing file, or move one
    const r5 = await agent.put('/demo/inbox/hop0.md', 'rewritten by a loop', { 'Baton-Causation': cause.id });
    refused(r5, 409, 'conflict');
    expect(readFileSync(onDisk('/demo/inbox/hop0.md'), 'utf8')).toBe('hop 0');
    // the same agent without the header is not limited
    expect((await agent.put('/demo/inbox/fresh.md', 'fresh')).status).toBe(201);
    expect((await eventOf('/demo/inbox/fresh.md')).causation?.depth ?? 0).toBe(0);
  });
});

describe('rate limits', () => {
  it('requestsPerSecond 2, burst 2: a quick burst of reads gets 429 rate_limited with Retry-After, then succeeds after waiting', async () => {
    expect((await admin.put('/demo/outbox/rl.md', 'x')).status).toBeLessThan(300);
    const k = await keyWith('burster', ['read:/demo/**'], { requestsPerSecond: 2, burst: 2 });
    const replies: Reply[] = [];
    for (let i = 0; i < 6; i++) replies.push(await k.get('/demo/outbox/rl.md'));
    expect(replies[0]!.status).toBe(200);
    expect(replies[1]!.status).toBe(200);
    const limited = replies.filter((r) => r.status === 429);
    expect(limited.length, replies.map((r) => r.status).join(',')).toBeGreaterThanOrEqual(3);
    for (const r of limited) {
      expect(r.json?.error?.code).toBe('rate_limited');
      const after = r.headers.get('retry-after');
      expect(after, 'Retry-After').toMatch(/^\d+$/);
      expect(Number(after)).toBeGreaterThanOrEqual(1);
      expect(Number(after)).toBeLessThanOrEqual(2);
    }
    await sleep(Number(limited.at(-1)!.headers.get('retry-after')) * 1000 + 100);
    const again = await k.get('/demo/outbox/rl.md');
    expect(again.status, again.text).toBe(200);
    // a key without limits is not throttled
    const free = await keyWith('free', ['read:/demo/**']);
    for (let i = 0; i < 10; i++) expect((await free.get('/demo/outbox/rl.md')).status).toBe(200);
  });

  it('requestsPerSecond counts every request of the key: ticket claims and event reads too', async () => {
    const k = await keyWith('claim-burster', ['read:/demo/**', 'claim:/demo/**'], { requestsPerSecond: 1, burst: 1 });
    const claims: number[] = [];
    for (let i = 0; i < 5; i++) claims.push((await k.post('/v1/tickets/claim', { queue: '/demo/empty-queue' })).status);
    expect.soft(claims.filter((s) => s === 429).length, `claims: ${claims.join(',')}`).toBeGreaterThanOrEqual(3);
    await sleep(1_100);
    const reads: number[] = [];
    for (let i = 0; i < 5; i++) reads.push((await k.call('GET', '/v1/events?after=0&limit=1')).status);
    expect(reads.filter((s) => s === 429).length, `event reads: ${reads.join(',')}`).toBeGreaterThanOrEqual(3);
  });

  it('bytesPerDay 100: writes up to the quota pass, writes beyond it get 429 and write nothing', async () => {
    const k = await keyWith('quota', ['read:/demo/**', 'write:/demo/**'], { bytesPerDay: 100 });
    expect((await k.put('/demo/outbox/q1.txt', 'a'.repeat(50))).status).toBe(201);
    expect((await k.put('/demo/outbox/q2.txt', 'b'.repeat(50))).status).toBe(201);
    const over = await k.put('/demo/outbox/q3.txt', 'c');
    refused(over, 429, 'rate_limited');
    expect(over.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(existsSync(onDisk('/demo/outbox/q3.txt'))).toBe(false);
    const overwrite = await k.put('/demo/outbox/q1.txt', 'd'.repeat(10));
    refused(overwrite, 429, 'rate_limited');
    expect(readFileSync(onDisk('/demo/outbox/q1.txt'), 'utf8')).toBe('a'.repeat(50));
  });

  it('bytesPerDay 100: a single write larger than the whole quota is refused', async () => {
    const k = await keyWith('quota-big', ['read:/demo/**', 'write:/demo/**'], { bytesPerDay: 100 });
    const big = await k.put('/demo/outbox/too-big.txt', 'z'.repeat(10_000));
    refused(big, 429, 'rate_limited');
    expect(existsSync(onDisk('/demo/outbox/too-big.txt'))).toBe(false);
  });

  it("a workspace YAML's limits apply to keys without their own limits", async () => {
    writeFileSync(join(baton.workspacesDir, 'limited.yaml'), 'name: limited\nfolders: [inbox]\nlimits: {requestsPerSecond: 1, burst: 1}\n');
    const up = await poll(async () => (await admin.list('/limited')).status === 200, 15_000, 100);
    expect(up, 'workspace limited/ was not loaded').toBe(true);
    expect((await admin.put('/limited/inbox/a.txt', 'a')).status).toBe(201);
    // the admin token is not a key: no limits
    for (let i = 0; i < 5; i++) expect((await admin.get('/limited/inbox/a.txt')).status).toBe(200);

    const plain = await keyWith('plain', ['read:/limited/**', 'read:/demo/**']);
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await plain.get('/limited/inbox/a.txt')).status);
    expect(statuses[0]).toBe(200);
    expect(statuses.filter((s) => s === 429).length, statuses.join(',')).toBeGreaterThanOrEqual(3);
    const r = await plain.get('/limited/inbox/a.txt');
    if (r.status === 429) {
      expect(r.json.error.code).toBe('rate_limited');
      expect(r.headers.get('retry-after')).toMatch(/^\d+$/);
    }
    // its own limits win over the workspace default
    const own = await keyWith('own-limits', ['read:/limited/**'], { requestsPerSecond: 100, burst: 100 });
    for (let i = 0; i < 8; i++) expect((await own.get('/limited/inbox/a.txt')).status).toBe(200);
    // and the default is the limited workspace's, not every workspace's
    expect((await admin.put('/demo/outbox/unlimited.txt', 'u')).status).toBeLessThan(300);
    for (let i = 0; i < 5; i++) expect((await plain.get('/demo/outbox/unlimited.txt')).status).toBe(200);
  });
});
