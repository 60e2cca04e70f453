import { appendFileSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBaton, teardown, type TestBaton } from '../helpers/baton.js';
import { allEvents } from '../helpers/events.js';
import { client } from '../helpers/http.js';
import { eventually, sleep } from '../helpers/receiver.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';

/**
 * The folder watches on their own: the periodic rescan is set ten minutes away, so every change
 * below has to come from a watch (or the rescan a new folder asks for), not from a later pass.
 */

let redis: TestRedis;
let baton: TestBaton;
const onDisk = (p: string) => join(baton.dataDir, p.replace(/^\//, ''));
const api = () => client(baton.url, baton.adminToken);

async function eventsFor(path: string, n: number) {
  await eventually(async () => (await allEvents(api(), path)).length >= n, 10_000, `${n} event(s) for ${path}`, 100);
  return allEvents(api(), path);
}

beforeAll(async () => {
  redis = await startRedis();
  baton = await startBaton({ redisUrl: redis.url, env: { BATON_RESCAN_SECONDS: '600' } });
  await sleep(500);
});
afterAll(() => teardown(baton, redis));

describe('folder watches (rescan 10 min away)', () => {
  it('report a file dropped, appended to, and removed in an existing folder', async () => {
    const p = '/demo/inbox/watched.txt';
    writeFileSync(onDisk(p), 'one');
    expect((await eventsFor(p, 1)).map((e) => [e.event, e.actor, e.size])).toEqual([['file.created', 'fs', 3]]);
    appendFileSync(onDisk(p), ' two');
    expect((await eventsFor(p, 2)).map((e) => [e.event, e.size])).toEqual([['file.created', 3], ['file.updated', 7]]);
    rmSync(onDisk(p));
    expect((await eventsFor(p, 3)).map((e) => e.event)).toEqual(['file.created', 'file.updated', 'file.deleted']);
  });

  it("tell a change made on disk to a file Baton just wrote from Baton's own write", async () => {
    const p = '/demo/inbox/api-then-disk.txt';
    expect((await api().put(p, 'from the api')).status).toBe(201);
    await sleep(400); // past the quiet period: the watch has seen (and settled) Baton's own write
    appendFileSync(onDisk(p), ', then more on disk');
    const evs = await eventsFor(p, 2);
    expect(evs.map((e) => [e.event, e.actor, e.size])).toEqual([
      ['file.created', 'admin', 12],
      ['file.updated', 'fs', 31],
    ]);
  });

  it('a folder moved through the API: one file.moved per file it held, by the mover, and nothing from the watch', async () => {
    const files = ['one.txt', 'deep/two.txt', 'deep/er/three.txt'];
    for (const f of files) expect((await api().put(`/demo/inbox/fold/${f}`, f)).status).toBe(201);
    const mv = await api().post('/v1/move', { from: '/demo/inbox/fold', to: '/demo/outbox/fold' });
    expect(mv.status, mv.text).toBe(200);
    await sleep(1500); // the watch sees the folder vanish and appear, and rescans
    const moved = await allEvents(api(), '/demo/outbox/fold/**');
    expect(moved.map((e) => [e.event, e.path, e.from, e.actor]).sort()).toEqual(
      files.map((f) => ['file.moved', `/demo/outbox/fold/${f}`, `/demo/inbox/fold/${f}`, 'admin']).sort(),
    );
    // the old paths see their creation and the moves away (a move concerns both ends); none by fs
    const atOld = await allEvents(api(), '/demo/inbox/fold/**');
    expect(atOld.map((e) => e.event)).toEqual(['file.created', 'file.created', 'file.created', 'file.moved', 'file.moved', 'file.moved']);
    expect([...atOld, ...moved].filter((e) => e.actor !== 'admin')).toEqual([]);
    // the history moved along: the new path's versions start with the move, the old one ends in a tombstone
    const versions = (await api().call('GET', '/v1/versions/demo/outbox/fold/deep/two.txt')).json.versions;
    expect(versions[0]).toMatchObject({ actor: 'admin', deleted: false, size: 12 });
    const old = (await api().call('GET', '/v1/versions/demo/inbox/fold/deep/two.txt')).json.versions;
    expect(old[0]).toMatchObject({ deleted: true });
  });

  it('follow folders made after start, removed, and made again under the same name', async () => {
    const dir = '/demo/inbox/made/later/deep';
    mkdirSync(onDisk(dir), { recursive: true });
    writeFileSync(onDisk(`${dir}/a.txt`), 'a');
    await eventsFor(`${dir}/a.txt`, 1);
    // a file written into the new folder once it is watched, not only at the moment it appeared
    await sleep(300);
    writeFileSync(onDisk(`${dir}/b.txt`), 'b');
    await eventsFor(`${dir}/b.txt`, 1);
    rmSync(onDisk('/demo/inbox/made'), { recursive: true });
    await eventsFor(`${dir}/b.txt`, 2);
    mkdirSync(onDisk(dir), { recursive: true });
    await sleep(300);
    writeFileSync(onDisk(`${dir}/b.txt`), 'b again');
    const evs = await eventsFor(`${dir}/b.txt`, 3);
    expect(evs.map((e) => [e.event, e.size])).toEqual([['file.created', 1], ['file.deleted', 0], ['file.created', 7]]);
    expect((await allEvents(api(), `${dir}/a.txt`)).map((e) => e.event)).toEqual(['file.created', 'file.deleted']);
  });
});
