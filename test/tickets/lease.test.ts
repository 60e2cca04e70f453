import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeDir, startBaton, type TestBaton } from '../helpers/baton.js';
import { allEvents } from '../helpers/events.js';
import { client, createKey } from '../helpers/http.js';
import { poll, sleep } from '../helpers/raw.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';
import { spawnWorker, type WorkerProc } from '../helpers/workers.js';

let redis: TestRedis;
let baton: TestBaton;
let admin: ReturnType<typeof client>;
let agent: ReturnType<typeof client>;
let agentKey: string;
const workers: WorkerProc[] = [];

const onDisk = (p: string) => join(baton.dataDir, p.replace(/^\//, ''));
const folder = (q: string, f: string) => {
  const d = onDisk(`${q}/${f}`);
  return existsSync(d) ? readdirSync(d).sort() : [];
};

beforeAll(async () => {
  redis = await startRedis();
  baton = await startBaton({ redisUrl: redis.url, env: { BATON_LEASE_SECONDS: '2', BATON_MAX_ATTEMPTS: '2' } });
  admin = client(baton.url, baton.adminToken);
  const k = await createKey(baton.url, baton.adminToken, { agent: 'worker', grants: ['claim:/demo/**', 'read:/demo/**', 'write:/demo/outbox/**'] });
  agentKey = k.key;
  agent = client(baton.url, k.key);
});
afterAll(async () => {
  for (const w of workers) w.proc.kill('SIGKILL');
  await baton?.stop();
  await redis?.stop();
  if (baton) {
    removeDir(baton.dataDir);
    removeDir(baton.workspacesDir);
  }
});

async function ticket(queue: string, name: string): Promise<void> {
  const r = await admin.put(`${queue}/pending/${name}`, name, { 'content-type': 'text/plain' });
  expect(r.status, r.text).toBe(201);
}

/**
 * The ticket.expired events of a queue, once there are `n` of them: the reaper moves the file
 * first and records the event right after, so the file can be seen a moment before its event.
 */
async function expiredEvents(queue: string, n: number): Promise<any[]> {
  const read = async () => (await allEvents(admin, `${queue}/**`)).filter((e) => e.event === 'ticket.expired');
  await poll(async () => (await read()).length >= n, 5_000, 50);
  return read();
}

const claim = (queue: string, leaseSeconds?: number) => agent.post('/v1/tickets/claim', { queue, ...(leaseSeconds ? { leaseSeconds } : {}) });

/** Wait until the reaper has put `name` back into `<queue>/<to>/`. */
async function waitBack(queue: string, name: string, to: 'pending' | 'failed', timeoutMs = 10_000): Promise<number> {
  const ok = await poll(async () => existsSync(onDisk(`${queue}/${to}/${name}`)), timeoutMs, 50);
  expect(ok, `${queue}/${name} did not come back to ${to}/ within ${timeoutMs} ms`).toBe(true);
  return Date.now();
}

describe('leases', () => {
  it('a worker killed while holding a lease: the ticket expires back to pending, is re-claimed with a higher token and attempt 2, and the dead worker cannot complete it', async () => {
    const q = '/demo/q-kill';
    await ticket(q, 'job1');
    const w = spawnWorker({ mode: 'hold', urls: [baton.url], key: agentKey, queue: q });
    workers.push(w);
    const held = await w.firstLine<{ status: number; claim: any }>();
    expect(held.status).toBe(200);
    expect(held.claim).toMatchObject({ path: `${q}/in-progress/job1`, content: 'job1', attempt: 1 });
    const leaseEnd = Date.parse(held.claim.leaseExpiresAt);
    expect(leaseEnd - Date.now()).toBeLessThanOrEqual(2_100);
    w.proc.kill('SIGKILL');
    expect((await w.exited()).signal).toBe('SIGKILL');
    expect(folder(q, 'in-progress')).toEqual(['job1']);

    const backAt = await waitBack(q, 'job1', 'pending');
    // not before its lease ran out
    expect(backAt).toBeGreaterThanOrEqual(leaseEnd - 50);
    expect(folder(q, 'in-progress')).toEqual([]);
    const expired = await expiredEvents(q, 1);
    expect(expired.length).toBe(1);
    expect([`${q}/pending/job1`, `${q}/in-progress/job1`]).toContain(expired[0].path);
    // told as the agent whose lease lapsed, like the file.moved that put the ticket back
    expect(expired[0].actor).toBe('agent:worker');
    const back = (await allEvents(admin, `${q}/**`)).filter((e) => e.event === 'file.moved' && e.path === `${q}/pending/job1`);
    expect(back.map((e) => e.actor)).toEqual(['agent:worker']);

    const again = await claim(q);
    expect(again.status, again.text).toBe(200);
    expect(again.json).toMatchObject({ path: `${q}/in-progress/job1`, content: 'job1', attempt: 2 });
    expect(again.json.fencingToken).toBeGreaterThan(held.claim.fencingToken);

    // the dead worker's late completion (and heartbeat, and fail) are refused and change nothing
    const late = await agent.post('/v1/tickets/complete', { path: held.claim.path, fencingToken: held.claim.fencingToken });
    expect(late.status, late.text).toBe(409);
    expect(late.json.error.code).toBe('conflict');
    const lateHb = await agent.post('/v1/tickets/heartbeat', { path: held.claim.path, fencingToken: held.claim.fencingToken });
    expect(lateHb.status, lateHb.text).toBe(409);
    const lateFail = await agent.post('/v1/tickets/fail', { path: held.claim.path, fencingToken: held.claim.fencingToken });
    expect(lateFail.status, lateFail.text).toBe(409);
    expect(folder(q, 'in-progress')).toEqual(['job1']);
    expect(folder(q, 'done')).toEqual([]);

    const done = await agent.post('/v1/tickets/complete', { path: again.json.path, fencingToken: again.json.fencingToken });
    expect(done.status, done.text).toBe(200);
    expect(folder(q, 'done')).toEqual(['job1']);
    expect(folder(q, 'in-progress')).toEqual([]);
    expect(folder(q, 'pending')).toEqual([]);
    // and the stale token is still refused after the real completion
    const lateAfter = await agent.post('/v1/tickets/complete', { path: held.claim.path, fencingToken: held.claim.fencingToken });
    expect(lateAfter.status).toBe(409);
  });

  it('heartbeats keep a short lease alive past its first expiry', async () => {
    const q = '/demo/q-heartbeat';
    await ticket(q, 'job');
    const c = await claim(q, 2);
    expect(c.status, c.text).toBe(200);
    let prev = Date.parse(c.json.leaseExpiresAt);
    const until = Date.now() + 4_000;
    while (Date.now() < until) {
      await sleep(1_000);
      const hb = await agent.post('/v1/tickets/heartbeat', { path: c.json.path, fencingToken: c.json.fencingToken, leaseSeconds: 2 });
      expect(hb.status, hb.text).toBe(200);
      const exp = Date.parse(hb.json.leaseExpiresAt);
      expect(exp).toBeGreaterThan(prev);
      expect(exp).toBeGreaterThan(Date.now() + 1_000);
      prev = exp;
      expect(folder(q, 'in-progress')).toEqual(['job']);
    }
    // well past the original 2 s lease, and past a reaper tick
    expect(Date.now() - Date.parse(c.json.leaseExpiresAt)).toBeGreaterThan(1_500);
    expect(folder(q, 'in-progress')).toEqual(['job']);
    expect(folder(q, 'pending')).toEqual([]);
    expect((await allEvents(admin, `${q}/**`)).filter((e) => e.event === 'ticket.expired')).toEqual([]);
    const done = await agent.post('/v1/tickets/complete', { path: c.json.path, fencingToken: c.json.fencingToken, result: { ok: true } });
    expect(done.status, done.text).toBe(200);
    expect(folder(q, 'done')).toContain('job');
  });

  it('a write carrying a stale Baton-Fencing-Token is refused and changes nothing; the current token writes', async () => {
    const q = '/demo/q-fence';
    await ticket(q, 'job');
    const first = await claim(q, 1);
    expect(first.status, first.text).toBe(200);
    const out = '/demo/outbox/fenced-result.md';
    expect((await admin.put(out, 'original')).status).toBe(201);
    await waitBack(q, 'job', 'pending');
    const second = await claim(q);
    expect(second.status, second.text).toBe(200);
    expect(second.json.fencingToken).toBeGreaterThan(first.json.fencingToken);
    const eventsBefore = (await allEvents(admin, out)).length;

    const stale = await agent.put(out, 'from the stalled worker', { 'Baton-Ticket': first.json.path, 'Baton-Fencing-Token': String(first.json.fencingToken) });
    expect(stale.status, stale.text).toBe(409);
    expect(stale.json.error.code).toBe('conflict');
    expect(readFileSync(onDisk(out), 'utf8')).toBe('original');
    expect((await admin.get(out)).text).toBe('original');
    // a stale token cannot create a new file either
    const staleNew = await agent.put('/demo/outbox/fenced-new.md', 'x', { 'Baton-Ticket': first.json.path, 'Baton-Fencing-Token': String(first.json.fencingToken) });
    expect(staleNew.status, staleNew.text).toBe(409);
    expect(existsSync(onDisk('/demo/outbox/fenced-new.md'))).toBe(false);
    expect((await allEvents(admin, out)).length).toBe(eventsBefore);

    const current = await agent.put(out, 'from the current holder', { 'Baton-Ticket': second.json.path, 'Baton-Fencing-Token': String(second.json.fencingToken) });
    expect(current.status, current.text).toBe(200);
    expect(readFileSync(onDisk(out), 'utf8')).toBe('from the current holder');
    const done = await agent.post('/v1/tickets/complete', { path: second.json.path, fencingToken: second.json.fencingToken });
    expect(done.status, done.text).toBe(200);
    // once the ticket is done, even its last token no longer fences a write
    const afterDone = await agent.put(out, 'after completion', { 'Baton-Ticket': second.json.path, 'Baton-Fencing-Token': String(second.json.fencingToken) });
    expect(afterDone.status, afterDone.text).toBe(409);
    expect(readFileSync(onDisk(out), 'utf8')).toBe('from the current holder');
  });

  it('with BATON_MAX_ATTEMPTS=2 a ticket whose lease expires twice ends in failed/', async () => {
    const q = '/demo/q-twice';
    await ticket(q, 'job');
    const c1 = await claim(q, 1);
    expect(c1.status, c1.text).toBe(200);
    expect(c1.json.attempt).toBe(1);
    await waitBack(q, 'job', 'pending');
    const c2 = await claim(q, 1);
    expect(c2.status, c2.text).toBe(200);
    expect(c2.json.attempt).toBe(2);
    await waitBack(q, 'job', 'failed');
    expect(folder(q, 'pending')).toEqual([]);
    expect(folder(q, 'in-progress')).toEqual([]);
    expect(folder(q, 'failed')).toEqual(['job']);
    const expired = await expiredEvents(q, 2);
    expect(expired.length).toBe(2);
    expect((await claim(q)).status).toBe(204);
    // the second holder's token is dead too
    const late = await agent.post('/v1/tickets/complete', { path: c2.json.path, fencingToken: c2.json.fencingToken });
    expect(late.status, late.text).toBe(409);
    expect(folder(q, 'failed')).toEqual(['job']);
  });

  it('fail with retry:true returns the ticket to pending/; fail without retry moves it to failed/ with its reason beside it', async () => {
    const q = '/demo/q-fail';
    await ticket(q, 'job');
    const c1 = await claim(q);
    expect(c1.status, c1.text).toBe(200);
    const retried = await agent.post('/v1/tickets/fail', { path: c1.json.path, fencingToken: c1.json.fencingToken, retry: true });
    expect(retried.status, retried.text).toBe(200);
    expect(folder(q, 'pending')).toEqual(['job']);
    expect(folder(q, 'in-progress')).toEqual([]);
    expect(folder(q, 'failed')).toEqual([]);
    // the old token is spent
    const again = await agent.post('/v1/tickets/complete', { path: c1.json.path, fencingToken: c1.json.fencingToken });
    expect(again.status).toBe(409);

    const c2 = await claim(q);
    expect(c2.status, c2.text).toBe(200);
    expect(c2.json).toMatchObject({ path: `${q}/in-progress/job`, attempt: 2 });
    expect(c2.json.fencingToken).toBeGreaterThan(c1.json.fencingToken);
    const failed = await agent.post('/v1/tickets/fail', { path: c2.json.path, fencingToken: c2.json.fencingToken, reason: 'the input was malformed' });
    expect(failed.status, failed.text).toBe(200);
    expect(folder(q, 'pending')).toEqual([]);
    expect(folder(q, 'in-progress')).toEqual([]);
    expect(folder(q, 'failed')).toEqual(['job', 'job.reason']);
    expect(readFileSync(onDisk(`${q}/failed/job.reason`), 'utf8')).toBe('the input was malformed');
    expect(readFileSync(onDisk(`${q}/failed/job`), 'utf8')).toBe('job');

    // without a reason: no reason file
    const q2 = '/demo/q-fail-quiet';
    await ticket(q2, 'job');
    const c3 = await claim(q2);
    expect(c3.status, c3.text).toBe(200);
    const quiet = await agent.post('/v1/tickets/fail', { path: c3.json.path, fencingToken: c3.json.fencingToken });
    expect(quiet.status, quiet.text).toBe(200);
    expect(folder(q2, 'failed')).toEqual(['job']);
    expect(folder(q2, 'pending')).toEqual([]);

    const evs = (await allEvents(admin, '/demo/q-fail*/**')).filter((e) => e.event === 'ticket.failed');
    expect(evs.length).toBe(3);
  });
});
