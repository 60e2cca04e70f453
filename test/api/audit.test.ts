import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditEntries, type AuditEntryJson } from '../helpers/audit.js';
import { removeDir, startBaton, type TestBaton } from '../helpers/baton.js';
import { client, createKey } from '../helpers/http.js';
import { sleep } from '../helpers/raw.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';
import { hashEntry } from '../../src/audit/entry.js';

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;
const HEX64 = /^[0-9a-f]{64}$/;

describe('the audit trail', () => {
  let redis: TestRedis;
  let baton: TestBaton;
  let admin: ReturnType<typeof client>;
  let alice: ReturnType<typeof client>;
  let bob: ReturnType<typeof client>;
  let alicePut: any;
  let midTime: string;

  beforeAll(async () => {
    redis = await startRedis();
    baton = await startBaton({ redisUrl: redis.url });
    admin = client(baton.url, baton.adminToken);
    alice = client(baton.url, (await createKey(baton.url, baton.adminToken, { agent: 'alice', grants: ['read:/demo/drafts/**', 'write:/demo/drafts/**'] })).key);
    bob = client(baton.url, (await createKey(baton.url, baton.adminToken, { agent: 'bob', grants: ['read:/demo/outbox/**', 'write:/demo/outbox/**'] })).key);

    alicePut = await alice.put('/demo/drafts/a.txt', 'alice wrote this');
    expect(alicePut.status).toBe(201);
    expect((await alice.get('/demo/outbox/secret.txt')).status).toBe(403);
    expect((await bob.put('/demo/outbox/b.txt', 'bob wrote this')).status).toBe(201);
    expect((await alice.get('/demo/drafts/a.txt')).status).toBe(200);
    await sleep(30);
    midTime = new Date().toISOString();
    await sleep(30);
    expect((await alice.put('/demo/drafts/late.txt', 'after the mark')).status).toBe(201);
    expect((await bob.get('/demo/drafts/a.txt')).status).toBe(403);
    for (let i = 0; i < 8; i++) await admin.put(`/demo/inbox/fill-${i}.txt`, `fill ${i}`);
  });
  afterAll(async () => {
    await baton?.stop();
    await redis?.stop();
    if (baton) {
      removeDir(baton.dataDir);
      removeDir(baton.workspacesDir);
    }
  });

  it('records allowed and denied requests with {seq,time,actor,action,path,outcome,code,etag,hash,prev}', async () => {
    const all = await auditEntries(baton.url, baton.adminToken);
    for (const e of all) {
      for (const k of ['seq', 'time', 'actor', 'action', 'path', 'outcome', 'code', 'etag', 'hash', 'prev']) expect(e, k).toHaveProperty(k);
      expect(typeof e.seq).toBe('number');
      expect(e.time).toMatch(ISO);
      expect(['allowed', 'denied']).toContain(e.outcome);
      expect(e.hash).toMatch(HEX64);
      expect(e.prev).toMatch(HEX64);
      if (e.outcome === 'allowed') expect(e.code).toBeNull();
      else expect(typeof e.code).toBe('string');
    }
    // in order, no seq twice
    const seqs = all.map((e) => e.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(new Set(seqs).size).toBe(seqs.length);
    // one process writes one chain: each entry links to the one before it
    for (let i = 1; i < all.length; i++) expect(all[i]!.prev, `entry ${all[i]!.seq}`).toBe(all[i - 1]!.hash);

    const write = all.find((e) => e.actor === 'agent:alice' && e.path === '/demo/drafts/a.txt' && e.outcome === 'allowed' && e.etag === alicePut.json.etag);
    expect(write, 'the allowed write').toBeTruthy();
    expect(write!.code).toBeNull();
    const deniedRead = all.find((e) => e.actor === 'agent:alice' && e.path === '/demo/outbox/secret.txt');
    expect(deniedRead).toMatchObject({ outcome: 'denied', code: 'forbidden' });
    const allowed = all.filter((e) => e.outcome === 'allowed' && e.action !== 'audit.read');
    expect(allowed.length).toBeGreaterThanOrEqual(2 + 4 + 8); // key creates, agent requests, fills
  });

  it('filters by ?actor=', async () => {
    const es = await auditEntries(baton.url, baton.adminToken, { actor: 'agent:alice' });
    expect(es.length).toBeGreaterThanOrEqual(4);
    for (const e of es) expect(e.actor).toBe('agent:alice');
    expect(es.some((e) => e.outcome === 'denied')).toBe(true);
    expect(es.some((e) => e.outcome === 'allowed')).toBe(true);
  });

  it('filters by ?action=', async () => {
    const all = await auditEntries(baton.url, baton.adminToken);
    const action = all.find((e) => e.actor === 'agent:alice' && e.path === '/demo/drafts/a.txt' && e.outcome === 'allowed' && e.etag === alicePut.json.etag)!.action;
    const es = await auditEntries(baton.url, baton.adminToken, { action });
    expect(es.length).toBeGreaterThanOrEqual(3 + 8);
    for (const e of es) expect(e.action).toBe(action);
    const other = all.filter((e) => e.action !== action);
    expect(other.length).toBeGreaterThan(0);
  });

  it('filters by ?path= (the path and what lies below it)', async () => {
    const exact = await auditEntries(baton.url, baton.adminToken, { path: '/demo/drafts/a.txt' });
    expect(exact.length).toBeGreaterThanOrEqual(3); // alice write, alice read, bob denied read
    for (const e of exact) expect(e.path).toBe('/demo/drafts/a.txt');
    const folder = await auditEntries(baton.url, baton.adminToken, { path: '/demo/drafts' });
    const paths = new Set(folder.map((e) => e.path));
    expect(paths.has('/demo/drafts/a.txt')).toBe(true);
    expect(paths.has('/demo/drafts/late.txt')).toBe(true);
    for (const p of paths) expect(p === '/demo/drafts' || String(p).startsWith('/demo/drafts/'), String(p)).toBe(true);
  });

  it('finds a move by ?path= of either end', async () => {
    await admin.put('/demo/inbox/moving.txt', 'moving');
    const moved = await admin.post('/v1/move', { from: '/demo/inbox/moving.txt', to: '/demo/drafts/moved-in.txt' });
    expect(moved.status).toBe(200);
    for (const end of ['/demo/inbox/moving.txt', '/demo/drafts/moved-in.txt', '/demo/drafts']) {
      const found = await auditEntries(baton.url, baton.adminToken, { path: end, action: 'file.move' });
      expect(found.map((e) => e.path), end).toContain('/demo/inbox/moving.txt -> /demo/drafts/moved-in.txt');
    }
  });

  it('filters by ?since=', async () => {
    const es = await auditEntries(baton.url, baton.adminToken, { since: midTime });
    expect(es.length).toBeGreaterThan(0);
    for (const e of es) expect(Date.parse(e.time)).toBeGreaterThanOrEqual(Date.parse(midTime));
    expect(es.some((e) => e.path === '/demo/drafts/late.txt')).toBe(true);
    expect(es.some((e) => e.path === '/demo/drafts/a.txt' && e.actor === 'agent:alice')).toBe(false);
    const bad = await admin.call('GET', '/v1/audit?since=yesterday-ish');
    expect(bad.status).toBe(400);
    expect(bad.json.error.code).toBe('bad_request');
  });

  it('pages with limit+cursor, each entry once, cursor null at the end', async () => {
    const snapshot = await auditEntries(baton.url, baton.adminToken);
    const seen: number[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const r = await admin.call('GET', `/v1/audit?limit=3${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      expect(r.status).toBe(200);
      expect(r.json.entries.length).toBeLessThanOrEqual(3);
      seen.push(...(r.json.entries as AuditEntryJson[]).map((e) => e.seq));
      cursor = r.json.cursor;
      expect(++pages).toBeLessThan(500);
    } while (cursor !== null);
    expect(pages).toBeGreaterThan(snapshot.length / 3 - 1);
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen).toEqual([...seen].sort((a, b) => a - b));
    for (const e of snapshot) expect(seen).toContain(e.seq);
    // the default page is at most 100 and says where to go on
    const first = await admin.call('GET', '/v1/audit?limit=2');
    expect(first.json.entries.length).toBe(2);
    expect(typeof first.json.cursor).toBe('string');
  });

  it('a key sees only the entries on paths it may read', async () => {
    const es = await auditEntries(baton.url, (await createKey(baton.url, baton.adminToken, { agent: 'auditor', grants: ['read:/demo/drafts/**'] })).key);
    expect(es.length).toBeGreaterThan(0);
    for (const e of es) expect(String(e.path).startsWith('/demo/drafts/'), JSON.stringify(e)).toBe(true);
    expect(es.some((e) => e.path === '/demo/drafts/a.txt' && e.actor === 'agent:alice')).toBe(true);
    expect(es.some((e) => e.path === '/demo/drafts/a.txt' && e.actor === 'agent:bob')).toBe(true); // bob's denial on a readable path

    const bobs = await auditEntries(baton.url, (await createKey(baton.url, baton.adminToken, { agent: 'bob2', grants: ['read:/demo/outbox/**'] })).key);
    for (const e of bobs) expect(String(e.path).startsWith('/demo/outbox/'), JSON.stringify(e)).toBe(true);
    expect(bobs.some((e) => e.path === '/demo/outbox/b.txt')).toBe(true);
    expect(bobs.some((e) => e.path?.startsWith('/demo/drafts'))).toBe(false);
  });

  it('GET /v1/audit/verify answers {ok:true,entries:N}', async () => {
    const before = await auditEntries(baton.url, baton.adminToken);
    const r = await admin.call('GET', '/v1/audit/verify');
    expect(r.status).toBe(200);
    expect(r.json.ok).toBe(true);
    expect(r.json.entries).toBeGreaterThanOrEqual(before.length);
    expect(r.json.entries).toBeLessThanOrEqual(before.length + 5);
  });
});

/**
 * Tampering: stop the server, edit the segment files on disk, start a new server on the same
 * data dir and Redis, and ask it to verify. Each case on its own data dir and Redis.
 */
async function tamperCase(mutate: (lines: string[]) => { lines: string[]; expectSeq: number }) {
  const redis = await startRedis();
  let baton = await startBaton({ redisUrl: redis.url });
  const { dataDir, workspacesDir } = baton;
  try {
    const api = client(baton.url, baton.adminToken);
    for (let i = 0; i < 12; i++) expect((await api.put(`/demo/inbox/t-${i}.txt`, `entry ${i}`)).status).toBe(201);
    expect((await client(baton.url).get('/demo/inbox/t-0.txt')).status).toBe(401);
    const ok = await api.call('GET', '/v1/audit/verify');
    expect(ok.json).toMatchObject({ ok: true });
    await baton.stop();

    const dir = join(dataDir, '.baton', 'audit');
    const segments = readdirSync(dir).filter((f) => f.endsWith('.jsonl'));
    expect(segments.length).toBe(1);
    const file = join(dir, segments[0]!);
    const lines = readFileSync(file, 'utf8').split('\n').filter((l) => l !== '');
    expect(lines.length).toBeGreaterThanOrEqual(14);
    const { lines: changed, expectSeq } = mutate(lines);
    writeFileSync(file, changed.map((l) => l + '\n').join(''));

    baton = await startBaton({ redisUrl: redis.url, dataDir, workspacesDir, adminToken: baton.adminToken });
    const r = await client(baton.url, baton.adminToken).call('GET', '/v1/audit/verify');
    expect(r.status).toBe(200);
    expect(r.json.ok, JSON.stringify(r.json)).toBe(false);
    expect(r.json.firstBad?.seq, JSON.stringify(r.json)).toBe(expectSeq);
    expect(typeof r.json.reason).toBe('string');
  } finally {
    await baton.stop();
    await redis.stop();
    removeDir(dataDir);
    removeDir(workspacesDir);
  }
}

const seqOf = (line: string) => (JSON.parse(line) as AuditEntryJson).seq;

describe('GET /v1/audit/verify finds tampering', () => {
  it('(a) one field of entry k edited → firstBad.seq === k', async () => {
    await tamperCase((lines) => {
      const i = 5;
      const e = JSON.parse(lines[i]!);
      e.actor = e.actor === 'agent:mallory' ? 'admin' : 'agent:mallory';
      lines[i] = JSON.stringify(e);
      return { lines, expectSeq: e.seq };
    });
  });

  it('(a2) outcome flipped from denied to allowed → firstBad.seq === k', async () => {
    await tamperCase((lines) => {
      const i = lines.findIndex((l) => JSON.parse(l).outcome === 'denied');
      expect(i).toBeGreaterThanOrEqual(0);
      const e = JSON.parse(lines[i]!);
      e.outcome = 'allowed';
      e.code = null;
      lines[i] = JSON.stringify(e);
      return { lines, expectSeq: e.seq };
    });
  });

  it('(b) the line of entry k deleted → firstBad.seq === k', async () => {
    await tamperCase((lines) => {
      const i = 6;
      const k = seqOf(lines[i]!);
      lines.splice(i, 1);
      return { lines, expectSeq: k };
    });
  });

  it('(c) lines k and k+1 swapped → firstBad.seq === k', async () => {
    await tamperCase((lines) => {
      const i = 4;
      const k = seqOf(lines[i]!);
      expect(seqOf(lines[i + 1]!)).toBe(k + 1);
      [lines[i], lines[i + 1]] = [lines[i + 1]!, lines[i]!];
      return { lines, expectSeq: k };
    });
  });

  it('(e) the last entry rewritten with a hash that fits its chain → caught by the witness in Redis', async () => {
    await tamperCase((lines) => {
      const i = lines.length - 1;
      const { hash: _old, ...rest } = JSON.parse(lines[i]!);
      rest.actor = rest.actor === 'agent:mallory' ? 'admin' : 'agent:mallory';
      lines[i] = JSON.stringify({ ...rest, hash: hashEntry(rest) });
      return { lines, expectSeq: rest.seq };
    });
  });

  it('(d) the last lines of a segment truncated → reported, naming the first removed entry', async () => {
    await tamperCase((lines) => {
      const cut = lines.length - 3;
      const k = seqOf(lines[cut]!);
      return { lines: lines.slice(0, cut), expectSeq: k };
    });
  });
});
