import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditEntries } from '../helpers/audit.js';
import { startBaton, teardown, type TestBaton } from '../helpers/baton.js';
import { client, createKey, type Reply } from '../helpers/http.js';
import { rawRequest, sleep } from '../helpers/raw.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';

let redis: TestRedis;
let baton: TestBaton;
let admin: ReturnType<typeof client>;
type Api = ReturnType<typeof client>;
const keys: Record<string, { id: string; key: string; api: Api }> = {};

/** Every denial the tests provoke, to be found in the audit trail at the end. */
const denials: Array<{ actor: string; path: string | null; code: string }> = [];

function denied(r: Reply, status: number, code: string, note: { actor: string; path: string | null }) {
  expect(r.status, `${note.actor} ${note.path}: ${r.text}`).toBe(status);
  expect(r.json?.error?.code).toBe(code);
  expect(typeof r.json?.error?.message).toBe('string');
  denials.push({ ...note, code });
}
const forbidden = (r: Reply, actor: string, path: string) => denied(r, 403, 'forbidden', { actor: `agent:${actor}`, path });

const onDisk = (p: string) => join(baton.dataDir, p.replace(/^\//, ''));

async function key(name: string, grants: string[], human = false) {
  const k = await createKey(baton.url, baton.adminToken, { agent: name, grants, human });
  keys[name] = { ...k, api: client(baton.url, k.key) };
  return keys[name]!;
}

beforeAll(async () => {
  redis = await startRedis();
  baton = await startBaton({ redisUrl: redis.url });
  admin = client(baton.url, baton.adminToken);
  for (const p of ['/demo/drafts/r.txt', '/demo/outbox/r.txt', '/demo/drafts/d.txt', '/demo/outbox/d.txt', '/demo/drafts-private/x', '/demo/drafts/sub/deep.md']) {
    expect((await admin.put(p, `seed ${p}`)).status).toBe(201);
  }
  for (let i = 1; i <= 6; i++) {
    await admin.put(`/demo/drafts/m${i}.txt`, `move ${i}`);
    await admin.put(`/demo/outbox/m${i}.txt`, `outbox move ${i}`);
  }
  await admin.put('/demo/approved/existing.txt', 'approved by a human');
  await key('reader', ['read:/demo/drafts/**']);
  await key('writer', ['write:/demo/drafts/**']);
  await key('deleter', ['delete:/demo/drafts/**']);
  await key('mover', ['read:/demo/drafts/**', 'delete:/demo/drafts/**', 'write:/demo/drafts/**']);
  await key('noread', ['delete:/demo/drafts/**', 'write:/demo/**']);
  await key('nodelete', ['read:/demo/drafts/**', 'write:/demo/**']);
  await key('nowrite', ['read:/demo/drafts/**', 'delete:/demo/drafts/**']);
  await key('nobody', []);
  await key('agent', ['read:/demo/**', 'write:/demo/**', 'delete:/demo/**']);
  await key('human', ['read:/demo/**', 'write:/demo/**', 'delete:/demo/**'], true);
});
afterAll(() => teardown(baton, redis));

describe('read', () => {
  it('a read grant on /demo/drafts/** reads there and is forbidden elsewhere', async () => {
    const k = keys.reader!.api;
    expect((await k.get('/demo/drafts/r.txt')).text).toBe('seed /demo/drafts/r.txt');
    expect((await k.head('/demo/drafts/r.txt')).status).toBe(200);
    expect((await k.call('GET', '/v1/versions/demo/drafts/r.txt')).status).toBe(200);
    expect((await k.get('/demo/drafts/sub/deep.md')).status).toBe(200);
    forbidden(await k.get('/demo/outbox/r.txt'), 'reader', '/demo/outbox/r.txt');
    forbidden(await k.call('GET', '/v1/versions/demo/outbox/r.txt'), 'reader', '/demo/outbox/r.txt');
    expect((await k.head('/demo/outbox/r.txt')).status).toBe(403);
    // forbidden, not not_found: a denial must not reveal whether the file exists
    forbidden(await k.get('/demo/outbox/does-not-exist.txt'), 'reader', '/demo/outbox/does-not-exist.txt');
  });

  it('read does not imply write or delete', async () => {
    const k = keys.reader!.api;
    forbidden(await k.put('/demo/drafts/reader-wrote.txt', 'x'), 'reader', '/demo/drafts/reader-wrote.txt');
    expect(existsSync(onDisk('/demo/drafts/reader-wrote.txt'))).toBe(false);
    forbidden(await k.del('/demo/drafts/r.txt'), 'reader', '/demo/drafts/r.txt');
    expect(existsSync(onDisk('/demo/drafts/r.txt'))).toBe(true);
  });

  it('sibling prefix: read:/demo/drafts/** does not reach /demo/drafts-private', async () => {
    const k = keys.reader!.api;
    forbidden(await k.get('/demo/drafts-private/x'), 'reader', '/demo/drafts-private/x');
    forbidden(await k.list('/demo/drafts-private'), 'reader', '/demo/drafts-private');
    const s = await k.call('GET', '/v1/search?root=/demo&glob=**');
    expect(s.status).toBe(200);
    expect((s.json.results as any[]).some((x) => x.path.startsWith('/demo/drafts-private'))).toBe(false);
  });
});

describe('write', () => {
  it('a write grant on /demo/drafts/** creates and updates there and is forbidden elsewhere', async () => {
    const k = keys.writer!.api;
    expect((await k.put('/demo/drafts/w.txt', 'w1')).status).toBe(201);
    expect((await k.put('/demo/drafts/w.txt', 'w2')).status).toBe(200);
    expect(readFileSync(onDisk('/demo/drafts/w.txt'), 'utf8')).toBe('w2');
    forbidden(await k.put('/demo/outbox/w.txt', 'nope'), 'writer', '/demo/outbox/w.txt');
    expect(existsSync(onDisk('/demo/outbox/w.txt'))).toBe(false);
    forbidden(await k.put('/demo/outbox/r.txt', 'overwrite'), 'writer', '/demo/outbox/r.txt');
    expect(readFileSync(onDisk('/demo/outbox/r.txt'), 'utf8')).toBe('seed /demo/outbox/r.txt');
    forbidden(await k.put('/demo/drafts-private/w.txt', 'nope'), 'writer', '/demo/drafts-private/w.txt');
    expect(existsSync(onDisk('/demo/drafts-private/w.txt'))).toBe(false);
  });

  it('write does not imply read', async () => {
    forbidden(await keys.writer!.api.get('/demo/drafts/w.txt'), 'writer', '/demo/drafts/w.txt');
  });
});

describe('delete', () => {
  it('a delete grant on /demo/drafts/** deletes there and is forbidden elsewhere', async () => {
    const k = keys.deleter!.api;
    expect((await k.del('/demo/drafts/d.txt')).status).toBe(200);
    expect(existsSync(onDisk('/demo/drafts/d.txt'))).toBe(false);
    forbidden(await k.del('/demo/outbox/d.txt'), 'deleter', '/demo/outbox/d.txt');
    expect(existsSync(onDisk('/demo/outbox/d.txt'))).toBe(true);
    forbidden(await k.get('/demo/drafts/r.txt'), 'deleter', '/demo/drafts/r.txt');
  });
});

describe('move (read+delete on the source, write on the destination)', () => {
  it('is allowed inside the granted folder', async () => {
    const r = await keys.mover!.api.post('/v1/move', { from: '/demo/drafts/m1.txt', to: '/demo/drafts/moved/m1.txt' });
    expect(r.status, r.text).toBe(200);
    expect(readFileSync(onDisk('/demo/drafts/moved/m1.txt'), 'utf8')).toBe('move 1');
  });

  it('is forbidden out of it, into it from elsewhere, and with any one grant missing', async () => {
    const cases: Array<[string, string, string]> = [
      ['mover', '/demo/drafts/m2.txt', '/demo/outbox/m2-moved.txt'], // no write on dest
      ['mover', '/demo/outbox/m2.txt', '/demo/drafts/m2-in.txt'], // no read/delete on source
      ['noread', '/demo/drafts/m3.txt', '/demo/drafts/m3-moved.txt'],
      ['nodelete', '/demo/drafts/m4.txt', '/demo/drafts/m4-moved.txt'],
      ['nowrite', '/demo/drafts/m5.txt', '/demo/drafts/m5-moved.txt'],
      ['reader', '/demo/drafts/m6.txt', '/demo/drafts/m6-moved.txt'],
    ];
    for (const [who, from, to] of cases) {
      const r = await keys[who]!.api.post('/v1/move', { from, to });
      forbidden(r, who, `${from} -> ${to}`);
      expect(existsSync(onDisk(from)), `${who}: ${from} must stay`).toBe(true);
      expect(existsSync(onDisk(to)), `${who}: ${to} must not appear`).toBe(false);
    }
  });
});

describe('moving a folder', () => {
  it('needs the grants for every file in it: one on the folder name is not enough', async () => {
    for (const f of ['a.md', 'tools/run.sh']) expect((await admin.put(`/demo/outbox/pack/${f}`, f)).status).toBe(201);
    const k = await key('foldermover', ['read:/demo/outbox/**', 'delete:/demo/outbox/**', 'write:/demo/drafts/*', 'write:/demo/drafts/*/*.md']);
    const r = await k.api.post('/v1/move', { from: '/demo/outbox/pack', to: '/demo/drafts/pack' });
    forbidden(r, 'foldermover', '/demo/outbox/pack -> /demo/drafts/pack');
    expect(r.json.error.message).toContain('/demo/drafts/pack/tools/run.sh');
    expect(existsSync(onDisk('/demo/outbox/pack/tools/run.sh'))).toBe(true);
    expect(existsSync(onDisk('/demo/drafts/pack'))).toBe(false);
    // with the file it lacked out of the folder, the same key may move it
    expect((await admin.call('DELETE', '/v1/files/demo/outbox/pack/tools/run.sh')).status).toBe(200);
    const ok = await k.api.post('/v1/move', { from: '/demo/outbox/pack', to: '/demo/drafts/pack' });
    expect(ok.status, ok.text).toBe(200);
    expect(readFileSync(onDisk('/demo/drafts/pack/a.md'), 'utf8')).toBe('a.md');
  });
});

describe('default deny', () => {
  it('a key with no grants can do nothing', async () => {
    const k = keys.nobody!.api;
    forbidden(await k.get('/demo/drafts/r.txt'), 'nobody', '/demo/drafts/r.txt');
    forbidden(await k.put('/demo/drafts/nobody.txt', 'x'), 'nobody', '/demo/drafts/nobody.txt');
    forbidden(await k.del('/demo/drafts/r.txt'), 'nobody', '/demo/drafts/r.txt');
    forbidden(await k.list('/demo'), 'nobody', '/demo');
    const root = await k.list('/');
    expect(root.status).toBe(403);
    expect(root.json.error.code).toBe('forbidden');
    forbidden(await k.call('GET', '/v1/search?root=/demo&glob=**'), 'nobody', '/demo');
    forbidden(await k.post('/v1/move', { from: '/demo/drafts/r.txt', to: '/demo/drafts/r2.txt' }), 'nobody', '/demo/drafts/r.txt -> /demo/drafts/r2.txt');
    forbidden(await k.post('/v1/restore', { path: '/demo/drafts/r.txt', version: 1 }), 'nobody', '/demo/drafts/r.txt');
    expect(existsSync(onDisk('/demo/drafts/nobody.txt'))).toBe(false);
    expect(existsSync(onDisk('/demo/drafts/r2.txt'))).toBe(false);
  });
});

describe('listing and search show only what the key may read', () => {
  it('list /demo shows only the drafts folder', async () => {
    const r = await keys.reader!.api.list('/demo');
    expect(r.status).toBe(200);
    expect((r.json.entries as any[]).map((e) => e.path)).toEqual(['/demo/drafts']);
  });

  it('a recursive list of /demo shows only drafts and what is below it', async () => {
    const r = await keys.reader!.api.list('/demo', '?recursive=1&limit=1000');
    expect(r.status).toBe(200);
    const paths = (r.json.entries as any[]).map((e) => e.path as string);
    expect(paths).toContain('/demo/drafts');
    expect(paths).toContain('/demo/drafts/r.txt');
    expect(paths).toContain('/demo/drafts/sub/deep.md');
    for (const p of paths) expect(p === '/demo/drafts' || p.startsWith('/demo/drafts/'), p).toBe(true);
  });

  it('the namespace root lists only workspaces with something readable', async () => {
    await admin.post('/v1/workspaces', { name: 'otherws', folders: ['a'] });
    const r = await keys.reader!.api.list('/');
    expect(r.status).toBe(200);
    expect((r.json.entries as any[]).map((e) => e.path)).toEqual(['/demo']);
  });

  it('search of /demo finds only drafts, by name and by content', async () => {
    const k = keys.reader!.api;
    const byName = await k.call('GET', '/v1/search?root=/demo&glob=**');
    expect(byName.status).toBe(200);
    const names = (byName.json.results as any[]).map((x) => x.path as string);
    expect(names).toContain('/demo/drafts/r.txt');
    for (const p of names) expect(p.startsWith('/demo/drafts/'), p).toBe(true);
    const byText = await k.call('GET', '/v1/search?root=/demo&q=seed');
    const hits = (byText.json.results as any[]).map((x) => x.path as string);
    expect(hits).toContain('/demo/drafts/r.txt');
    expect(hits).not.toContain('/demo/outbox/r.txt');
    for (const p of hits) expect(p.startsWith('/demo/drafts/'), p).toBe(true);
  });

  it('a folder-wide grant elsewhere does not make every entry of another folder visible', async () => {
    const k = await key('picker', ['read:/demo/drafts/**', 'read:/demo/outbox/r.txt', 'read:/demo/drafts-private/x']);
    const outbox = await k.api.list('/demo/outbox', '?recursive=1');
    expect(outbox.status).toBe(200);
    expect((outbox.json.entries as any[]).map((e) => e.path)).toEqual(['/demo/outbox/r.txt']);
    const found = await k.api.call('GET', '/v1/search?root=/demo/outbox&glob=**');
    expect((found.json.results as any[]).map((x) => x.path)).toEqual(['/demo/outbox/r.txt']);
    const drafts = await k.api.list('/demo/drafts', '?recursive=1&limit=1000');
    expect((drafts.json.entries as any[]).map((e) => e.path)).toContain('/demo/drafts/sub/deep.md');
    const top = await k.api.list('/demo');
    expect((top.json.entries as any[]).map((e) => e.path)).toEqual(['/demo/drafts', '/demo/drafts-private', '/demo/outbox']);
  });

  it('listing a folder with nothing readable under it is forbidden', async () => {
    forbidden(await keys.reader!.api.list('/demo/outbox'), 'reader', '/demo/outbox');
    forbidden(await keys.reader!.api.list('/demo/outbox', '?recursive=1'), 'reader', '/demo/outbox');
    forbidden(await keys.reader!.api.call('GET', '/v1/search?root=/demo/outbox&glob=**'), 'reader', '/demo/outbox');
  });
});

describe('gates', () => {
  it('a non-human key with write:/demo/** cannot create, overwrite or move into /demo/approved', async () => {
    const k = keys.agent!.api;
    forbidden(await k.put('/demo/approved/agent.txt', 'x'), 'agent', '/demo/approved/agent.txt');
    expect(existsSync(onDisk('/demo/approved/agent.txt'))).toBe(false);
    forbidden(await k.put('/demo/approved/existing.txt', 'tampered'), 'agent', '/demo/approved/existing.txt');
    expect(readFileSync(onDisk('/demo/approved/existing.txt'), 'utf8')).toBe('approved by a human');
    forbidden(await k.put('/demo/approved/sub/deeper.txt', 'x'), 'agent', '/demo/approved/sub/deeper.txt');
    expect(existsSync(onDisk('/demo/approved/sub'))).toBe(false);
    await admin.put('/demo/drafts/gate-src.txt', 'for approval');
    forbidden(await k.post('/v1/move', { from: '/demo/drafts/gate-src.txt', to: '/demo/approved/gate-src.txt' }), 'agent', '/demo/drafts/gate-src.txt -> /demo/approved/gate-src.txt');
    expect(existsSync(onDisk('/demo/drafts/gate-src.txt'))).toBe(true);
    expect(existsSync(onDisk('/demo/approved/gate-src.txt'))).toBe(false);
    // the agent still reads the gate and writes next to it
    expect((await k.get('/demo/approved/existing.txt')).status).toBe(200);
    expect((await k.put('/demo/approved-not-a-gate.txt', 'ok')).status).toBe(201);
  });

  it('a human key can put and move files into the gate', async () => {
    const k = keys.human!.api;
    expect((await k.put('/demo/approved/human.txt', 'signed off')).status).toBe(201);
    await admin.put('/demo/drafts/gate-src2.txt', 'approve me');
    const mv = await k.post('/v1/move', { from: '/demo/drafts/gate-src2.txt', to: '/demo/approved/gate-src2.txt' });
    expect(mv.status, mv.text).toBe(200);
    expect(readFileSync(onDisk('/demo/approved/gate-src2.txt'), 'utf8')).toBe('approve me');
  });
});

describe('admin-only routes', () => {
  it('refuse a plain key with 403 forbidden', async () => {
    const k = keys.agent!.api;
    const checks: Array<[string, string, unknown?]> = [
      ['POST', '/v1/keys', { agent: 'sneaky', grants: ['read:/**'] }],
      ['GET', '/v1/keys'],
      ['DELETE', `/v1/keys/${keys.reader!.id}`],
      ['GET', '/v1/audit/verify'],
      ['GET', '/v1/workspaces'],
      ['POST', '/v1/workspaces', { name: 'sneakyws' }],
    ];
    for (const [method, path, body] of checks) {
      const r = await k.call(method, path, body === undefined ? {} : { json: body });
      expect(r.status, `${method} ${path}`).toBe(403);
      expect(r.json.error.code).toBe('forbidden');
      denials.push({ actor: 'agent:agent', path: null, code: 'forbidden' });
    }
    // the reader key was not revoked by the refused DELETE
    expect((await keys.reader!.api.get('/demo/drafts/r.txt')).status).toBe(200);
    expect((await admin.call('GET', '/v1/workspaces')).json.workspaces.map((w: any) => w.name)).not.toContain('sneakyws');
  });
});

describe('authentication', () => {
  it('a missing or garbage bearer is 401 unauthorized', async () => {
    const anon = (r: Reply) => denied(r, 401, 'unauthorized', { actor: 'anonymous', path: null });
    anon(await client(baton.url).get('/demo/drafts/r.txt'));
    anon(await client(baton.url, 'garbage').get('/demo/drafts/r.txt'));
    anon(await client(baton.url, 'bk_' + 'A'.repeat(32)).get('/demo/drafts/r.txt'));
    anon(await client(baton.url, baton.adminToken + 'x').get('/demo/drafts/r.txt'));
    anon(await rawRequest(baton.url, '/v1/files/demo/drafts/r.txt', { headers: { authorization: `Basic ${Buffer.from('a:b').toString('base64')}` } }));
    anon(await rawRequest(baton.url, '/v1/files/demo/drafts/r.txt', { headers: { authorization: 'Bearer' } }));
    anon(await client(baton.url).put('/demo/drafts/anon.txt', 'x'));
    expect(existsSync(onDisk('/demo/drafts/anon.txt'))).toBe(false);
    anon(await client(baton.url).call('GET', '/v1/keys'));
  });

  it('a revoked key fails on its very next request', async () => {
    const k = await key('revokee', ['read:/demo/drafts/**']);
    expect((await k.api.get('/demo/drafts/r.txt')).status).toBe(200);
    expect((await admin.call('DELETE', `/v1/keys/${k.id}`)).status).toBe(200);
    denied(await k.api.get('/demo/drafts/r.txt'), 401, 'unauthorized', { actor: 'anonymous', path: null });
    const listed = (await admin.call('GET', '/v1/keys')).json.keys.find((x: any) => x.id === k.id);
    expect(listed.revokedAt).toBeTruthy();
  });

  it('an expired key is 401', async () => {
    const expiresAt = new Date(Date.now() + 2000).toISOString();
    const k = await createKey(baton.url, baton.adminToken, { agent: 'shortlived', grants: ['read:/demo/drafts/**'], expiresAt });
    const api = client(baton.url, k.key);
    expect((await api.get('/demo/drafts/r.txt')).status).toBe(200);
    await sleep(Math.max(0, Date.parse(expiresAt) - Date.now()) + 300);
    denied(await api.get('/demo/drafts/r.txt'), 401, 'unauthorized', { actor: 'anonymous', path: null });
  });

  it('expiresAt in the past is bad_request on create', async () => {
    const r = await admin.post('/v1/keys', { agent: 'stale', grants: ['read:/demo/**'], expiresAt: new Date(Date.now() - 60_000).toISOString() });
    expect(r.status).toBe(400);
    expect(r.json.error.code).toBe('bad_request');
    expect(((await admin.call('GET', '/v1/keys')).json.keys as any[]).some((x) => x.agent === 'stale')).toBe(false);
  });
});

describe('audit of denials', () => {
  it('every denial above appears in GET /v1/audit with outcome "denied" and its code', async () => {
    const entries = (await auditEntries(baton.url, baton.adminToken)).filter((e) => e.outcome === 'denied');
    const pool = [...entries];
    for (const d of denials) {
      const i = pool.findIndex((e) => e.code === d.code && (d.actor === 'anonymous' || e.actor === d.actor) && (d.path === null || e.path === d.path));
      expect(i, `no denied audit entry for ${JSON.stringify(d)}`).toBeGreaterThanOrEqual(0);
      pool.splice(i, 1);
    }
    expect(denials.length).toBeGreaterThan(40);
  });
});
