import { closeSync, mkdirSync, mkdtempSync, openSync, renameSync, symlinkSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeDir, startBaton, type TestBaton } from '../helpers/baton.js';
import { allEvents, type Ev } from '../helpers/events.js';
import { client, createKey } from '../helpers/http.js';
import { eventually, sleep } from '../helpers/receiver.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';

/** Files that change on the workspace's disk without Baton: reported once, as actor fs. */

const ENV = { BATON_RESCAN_SECONDS: '2' };

let redis: TestRedis;
let a: TestBaton; // the single-process tests
let pairRedis: TestRedis;
let p1: TestBaton; // two processes on one data directory and Redis
let p2: TestBaton;
let agentKey: string;
let pairKey: string;

const onDisk = (p: string) => join(a.dataDir, p.replace(/^\//, ''));
const onPairDisk = (p: string) => join(p1.dataDir, p.replace(/^\//, ''));
const admin = () => client(a.url, a.adminToken);

/** Wait until `glob` has at least `n` events, then a little more (past a rescan), and return them all. */
async function settle(api: ReturnType<typeof client>, glob: string, n: number, timeoutMs = 15_000): Promise<Ev[]> {
  await eventually(async () => (await allEvents(api, glob)).length >= n, timeoutMs, `${n} events under ${glob}`, 250);
  await sleep(2600);
  return allEvents(api, glob);
}

/** Paths with more than one event, with what each event said: for failure messages. */
function dups(evs: Ev[]): Array<[string, Array<[string, number, string]>]> {
  const by = new Map<string, Ev[]>();
  for (const e of evs) by.set(e.path, [...(by.get(e.path) ?? []), e]);
  return [...by].filter(([, l]) => l.length > 1).map(([p, l]) => [p, l.map((e) => [e.event, e.size, e.actor] as [string, number, string])]);
}

function countBy<T>(xs: T[], key: (x: T) => string): Map<string, number> {
  const m = new Map<string, number>();
  for (const x of xs) m.set(key(x), (m.get(key(x)) ?? 0) + 1);
  return m;
}

beforeAll(async () => {
  [redis, pairRedis] = await Promise.all([startRedis(), startRedis()]);
  [a, p1] = await Promise.all([startBaton({ redisUrl: redis.url, env: ENV }), startBaton({ redisUrl: pairRedis.url, env: ENV })]);
  // p1 takes the watch lease first; p2 joins on the same data directory and Redis
  p2 = await startBaton({ redisUrl: pairRedis.url, dataDir: p1.dataDir, workspacesDir: p1.workspacesDir, env: ENV, adminToken: p1.adminToken });
  agentKey = (await createKey(a.url, a.adminToken, { agent: 'api-writer', grants: ['read:/demo/**', 'write:/demo/**', 'delete:/demo/**'] })).key;
  pairKey = (await createKey(p1.url, p1.adminToken, { agent: 'api-writer', grants: ['read:/demo/**', 'write:/demo/**', 'delete:/demo/**'] })).key;
  // the watcher reconciles once at start; let it settle before dropping files
  await sleep(500);
});
afterAll(async () => {
  for (const b of [a, p1, p2]) await b?.stop();
  await redis?.stop();
  await pairRedis?.stop();
  for (const b of [a, p1]) {
    if (!b) continue;
    removeDir(b.dataDir);
    removeDir(b.workspacesDir);
  }
});

const killed = { at: 0, before: 0 };

describe('two processes on one data directory and Redis', () => {
  it('a dropped file is reported once, and API writes through either process once', async () => {
    const dir = '/demo/events/pair';
    mkdirSync(onPairDisk(dir), { recursive: true });
    for (let i = 0; i < 30; i++) writeFileSync(onPairDisk(`${dir}/d${i}.txt`), `dropped ${i}`);
    const via1 = client(p1.url, pairKey);
    const via2 = client(p2.url, pairKey);
    for (let i = 0; i < 10; i++) expect((await (i % 2 ? via1 : via2).put(`${dir}/api${i}.txt`, `api ${i}`)).status).toBe(201);
    const evs = await settle(client(p2.url, p2.adminToken), `${dir}/**`, 40);
    expect(dups(evs), 'paths reported more than once').toEqual([]);
    expect(evs).toHaveLength(40);
    for (const e of evs) expect(e.actor, e.path).toBe(e.path.includes('/api') ? 'agent:api-writer' : 'fs');
  });

  it('kill -9 of the process holding the watch lease, then files dropped (checked at the end of this file)', async () => {
    const r = new Redis(pairRedis.url);
    try {
      // which process watches is internal; the lease records its holder's pid
      const token = (await r.get('baton:watch:demo')) ?? '';
      expect(token, 'the watch lease names a holder').not.toBe('');
      if (token.startsWith(`${p2.proc.pid}-`)) [p1, p2] = [p2, p1];
      expect(token.startsWith(`${p1.proc.pid}-`), `lease ${token} held by neither ${p1.proc.pid} nor ${p2.proc.pid}`).toBe(true);
    } finally {
      r.disconnect();
    }
    killed.before = (await allEvents(client(p2.url, p2.adminToken), '/demo/**')).length;
    await p1.kill(); // p2 survives
    const dir = '/demo/tasks/pending/after-kill';
    mkdirSync(onPairDisk(dir), { recursive: true });
    for (let i = 0; i < 15; i++) writeFileSync(onPairDisk(`${dir}/t${i}.json`), JSON.stringify({ i }));
    await sleep(300);
    writeFileSync(onPairDisk(`${dir}/t0.json`), JSON.stringify({ i: 0, again: true })); // changed again before anyone watched
    killed.at = Date.now();
  });
});

describe('one process', () => {
  it('a file written, rewritten and removed on disk gives created, updated, deleted with actor fs, once each', async () => {
    const p = '/demo/inbox/disk-note.txt';
    writeFileSync(onDisk(p), 'first');
    const created = await eventually(async () => (await allEvents(admin(), p)).find((e) => e.event === 'file.created'), 10_000, 'file.created');
    const head = await admin().head(p);
    expect(created).toMatchObject({ path: p, workspaceId: 'ws_demo', actor: 'fs', size: 5 });
    expect(created.id).toMatch(/^evt_/);
    expect(`"${created.etag}"`).toBe(head.headers.get('etag'));
    expect(Number.isInteger(created.version)).toBe(true);

    await sleep(50);
    writeFileSync(onDisk(p), 'second, longer');
    const updated = await eventually(async () => (await allEvents(admin(), p)).find((e) => e.event === 'file.updated'), 10_000, 'file.updated');
    expect(updated).toMatchObject({ path: p, actor: 'fs', size: 14 });
    expect(updated.etag).not.toBe(created.etag);
    expect(updated.seq).toBeGreaterThan(created.seq);

    unlinkSync(onDisk(p));
    await eventually(async () => (await allEvents(admin(), p)).find((e) => e.event === 'file.deleted'), 10_000, 'file.deleted');
    await sleep(2600); // past a rescan
    const all = await allEvents(admin(), p);
    expect(all.map((e) => [e.event, e.actor])).toEqual([
      ['file.created', 'fs'],
      ['file.updated', 'fs'],
      ['file.deleted', 'fs'],
    ]);
  });

  it('a writer that writes a temp file and renames it is seen once, under the final name only', async () => {
    const dir = '/demo/outbox/atomic';
    mkdirSync(onDisk(dir), { recursive: true });
    const finals: string[] = [];
    for (let i = 0; i < 20; i++) {
      const name = `report-${i}.md`;
      const tmp = i % 2 ? `.${name}.${process.pid}.tmp` : `${name}~tmp${i}`;
      writeFileSync(onDisk(`${dir}/${tmp}`), `# report ${i}\n`);
      renameSync(onDisk(`${dir}/${tmp}`), onDisk(`${dir}/${name}`));
      finals.push(`${dir}/${name}`);
      await sleep(20);
    }
    const evs = await settle(admin(), `${dir}/**`, 20);
    expect(evs.filter((e) => !finals.includes(e.path)).map((e) => [e.event, e.path])).toEqual([]);
    expect(evs.map((e) => e.path).sort()).toEqual([...finals].sort());
    expect(evs.every((e) => e.event === 'file.created' && e.actor === 'fs')).toBe(true);
  });

  it('a file still being written (two writes 80 ms apart, into a new folder) is reported once, with its final size', async () => {
    const paths: string[] = [];
    for (let i = 0; i < 8; i++) {
      const dir = `/demo/outbox/slow-writer-${i}`;
      mkdirSync(onDisk(dir)); // a new folder makes the watcher rescan right away
      const p = `${dir}/download.bin`;
      const fd = openSync(onDisk(p), 'w');
      writeSync(fd, 'a'.repeat(1000));
      await sleep(80);
      writeSync(fd, 'b'.repeat(1000));
      closeSync(fd);
      paths.push(p);
    }
    const evs = await settle(admin(), '/demo/outbox/slow-writer-*/**', 8);
    expect(dups(evs), 'paths reported more than once').toEqual([]);
    expect(evs.map((e) => [e.path, e.event, e.size]).sort()).toEqual(paths.map((p) => [p, 'file.created', 2000]).sort());
  });

  it('a rescan reports the files of a tree, and nothing behind a symlink that leads out of the workspace', async () => {
    const outside = mkdtempSync(join(tmpdir(), 'baton-outside-'));
    try {
      writeFileSync(join(outside, 'secret.txt'), 'CANARY');
      const dir = onDisk('/demo/inbox/links');
      mkdirSync(join(dir, 'deep', 'er'), { recursive: true });
      symlinkSync(outside, join(dir, 'outdir'));
      symlinkSync(join(outside, 'secret.txt'), join(dir, 'outfile'));
      writeFileSync(join(dir, 'plain.txt'), 'in');
      writeFileSync(join(dir, 'deep', 'er', 'nested.txt'), 'in');
      const evs = await settle(admin(), '/demo/inbox/links/**', 2);
      expect(evs.map((e) => e.path).sort()).toEqual(['/demo/inbox/links/deep/er/nested.txt', '/demo/inbox/links/plain.txt']);
    } finally {
      removeDir(outside);
    }
  });

  it("Baton's own API writes are reported once each, never again by the watcher", async () => {
    const api = client(a.url, agentKey);
    const dir = '/demo/drafts/api';
    for (let i = 0; i < 10; i++) expect((await api.put(`${dir}/f${i}.txt`, `v1 ${i}`)).status).toBe(201);
    for (let i = 0; i < 5; i++) expect((await api.put(`${dir}/f${i}.txt`, `v2 ${i}`)).status).toBe(200);
    for (let i = 5; i < 8; i++) expect((await api.post('/v1/move', { from: `${dir}/f${i}.txt`, to: `${dir}/moved/f${i}.txt` })).status).toBe(200);
    for (let i = 8; i < 10; i++) expect((await api.del(`${dir}/f${i}.txt`)).status).toBeLessThan(300);
    const evs = await settle(admin(), `${dir}/**`, 20);
    expect(evs.filter((e) => e.actor !== 'agent:api-writer').map((e) => [e.event, e.path, e.actor])).toEqual([]);
    const tally = countBy(evs, (e) => e.event);
    expect(Object.fromEntries(tally)).toEqual({ 'file.created': 10, 'file.updated': 5, 'file.moved': 3, 'file.deleted': 2 });
  });

  it('1,000 files dropped at once into a new folder give exactly 1,000 file.created events, none twice', async () => {
    const dir = onDisk('/demo/inbox/bulk');
    mkdirSync(dir);
    for (let i = 0; i < 1000; i++) writeFileSync(join(dir, `f${String(i).padStart(4, '0')}.txt`), `bulk ${i}`);
    const t0 = Date.now();
    let evs: Ev[] = [];
    try {
      await eventually(async () => (evs = await allEvents(admin(), '/demo/inbox/bulk/**')).length >= 1000, 30_000, '1000 events', 500);
    } catch (err) {
      throw new Error(`${(err as Error).message}; got ${evs.length} (${new Set(evs.map((e) => e.path)).size} distinct paths) after ${Date.now() - t0} ms`);
    }
    await sleep(2600);
    evs = await allEvents(admin(), '/demo/inbox/bulk/**');
    expect(dups(evs), 'paths reported more than once').toEqual([]);
    expect(evs).toHaveLength(1000);
    expect(evs.every((e) => e.event === 'file.created' && e.actor === 'fs')).toBe(true);
    expect(new Set(evs.map((e) => e.id)).size).toBe(1000);
  }, 60_000);

  it('a burst that rewrites some files and removes others (judged together) numbers each change next, once', async () => {
    const base = '/demo/inbox/mixed';
    mkdirSync(onDisk(base));
    const name = (i: number) => `${base}/m${String(i).padStart(3, '0')}.txt`;
    for (let i = 0; i < 200; i++) writeFileSync(onDisk(name(i)), `v1 ${i}`);
    await eventually(async () => (await allEvents(admin(), `${base}/**`)).length >= 200, 20_000, '200 created', 250);
    await sleep(300);
    // One burst: even files rewritten, odd files removed.
    for (let i = 0; i < 200; i++) {
      if (i % 2 === 0) writeFileSync(onDisk(name(i)), `second ${i}`);
      else unlinkSync(onDisk(name(i)));
    }
    const evs = await settle(admin(), `${base}/**`, 400, 20_000);
    expect(dups(evs.filter((e) => e.event !== 'file.created')), 'changes reported more than once').toEqual([]);
    expect(evs).toHaveLength(400);
    for (let i = 0; i < 200; i++) {
      const mine = evs.filter((e) => e.path === name(i)).map((e) => [e.event, e.version, e.actor]);
      expect(mine).toEqual([
        ['file.created', 1, 'fs'],
        [i % 2 === 0 ? 'file.updated' : 'file.deleted', 2, 'fs'],
      ]);
    }
    // The log took each change: the next write through the API is version 3.
    const put = await client(a.url, agentKey).put(name(0), 'third', { 'content-type': 'text/plain' });
    expect(put.status).toBe(200);
    expect(put.json.version).toBe(3);
    const gone = await client(a.url, agentKey).put(name(1), 'back', { 'content-type': 'text/plain' });
    expect(gone.status).toBe(201);
    expect(gone.json.version).toBe(3);
  }, 60_000);
});

describe("after the killed holder's lease lapses (lease 15 s)", () => {
  it('the files dropped after the kill are reported once each by the surviving process', async () => {
    expect(killed.at, 'the kill test ran').toBeGreaterThan(0);
    const dir = '/demo/tasks/pending/after-kill';
    const api = client(p2.url, p2.adminToken);
    let evs: Ev[] = [];
    try {
      await eventually(async () => (evs = await allEvents(api, `${dir}/**`)).length >= 15, Math.max(3000, 30_000 - (Date.now() - killed.at)), '15 events after the kill', 500);
    } catch (err) {
      throw new Error(`${(err as Error).message}; got ${evs.length} ${Math.round((Date.now() - killed.at) / 1000)} s after the kill`);
    }
    await sleep(2600);
    evs = await allEvents(api, `${dir}/**`);
    expect(dups(evs), 'paths reported more than once').toEqual([]);
    expect(evs).toHaveLength(15);
    expect(evs.every((e) => e.event === 'file.created' && e.actor === 'fs')).toBe(true);
    // the take-over reconcile did not report a second time anything already reported
    const everything = await allEvents(api, '/demo/**');
    expect(everything.length).toBe(killed.before + 15);
  }, 45_000);
});
