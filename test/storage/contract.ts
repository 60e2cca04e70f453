import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BatonError, type ErrorCode } from '../../src/core/errors.js';
import { parsePath, type BatonPath } from '../../src/core/paths.js';
import type { StorageDriver, WalkEntry, WalkOptions, WriteOptions, WriteResult } from '../../src/storage/driver.js';

/** One backend under test, driven in process. */
export interface Harness {
  driver: StorageDriver;
  workspace: string;
  /** Whether folders can be moved (else a folder move is refused with bad_request). */
  folderMoves: boolean;
  /** The actor of bytes that appeared without Baton once a version records them. */
  outsideActor: 'fs' | 's3';
  /** Put bytes at a workspace-relative path straight into the backend, behind Baton's back. */
  dropOutside(rel: string, bytes: string): Promise<void>;
  /** Remove a file straight from the backend, behind Baton's back. */
  removeOutside(rel: string): Promise<void>;
  teardown(): Promise<void>;
}

const LIMIT = 1024 * 1024;

/**
 * The behaviour every StorageDriver owes the rest of Baton: version numbering, preconditions,
 * tombstones, moves with one winner, resumable walks, the outside-change rule, commit hooks and
 * path locks. Each test works in its own folder of one shared workspace.
 */
export function storageContract(name: string, setup: () => Promise<Harness>): void {
  describe(`storage contract: ${name}`, () => {
    let h: Harness;
    let driver: StorageDriver;
    let folders = 0;

    beforeAll(async () => {
      h = await setup();
      driver = h.driver;
    });
    afterAll(async () => {
      await h?.teardown();
    });

    /** A fresh folder name for one test, so tests never see each other's files. */
    const fresh = () => `t${++folders}`;
    const at = (rel: string): BatonPath => parsePath(`/${h.workspace}/${rel}`);

    function put(rel: string, text: string, opts: Partial<WriteOptions> = {}): Promise<WriteResult> {
      return driver.write(at(rel), Readable.from([Buffer.from(text)]), { mimeType: 'text/plain', actor: 'alice', maxBytes: LIMIT, ...opts });
    }

    async function text(rel: string, version?: number): Promise<string> {
      const { body } = await driver.read(at(rel), version === undefined ? {} : { version });
      const chunks: Buffer[] = [];
      for await (const c of body) chunks.push(Buffer.from(c as Uint8Array));
      return Buffer.concat(chunks).toString();
    }

    async function walked(rel: string, opts: Partial<WalkOptions> = {}): Promise<WalkEntry[]> {
      const out: WalkEntry[] = [];
      for await (const batch of driver.walk(at(rel), { after: null, recursive: true, ...opts })) out.push(...batch);
      return out;
    }

    const names = (entries: WalkEntry[], base: string) => entries.map((e) => e.path.full.slice(`/${h.workspace}/${base}/`.length));

    /** The BatonError `work` fails with; fails the test if it succeeds or throws anything else. */
    async function failure(work: Promise<unknown>, code: ErrorCode): Promise<BatonError> {
      let caught: unknown;
      try {
        await work;
      } catch (err) {
        caught = err;
      }
      expect(caught, `expected ${code}`).toBeInstanceOf(BatonError);
      const e = caught as BatonError;
      expect({ code: e.code, message: e.message }).toMatchObject({ code });
      return e;
    }

    const summary = async (rel: string) => (await driver.versions(at(rel))).map((v) => ({ version: v.version, actor: v.actor, deleted: v.deleted }));

    it('numbers versions 1, 2, 3, lists them newest first with their actors, and reads old ones', async () => {
      const d = fresh();
      const w1 = await put(`${d}/a.txt`, 'one', { actor: 'alice' });
      const w2 = await put(`${d}/a.txt`, 'two!', { actor: 'bob' });
      const w3 = await put(`${d}/a.txt`, 'three', { actor: 'carol' });
      expect([w1, w2, w3].map((w) => [w.entry.version, w.created])).toEqual([
        [1, true],
        [2, false],
        [3, false],
      ]);
      expect(new Set([w1.entry.etag, w2.entry.etag, w3.entry.etag]).size).toBe(3);
      const versions = await driver.versions(at(`${d}/a.txt`));
      expect(versions.map((v) => [v.version, v.actor, v.deleted, v.size, v.etag])).toEqual([
        [3, 'carol', false, 5, w3.entry.etag],
        [2, 'bob', false, 4, w2.entry.etag],
        [1, 'alice', false, 3, w1.entry.etag],
      ]);
      expect(await driver.stat(at(`${d}/a.txt`))).toMatchObject({ type: 'file', version: 3, size: 5, etag: w3.entry.etag, mimeType: 'text/plain' });
      expect(await text(`${d}/a.txt`, 1)).toBe('one');
      expect(await text(`${d}/a.txt`, 2)).toBe('two!');
      expect(await text(`${d}/a.txt`, 3)).toBe('three');
      const old = await driver.read(at(`${d}/a.txt`), { version: 1 });
      old.body.destroy();
      expect(old.entry).toMatchObject({ version: 1, etag: w1.entry.etag, size: 3 });
      expect((await failure(driver.read(at(`${d}/a.txt`), { version: 9 }), 'not_found')).message).toContain('no version 9');
      expect((await failure(driver.read(at(`${d}/nothing.txt`)), 'not_found')).message).toContain('does not exist');
      await failure(driver.versions(at(`${d}/nothing.txt`)), 'not_found');
      await failure(driver.versions(at(d)), 'bad_request');
      await failure(driver.read(at(d)), 'bad_request');
    });

    it('restores an old version as a new one, calling onCommit once with the result', async () => {
      const d = fresh();
      await put(`${d}/r.txt`, 'first');
      await put(`${d}/r.txt`, 'second');
      const seen: unknown[] = [];
      const r = await driver.restore(at(`${d}/r.txt`), 1, { actor: 'restorer', onCommit: async (x) => void seen.push(x) });
      expect(r).toMatchObject({ restoredFrom: 1, created: false, entry: { version: 3, size: 5 } });
      expect(seen).toHaveLength(1);
      expect(seen[0]).toMatchObject({ entry: r.entry, created: r.created });
      expect(await text(`${d}/r.txt`)).toBe('first');
      expect((await driver.versions(at(`${d}/r.txt`)))[0]).toMatchObject({ version: 3, actor: 'restorer', etag: r.entry.etag });
      expect(await text(`${d}/r.txt`, 2)).toBe('second');
      expect((await failure(driver.restore(at(`${d}/r.txt`), 7, { actor: 'x' }), 'not_found')).message).toContain('no version 7');
    });

    it('applies If-Match and If-None-Match, refusing with precondition_failed and changing nothing', async () => {
      const d = fresh();
      const f = `${d}/p.txt`;
      expect((await failure(put(f, 'x', { ifMatch: 'nope' }), 'precondition_failed')).message).toContain('etag');
      expect(await driver.stat(at(f))).toBeNull();
      const w1 = await put(f, 'v1', { ifNoneMatch: true });
      expect(w1).toMatchObject({ created: true, entry: { version: 1 } });
      expect((await failure(put(f, 'again', { ifNoneMatch: true }), 'precondition_failed')).message).toContain('already exists');
      const w2 = await put(f, 'v2', { ifMatch: w1.entry.etag! });
      expect(w2.entry.version).toBe(2);
      await failure(put(f, 'stale', { ifMatch: w1.entry.etag! }), 'precondition_failed');
      await failure(driver.delete(at(f), { actor: 'alice', ifMatch: w1.entry.etag! }), 'precondition_failed');
      expect(await text(f)).toBe('v2');
      expect(await summary(f)).toEqual([
        { version: 2, actor: 'alice', deleted: false },
        { version: 1, actor: 'alice', deleted: false },
      ]);
    });

    it('lets exactly one of several concurrent create-only writers win', async () => {
      const d = fresh();
      const f = `${d}/race.txt`;
      const results = await Promise.allSettled([0, 1, 2, 3, 4].map((i) => put(f, `writer ${i}`, { ifNoneMatch: true, actor: `w${i}` })));
      const won = results.filter((r) => r.status === 'fulfilled');
      expect(won).toHaveLength(1);
      for (const r of results) if (r.status === 'rejected') expect(r.reason).toMatchObject({ code: 'precondition_failed' });
      const winner = (won[0] as PromiseFulfilledResult<WriteResult>).value;
      expect(winner.entry.version).toBe(1);
      const versions = await driver.versions(at(f));
      expect(versions).toHaveLength(1);
      expect(await text(f)).toBe(`writer ${versions[0]!.actor.slice(1)}`);
    });

    it('lets exactly one of several concurrent compare-and-swap writers from one etag win', async () => {
      const d = fresh();
      const f = `${d}/cas.txt`;
      const base = await put(f, 'base');
      const results = await Promise.allSettled([0, 1, 2, 3, 4].map((i) => put(f, `updater ${i}`, { ifMatch: base.entry.etag!, actor: `u${i}` })));
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      for (const r of results) if (r.status === 'rejected') expect(r.reason).toMatchObject({ code: 'precondition_failed' });
      const versions = await driver.versions(at(f));
      expect(versions.map((v) => v.version)).toEqual([2, 1]);
      expect(await text(f)).toBe(`updater ${versions[0]!.actor.slice(1)}`);
    });

    it('refuses a body over maxBytes with payload_too_large and leaves no trace', async () => {
      const d = fresh();
      const big = 'x'.repeat(100);
      expect((await failure(put(`${d}/big.txt`, big, { maxBytes: 10 }), 'payload_too_large')).message).toContain('10 bytes');
      expect(await driver.stat(at(`${d}/big.txt`))).toBeNull();
      await failure(driver.versions(at(`${d}/big.txt`)), 'not_found');
      await put(`${d}/small.txt`, 'ok');
      await failure(put(`${d}/small.txt`, big, { maxBytes: 10 }), 'payload_too_large');
      expect(await text(`${d}/small.txt`)).toBe('ok');
      expect(await summary(`${d}/small.txt`)).toEqual([{ version: 1, actor: 'alice', deleted: false }]);
    });

    it('deletes a file into a tombstone and keeps numbering when it is written again', async () => {
      const d = fresh();
      const f = `${d}/del.txt`;
      await put(f, 'one');
      const w2 = await put(f, 'two');
      const seen: unknown[] = [];
      const gone = await driver.delete(at(f), { actor: 'deleter', onCommit: async (e) => void seen.push(e) });
      expect(gone).toMatchObject({ path: at(f).full, type: 'file', version: 2, etag: w2.entry.etag });
      expect(seen).toEqual([gone]);
      expect(await driver.stat(at(f))).toBeNull();
      await failure(driver.read(at(f)), 'not_found');
      expect((await failure(driver.delete(at(f), { actor: 'x' }), 'not_found')).message).toContain('does not exist');
      expect(await summary(f)).toEqual([
        { version: 3, actor: 'deleter', deleted: true },
        { version: 2, actor: 'alice', deleted: false },
        { version: 1, actor: 'alice', deleted: false },
      ]);
      expect((await failure(driver.read(at(f), { version: 3 }), 'not_found')).message).toContain('deletion marker');
      expect(await text(f, 2)).toBe('two');
      const again = await put(f, 'four');
      expect(again).toMatchObject({ created: true, entry: { version: 4 } });
      // a deleted file restores into a new version that creates it again
      await driver.delete(at(f), { actor: 'deleter' });
      const back = await driver.restore(at(f), 1, { actor: 'restorer' });
      expect(back).toMatchObject({ created: true, restoredFrom: 1, entry: { version: 6, size: 3 } });
      expect(await driver.stat(at(f))).toMatchObject({ version: 6, etag: back.entry.etag });
      expect(await text(f)).toBe('one');
      expect((await failure(driver.delete(at(`${d}/missing.txt`), { actor: 'x' }), 'not_found')).message).toContain('does not exist');
    });

    it('deletes an empty folder and refuses a folder that is not empty with conflict', async () => {
      const d = fresh();
      await driver.mkdir(at(`${d}/full`));
      await put(`${d}/full/f.txt`, 'x');
      expect((await failure(driver.delete(at(`${d}/full`), { actor: 'x' }), 'conflict')).message).toContain('not empty');
      expect(await text(`${d}/full/f.txt`)).toBe('x');
      await driver.delete(at(`${d}/full/f.txt`), { actor: 'x' });
      expect(await driver.stat(at(`${d}/full`))).toMatchObject({ type: 'directory' });
      await driver.mkdir(at(`${d}/empty`));
      const gone = await driver.delete(at(`${d}/empty`), { actor: 'x' });
      expect(gone).toMatchObject({ type: 'directory' });
      expect(await driver.stat(at(`${d}/empty`))).toBeNull();
    });

    it('keeps the folder a write made when its only file is deleted or moved out', async () => {
      const d = fresh();
      await put(`${d}/deleted/only.txt`, 'x');
      await put(`${d}/left/only.txt`, 'y');
      await driver.delete(at(`${d}/deleted/only.txt`), { actor: 'x' });
      await driver.move(at(`${d}/left/only.txt`), at(`${d}/moved.txt`), { actor: 'x', overwrite: false });
      for (const folder of ['deleted', 'left']) {
        expect(await driver.stat(at(`${d}/${folder}`)), folder).toMatchObject({ type: 'directory' });
        expect(await walked(`${d}/${folder}`), folder).toEqual([]);
      }
    });

    it('moves a file: the destination gets its next version, the source a tombstone naming where the bytes went', async () => {
      const d = fresh();
      await put(`${d}/src.txt`, 'old');
      const w2 = await put(`${d}/src.txt`, 'moving', { mimeType: 'text/markdown' });
      // the destination has a history of its own, so the moved bytes continue it
      await put(`${d}/dst.txt`, 'earlier');
      await driver.delete(at(`${d}/dst.txt`), { actor: 'x' });
      const seen: unknown[] = [];
      const moved = await driver.move(at(`${d}/src.txt`), at(`${d}/dst.txt`), { actor: 'mover', overwrite: false, onCommit: async (m) => void seen.push(m) });
      expect(seen).toEqual([moved]);
      expect(moved.from).toMatchObject({ path: at(`${d}/src.txt`).full, version: 2, etag: w2.entry.etag });
      expect(moved.to).toMatchObject({ path: at(`${d}/dst.txt`).full, type: 'file', version: 3, size: 6, mimeType: 'text/markdown' });
      expect(await driver.stat(at(`${d}/src.txt`))).toBeNull();
      expect(await driver.stat(at(`${d}/dst.txt`))).toMatchObject({ version: 3, etag: moved.to.etag, mimeType: 'text/markdown' });
      expect(await text(`${d}/dst.txt`)).toBe('moving');
      expect(await summary(`${d}/dst.txt`)).toEqual([
        { version: 3, actor: 'mover', deleted: false },
        { version: 2, actor: 'x', deleted: true },
        { version: 1, actor: 'alice', deleted: false },
      ]);
      expect(await summary(`${d}/src.txt`)).toEqual([
        { version: 3, actor: 'mover', deleted: true },
        { version: 2, actor: 'alice', deleted: false },
        { version: 1, actor: 'alice', deleted: false },
      ]);
      expect(await text(`${d}/src.txt`, 1)).toBe('old');
      expect((await failure(driver.read(at(`${d}/src.txt`), { version: 2 }), 'not_found')).message).toContain(`version 2 of ${at(`${d}/src.txt`).full}`);
      expect((await failure(driver.move(at(`${d}/src.txt`), at(`${d}/x.txt`), { actor: 'm', overwrite: false }), 'not_found')).message).toContain('does not exist');
      expect(await driver.stat(at(`${d}/x.txt`))).toBeNull();
      await failure(driver.move(at(`${d}/dst.txt`), at(`${d}/dst.txt`), { actor: 'm', overwrite: true }), 'bad_request');
    });

    it('says where the bytes of a moved version went', async () => {
      const d = fresh();
      await put(`${d}/gone.txt`, 'bytes');
      await driver.move(at(`${d}/gone.txt`), at(`${d}/here.txt`), { actor: 'm', overwrite: false });
      const e = await failure(driver.read(at(`${d}/gone.txt`), { version: 1 }), 'not_found');
      expect(e.message).toContain(`moved to ${at(`${d}/here.txt`).full}`);
    });

    it('moves onto an existing file only with overwrite, keeping the replaced bytes as a version', async () => {
      const d = fresh();
      await put(`${d}/a.txt`, 'from a');
      await put(`${d}/b.txt`, 'was b');
      expect((await failure(driver.move(at(`${d}/a.txt`), at(`${d}/b.txt`), { actor: 'm', overwrite: false }), 'conflict')).message).toContain('already exists');
      expect(await text(`${d}/a.txt`)).toBe('from a');
      expect(await text(`${d}/b.txt`)).toBe('was b');
      const moved = await driver.move(at(`${d}/a.txt`), at(`${d}/b.txt`), { actor: 'm', overwrite: true });
      expect(moved.to.version).toBe(2);
      expect(await text(`${d}/b.txt`)).toBe('from a');
      expect(await text(`${d}/b.txt`, 1)).toBe('was b');
      expect(await summary(`${d}/b.txt`)).toEqual([
        { version: 2, actor: 'm', deleted: false },
        { version: 1, actor: 'alice', deleted: false },
      ]);
      expect(await driver.stat(at(`${d}/a.txt`))).toBeNull();
    });

    it('lets exactly one of several concurrent movers of one file win', async () => {
      const d = fresh();
      await put(`${d}/hot.txt`, 'contended');
      const results = await Promise.allSettled([0, 1, 2, 3, 4].map((i) => driver.move(at(`${d}/hot.txt`), at(`${d}/to${i}.txt`), { actor: `m${i}`, overwrite: false })));
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      for (const r of results) if (r.status === 'rejected') expect(['not_found', 'conflict']).toContain((r.reason as BatonError).code);
      const landed = (await Promise.all([0, 1, 2, 3, 4].map((i) => driver.stat(at(`${d}/to${i}.txt`))))).filter((e) => e !== null);
      expect(landed).toHaveLength(1);
      expect(landed[0]!.version).toBe(1);
      expect(await driver.stat(at(`${d}/hot.txt`))).toBeNull();
    });

    it('lets exactly one of several files moved concurrently to one destination land, the others stay put', async () => {
      const d = fresh();
      for (let i = 0; i < 5; i++) await put(`${d}/src${i}.txt`, `source ${i}`);
      const results = await Promise.allSettled([0, 1, 2, 3, 4].map((i) => driver.move(at(`${d}/src${i}.txt`), at(`${d}/one.txt`), { actor: 'm', overwrite: false })));
      const winner = results.findIndex((r) => r.status === 'fulfilled');
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      for (const r of results) if (r.status === 'rejected') expect((r.reason as BatonError).code).toBe('conflict');
      expect(await text(`${d}/one.txt`)).toBe(`source ${winner}`);
      for (let i = 0; i < 5; i++) {
        if (i === winner) expect(await driver.stat(at(`${d}/src${i}.txt`))).toBeNull();
        else expect(await text(`${d}/src${i}.txt`)).toBe(`source ${i}`);
      }
    });

    it('never loses a file to concurrent moves in both directions between two paths', async () => {
      const d = fresh();
      await put(`${d}/ping.txt`, 'ping');
      await put(`${d}/pong.txt`, 'pong');
      const [a, b] = [at(`${d}/ping.txt`), at(`${d}/pong.txt`)];
      const results = await Promise.allSettled([0, 1, 2, 3, 4, 5].map((i) => (i % 2 ? driver.move(a, b, { actor: 'm', overwrite: false }) : driver.move(b, a, { actor: 'm', overwrite: false }))));
      // both exist and overwrite is off, so every move must be refused and nothing change
      for (const r of results) expect(r.status === 'rejected' && ['conflict', 'not_found'].includes((r.reason as BatonError).code)).toBe(true);
      expect(await text(`${d}/ping.txt`)).toBe('ping');
      expect(await text(`${d}/pong.txt`)).toBe('pong');
    });

    it('moves a folder with its files and their histories, or refuses with bad_request where folders cannot move', async () => {
      const d = fresh();
      await put(`${d}/f/a.txt`, 'a1');
      await put(`${d}/f/a.txt`, 'a2');
      await put(`${d}/f/sub/b.txt`, 'b1');
      if (!h.folderMoves) {
        expect((await failure(driver.move(at(`${d}/f`), at(`${d}/g`), { actor: 'm', overwrite: false }), 'bad_request')).message).toContain('folder');
        expect(await text(`${d}/f/a.txt`)).toBe('a2');
        expect(await driver.stat(at(`${d}/g`))).toBeNull();
        return;
      }
      const moved = await driver.move(at(`${d}/f`), at(`${d}/g`), { actor: 'm', overwrite: false });
      expect(moved.to).toMatchObject({ path: at(`${d}/g`).full, type: 'directory' });
      expect(moved.files?.map((f) => [f.from.path, f.to.path, f.to.version]).sort()).toEqual([
        [at(`${d}/f/a.txt`).full, at(`${d}/g/a.txt`).full, 1],
        [at(`${d}/f/sub/b.txt`).full, at(`${d}/g/sub/b.txt`).full, 1],
      ]);
      expect(await driver.stat(at(`${d}/f`))).toBeNull();
      expect(await text(`${d}/g/a.txt`)).toBe('a2');
      expect(await text(`${d}/g/sub/b.txt`)).toBe('b1');
      expect(await summary(`${d}/f/a.txt`)).toEqual([
        { version: 3, actor: 'm', deleted: true },
        { version: 2, actor: 'alice', deleted: false },
        { version: 1, actor: 'alice', deleted: false },
      ]);
      expect(await text(`${d}/f/a.txt`, 1)).toBe('a1');
      await failure(driver.read(at(`${d}/f/a.txt`), { version: 2 }), 'not_found');
      await failure(driver.move(at(`${d}/g`), at(`${d}/g/inside`), { actor: 'm', overwrite: false }), 'bad_request');
    });

    it('walks in a stable order that resumes after any yielded path, recursively or not, with pruning and metadata', async () => {
      const d = fresh();
      // names whose order differs between byte, key and folder-first sorting
      const files = ['b.txt', 'a-b', 'a.txt', 'a/x.txt', 'a/y/z.txt', 'c/d/e.txt', 'a b/y.txt', 'Z.txt', '~t.txt', '\u00e4.txt'];
      for (const f of files) await put(`${d}/${f}`, f, f === 'a/x.txt' ? { mimeType: 'text/markdown' } : {});
      await driver.mkdir(at(`${d}/empty`));
      const all = await walked(d);
      const dirs = ['a', 'a b', 'a/y', 'c', 'c/d', 'empty'];
      expect([...names(all, d)].sort()).toEqual([...files, ...dirs].sort());
      for (const e of all) expect(e.type).toBe(dirs.includes(names([e], d)[0]!) ? 'directory' : 'file');
      // a parent comes before what it holds
      const order = names(all, d);
      expect(new Set(order).size).toBe(order.length);
      expect(order.indexOf('a')).toBeLessThan(order.indexOf('a/y'));
      expect(order.indexOf('a/y')).toBeLessThan(order.indexOf('a/y/z.txt'));
      expect(names(await walked(d), d)).toEqual(order);
      for (let i = 0; i < all.length; i++) {
        if (all[i]!.type !== 'file') continue;
        expect(names(await walked(d, { after: all[i]!.path }), d), `after ${order[i]}`).toEqual(order.slice(i + 1));
      }

      const top = await walked(d, { recursive: false });
      expect(names(top, d)).toEqual(order.filter((n) => !n.includes('/')));
      for (let i = 0; i < top.length; i++) {
        expect(names(await walked(d, { recursive: false, after: top[i]!.path }), d), `after ${names(top, d)[i]}`).toEqual(names(top, d).slice(i + 1));
      }

      const asked: string[] = [];
      const pruned = await walked(d, { descend: (dir) => (asked.push(dir.full), dir.full !== at(`${d}/a`).full) });
      expect(names(pruned, d)).toEqual(order.filter((n) => !n.startsWith('a/')));
      expect(asked).toContain(at(`${d}/a`).full);

      const withMeta = await walked(d, { meta: true });
      const file = withMeta.find((e) => e.path.full === at(`${d}/a/x.txt`).full)!;
      const st = await driver.stat(at(`${d}/a/x.txt`));
      // meta is optional (a driver fills it when it has it at hand), but never wrong
      if (file.meta) expect(file.meta).toMatchObject({ type: 'file', size: 7, etag: st!.etag, mimeType: 'text/markdown' });

      // after bytes change behind Baton's back, a listing describes the new bytes, not remembered ones
      await h.dropOutside(`${d}/a/x.txt`, 'replaced outside');
      const changed = (await walked(d, { meta: true })).find((e) => e.path.full === at(`${d}/a/x.txt`).full)!;
      const now = await driver.stat(at(`${d}/a/x.txt`));
      // the type is guessed from the name again: the remembered one described other bytes
      expect(now).toMatchObject({ size: 16, mimeType: 'text/plain' });
      expect(now!.etag).not.toBe(st!.etag);
      if (changed.meta) expect(changed.meta).toMatchObject({ size: 16, etag: now!.etag, mimeType: 'text/plain' });

      await failure(walked(`${d}/b.txt`), 'bad_request');
      await failure(walked(`${d}/nowhere`), 'not_found');
    });

    it('resumes a recursive walk after a folder it yielded with that folder\'s contents', async () => {
      const d = fresh();
      for (const f of ['a/x.txt', 'a/y/z.txt', 'b.txt']) await put(`${d}/${f}`, f);
      const all = await walked(d);
      const order = names(all, d);
      for (let i = 0; i < all.length; i++) {
        if (all[i]!.type !== 'directory') continue;
        expect(names(await walked(d, { after: all[i]!.path }), d), `after ${order[i]}`).toEqual(order.slice(i + 1));
      }
    });

    it('never lists its own .baton metadata', async () => {
      const d = fresh();
      await put(`${d}/kept.txt`, '1');
      await put(`${d}/kept.txt`, '2');
      await driver.delete(at(`${d}/kept.txt`), { actor: 'x' });
      const root = [];
      for await (const batch of driver.walk(at(''), { after: null, recursive: true, meta: true })) root.push(...batch.map((e) => e.path.full));
      expect(root.length).toBeGreaterThan(0);
      expect(root.filter((p) => p.includes('.baton'))).toEqual([]);
    });

    it('makes folders, refusing with conflict where a file is in the way', async () => {
      const d = fresh();
      await driver.mkdir(at(`${d}/made/deeper`));
      await driver.mkdir(at(`${d}/made/deeper`));
      expect(await driver.stat(at(`${d}/made/deeper`))).toMatchObject({ type: 'directory', etag: null, version: null });
      await put(`${d}/file.txt`, 'x');
      expect((await failure(driver.mkdir(at(`${d}/file.txt`)), 'conflict')).message).toContain('is a file');
      expect((await failure(driver.mkdir(at(`${d}/file.txt/sub`)), 'conflict')).message).toContain('parent');
      expect((await failure(put(`${d}/file.txt/child.txt`, 'y'), 'conflict')).message).toContain('parent of this path is a file');
      expect((await failure(put(`${d}/made`, 'y'), 'conflict')).message).toContain('is a directory');
      expect(await text(`${d}/file.txt`)).toBe('x');
    });

    it('numbers bytes dropped outside Baton as the next version, with the outside actor once a write supersedes them', async () => {
      const d = fresh();
      const f = `${d}/o.txt`;
      await h.dropOutside(f, 'dropped');
      expect(await driver.stat(at(f))).toMatchObject({ type: 'file', version: 1, size: 7 });
      expect(await text(f)).toBe('dropped');
      expect(await text(f, 1)).toBe('dropped');
      const w = await put(f, 'baton', { actor: 'bob' });
      expect(w).toMatchObject({ created: false, entry: { version: 2 } });
      expect(await summary(f)).toEqual([
        { version: 2, actor: 'bob', deleted: false },
        { version: 1, actor: h.outsideActor, deleted: false },
      ]);
      expect(await text(f, 1)).toBe('dropped');
      const r = await driver.restore(at(f), 1, { actor: 'restorer' });
      expect(r.entry.version).toBe(3);
      expect(await text(f)).toBe('dropped');
    });

    it('numbers bytes dropped over a Baton version after that version, and keeps them when overwritten', async () => {
      const d = fresh();
      const f = `${d}/over.txt`;
      await put(f, 'one', { actor: 'alice' });
      await put(f, 'two', { actor: 'bob' });
      await h.dropOutside(f, 'changed outside');
      expect(await driver.stat(at(f))).toMatchObject({ version: 3, size: 15 });
      expect((await driver.versions(at(f)))[0]).toMatchObject({ version: 3, actor: h.outsideActor, size: 15 });
      const w = await put(f, 'baton again', { actor: 'carol' });
      expect(w.entry.version).toBe(4);
      expect(await summary(f)).toEqual([
        { version: 4, actor: 'carol', deleted: false },
        { version: 3, actor: h.outsideActor, deleted: false },
        { version: 2, actor: 'bob', deleted: false },
        { version: 1, actor: 'alice', deleted: false },
      ]);
      expect(await text(f, 3)).toBe('changed outside');
      expect((await driver.restore(at(f), 3, { actor: 'restorer' })).entry.version).toBe(5);
      expect(await text(f)).toBe('changed outside');
    });

    it('gives a file removed outside Baton, then written, the next number', async () => {
      const d = fresh();
      const f = `${d}/removed.txt`;
      await put(f, 'one');
      await put(f, 'two');
      await h.removeOutside(f);
      expect(await driver.stat(at(f))).toBeNull();
      const again = await put(f, 'three', { actor: 'dave' });
      expect(again).toMatchObject({ created: true, entry: { version: 3 } });
      expect((await driver.versions(at(f)))[0]).toMatchObject({ version: 3, actor: 'dave' });
      expect(await text(f, 1)).toBe('one');
    });

    it('calls onCommit once, with the change already visible', async () => {
      const d = fresh();
      const calls: Array<{ result: WriteResult; visible: number | null | undefined }> = [];
      const w = await put(`${d}/hook.txt`, 'hooked', {
        onCommit: async (result) => void calls.push({ result, visible: (await driver.stat(at(`${d}/hook.txt`)))?.version }),
      });
      expect(calls).toEqual([{ result: w, visible: 1 }]);
      const refused: unknown[] = [];
      await failure(put(`${d}/hook.txt`, 'no', { ifNoneMatch: true, onCommit: async (x) => void refused.push(x) }), 'precondition_failed');
      expect(refused).toEqual([]);
    });

    it('withPathLock holds off a write to the same path, not to another', async () => {
      const d = fresh();
      const f = at(`${d}/locked.txt`);
      let entered!: () => void;
      const inside = new Promise<void>((r) => (entered = r));
      let release!: () => void;
      const gate = new Promise<void>((r) => (release = r));
      const held = driver.withPathLock([f], async () => {
        entered();
        await gate;
        return 'fn result';
      });
      await inside;
      let wrote = false;
      const blocked = put(`${d}/locked.txt`, 'waited').then((r) => ((wrote = true), r));
      await put(`${d}/free.txt`, 'not held');
      await new Promise((r) => setTimeout(r, 200));
      expect(wrote).toBe(false);
      expect(await driver.stat(f)).toBeNull();
      release();
      expect(await held).toBe('fn result');
      expect((await blocked).entry.version).toBe(1);
    });

    it('lastRecord gives the last recorded version, a tombstone after a delete, null for a new path', async () => {
      const d = fresh();
      const f = `${d}/last.txt`;
      expect(await driver.lastRecord(at(f))).toBeNull();
      await put(f, 'one');
      const w = await put(f, 'two', { actor: 'bob' });
      expect(await driver.lastRecord(at(f))).toMatchObject({ version: 2, actor: 'bob', etag: w.entry.etag, deleted: false });
      await driver.delete(at(f), { actor: 'eve' });
      expect(await driver.lastRecord(at(f))).toMatchObject({ version: 3, actor: 'eve', deleted: true });
    });

    it('lastRecord does not invent a record for bytes dropped outside Baton', async () => {
      const d = fresh();
      await h.dropOutside(`${d}/only-outside.txt`, 'dropped');
      expect(await driver.lastRecord(at(`${d}/only-outside.txt`))).toBeNull();
      const w = await put(`${d}/mixed.txt`, 'baton');
      await h.dropOutside(`${d}/mixed.txt`, 'dropped over it');
      expect(await driver.lastRecord(at(`${d}/mixed.txt`))).toMatchObject({ version: 1, actor: 'alice', etag: w.entry.etag });
    });
  });
}
