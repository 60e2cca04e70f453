import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBaton, teardown, type TestBaton } from '../helpers/baton.js';
import { client, createKey } from '../helpers/http.js';
import { eventually } from '../helpers/receiver.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';
import { baton as cli } from '../cli/run.js';

let redis: TestRedis;
let baton: TestBaton;
let admin: ReturnType<typeof client>;

beforeAll(async () => {
  redis = await startRedis();
  baton = await startBaton({ redisUrl: redis.url });
  admin = client(baton.url, baton.adminToken);
}, 30_000);

afterAll(async () => {
  await teardown(baton, redis);
});

type Entry = { action: string; path: string; outcome: string; code: string | null; note?: string; actor: string };
const auditOf = (action: string) =>
  eventually(async () => {
    const { entries } = (await admin.call('GET', `/v1/audit?action=${action}`)).json as { entries: Entry[] };
    return entries.length ? entries : null;
  }, 5_000, `an audit entry ${action}`);

describe('human gates over HTTP', () => {
  it('lists what waits, only to keys that may read it, and says who may decide', async () => {
    await admin.put('/demo/drafts/a.md', 'a');
    const human = await createKey(baton.url, baton.adminToken, { agent: 'ann', grants: ['read:/demo/drafts/a.md', 'write:/demo/approved/**'], human: true });
    const { gates } = (await client(baton.url, human.key).call('GET', '/v1/gates')).json;
    expect(gates).toEqual([{ gate: '/demo/approved', from: ['/demo/drafts'], canDecide: true, waiting: [expect.objectContaining({ path: '/demo/drafts/a.md', size: 1 })] }]);
    await admin.put('/demo/drafts/b.md', 'b');
    const agent = await createKey(baton.url, baton.adminToken, { agent: 'bot', grants: ['read:/demo/**', 'write:/demo/**'] });
    const seen = (await client(baton.url, agent.key).call('GET', '/v1/gates')).json.gates[0];
    expect(seen.canDecide).toBe(false);
    expect(seen.waiting.map((w: { path: string }) => w.path)).toEqual(['/demo/drafts/a.md', '/demo/drafts/b.md']);
  });

  it('refuses bad decisions with a clear code, an audit entry and no change', async () => {
    await admin.put('/demo/drafts/c.md', 'c');
    const agent = await createKey(baton.url, baton.adminToken, { agent: 'pusher', grants: ['read:/demo/**', 'write:/demo/**', 'delete:/demo/**'] });
    const byAgent = await client(baton.url, agent.key).post('/v1/gates/approve', { path: '/demo/drafts/c.md' });
    expect(byAgent.status).toBe(403);
    expect(byAgent.json.error.message).toContain('only a human key may approve');
    const noNote = await admin.post('/v1/gates/reject', { path: '/demo/drafts/c.md', note: '  ' });
    expect(noNote.status).toBe(400);
    expect(noNote.json.error.message).toContain('needs a note');
    const notWaiting = await admin.post('/v1/gates/approve', { path: '/demo/inbox/c.md' });
    expect(notWaiting.status).toBe(400);
    expect(notWaiting.json.error.message).toContain('not in a folder waiting for a gate');
    const wrongGate = await admin.post('/v1/gates/approve', { path: '/demo/drafts/c.md', gate: '/demo/outbox' });
    expect(wrongGate.status).toBe(400);
    const unknownField = await admin.post('/v1/gates/approve', { path: '/demo/drafts/c.md', force: true });
    expect(unknownField.status).toBe(400);
    expect((await admin.get('/demo/drafts/c.md')).status).toBe(200);
    expect((await admin.get('/demo/approved/c.md')).status).toBe(404);
    const denied = await auditOf('gate.approve');
    expect(denied).toContainEqual(expect.objectContaining({ actor: 'agent:pusher', outcome: 'denied', code: 'forbidden', path: '/demo/drafts/c.md -> /demo/approved/c.md' }));
  });

  it('approves into the gate once: the event says so, a second approval finds nothing waiting', async () => {
    await admin.put('/demo/drafts/d.md', 'd');
    const human = await createKey(baton.url, baton.adminToken, { agent: 'dee', grants: ['read:/demo/**', 'write:/demo/approved/**'], human: true });
    const h = client(baton.url, human.key);
    const ok = await h.post('/v1/gates/approve', { path: '/demo/drafts/d.md', note: 'fine' });
    expect(ok.status, ok.text).toBe(200);
    expect(ok.json).toMatchObject({ decision: 'approved', gate: '/demo/approved', from: '/demo/drafts/d.md', path: '/demo/approved/d.md', note: 'fine' });
    expect((await admin.get('/demo/approved/d.md')).text).toBe('d');
    const again = await h.post('/v1/gates/approve', { path: '/demo/drafts/d.md' });
    expect(again.status).toBe(404);
    const { events } = (await admin.call('GET', '/v1/events?after=0&path=/demo/approved/d.md')).json;
    expect(events).toEqual([expect.objectContaining({ event: 'file.moved', actor: 'human:dee', review: { decision: 'approved', gate: '/demo/approved', note: 'fine' } })]);
    expect(await auditOf('gate.approve')).toContainEqual(expect.objectContaining({ actor: 'human:dee', outcome: 'allowed', note: 'fine' }));
  });

  it('from the CLI: a human lists what waits and rejects with a note; a missing note is a usage error', async () => {
    await admin.put('/demo/drafts/e.md', 'e');
    const human = await createKey(baton.url, baton.adminToken, { agent: 'eve', grants: ['read:/demo/**', 'write:/demo/approved/**'], human: true });
    const as = (args: string[]) => cli(args, { url: baton.url, key: human.key });
    const listed = await as(['gates', 'list']);
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout).toMatch(/\/demo\/approved\s+\/demo\/drafts\/e\.md/);
    const noNote = await as(['gates', 'reject', '/demo/drafts/e.md']);
    expect(noNote.code).toBe(2);
    expect(noNote.stderr).toContain('--note');
    const rejected = await as(['gates', 'reject', '/demo/drafts/e.md', '--note', 'too short']);
    expect(rejected.code, rejected.stderr).toBe(0);
    expect(rejected.stdout).toContain('rejected /demo/drafts/e.md -> /demo/drafts/rejected/e.md: too short');
    expect((await admin.get('/demo/drafts/rejected/e.md')).text).toBe('e');
  });
});
