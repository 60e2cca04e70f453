import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parsePath } from '../../src/core/paths.js';
import { s3Error, isMissing } from '../../src/storage/s3/errors.js';
import { compareKeys, copySource, normalizePrefix, S3Layout } from '../../src/storage/s3/keys.js';
import { claim, RedisPathLocks } from '../../src/storage/redis-path-locks.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';

let redis: TestRedis;
let r1: Redis;
let r2: Redis;

beforeAll(async () => {
  redis = await startRedis();
  r1 = new Redis(redis.url);
  r2 = new Redis(redis.url);
});
afterAll(async () => {
  r1?.disconnect();
  r2?.disconnect();
  await redis?.stop();
});

describe('keys and layout', () => {
  it('orders keys as S3 does (UTF-8 bytes), not as JavaScript compares strings', () => {
    const keys = ['a/', 'a-b', 'a b/', 'a.txt', 'Z', '~', '\u00e4', '\uff21', '\u{1F600}'];
    expect([...keys].sort(compareKeys)).toEqual(['Z', 'a b/', 'a-b', 'a.txt', 'a/', '~', '\u00e4', '\uff21', '\u{1F600}']);
    // JavaScript puts the astral emoji (a surrogate pair) before U+FF21; S3 does not
    expect(['\uff21', '\u{1F600}'].sort()).toEqual(['\u{1F600}', '\uff21']);
  });

  it('maps paths to keys under the prefix and metadata under prefix/.baton/', () => {
    expect(normalizePrefix('')).toBe('');
    expect(normalizePrefix('team')).toBe('team/');
    expect(normalizePrefix('/team/')).toBe('team/');
    const l = new S3Layout('team');
    const p = parsePath('/ws/drafts/post.md');
    expect(l.fileKey(p)).toBe('team/drafts/post.md');
    expect(l.dirPrefix(parsePath('/ws/drafts'))).toBe('team/drafts/');
    expect(l.dirPrefix(parsePath('/ws'))).toBe('team/');
    expect(l.logKey('drafts/post.md')).toMatch(/^team\/\.baton\/versions\/[0-9a-f]{2}\/[0-9a-f]{64}\/log\.jsonl$/);
    expect(l.blobKey('drafts/post.md', 3)).toMatch(/\/v3$/);
    expect(l.stagingKey()).toMatch(/^team\/\.baton\/tmp\//);
    expect(l.relOf('team/x/y')).toBe('x/y');
    expect(l.relOf('other/x')).toBeNull();
  });

  it('encodes CopySource segment by segment', () => {
    expect(copySource('b', 'ws/a b/c+d/ü?.txt')).toBe('b/ws/a%20b/c%2Bd/%C3%BC%3F.txt');
  });
});

describe('S3 errors', () => {
  const where = { workspace: 'w', bucket: 'bk', op: 'reading' };
  const sdk = (name: string, status?: number, extra: object = {}) => Object.assign(new Error(name), { name, $metadata: { httpStatusCode: status } }, extra);

  it('says unavailable, and why, for whatever makes the bucket unusable', () => {
    const cases: Array<[unknown, RegExp]> = [
      [Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }), /unreachable \(ECONNREFUSED during reading\)/],
      [sdk('TimeoutError'), /unreachable \(timeout/],
      [sdk('NoSuchBucket', 404), /does not exist/],
      [sdk('AccessDenied', 403), /refused Baton's credentials/],
      [sdk('InternalError', 500), /HTTP 500/],
      [sdk('SlowDown', 503), /HTTP 503/],
      [sdk('CredentialsProviderError'), /no S3 credentials/],
    ];
    for (const [err, msg] of cases) {
      const e = s3Error(err, where);
      expect(e.code, String(msg)).toBe('unavailable');
      expect(e.message).toMatch(/^workspace w: S3 bucket bk/);
      expect(e.message).toMatch(msg);
    }
    expect(s3Error(sdk('Weird', 400), where).code).toBe('internal');
  });

  it('tells a missing key from a missing bucket', () => {
    expect(isMissing(sdk('NoSuchKey', 404))).toBe(true);
    expect(isMissing(sdk('NotFound', 404))).toBe(true);
    expect(isMissing(sdk('NoSuchBucket', 404))).toBe(false);
  });
});

describe('Redis path locks', () => {
  it('two processes (two connections) never hold one path at once', async () => {
    const a = new RedisPathLocks(r1, 'test:lock');
    const b = new RedisPathLocks(r2, 'test:lock');
    let inside = 0;
    let max = 0;
    const work = async () => {
      inside++;
      max = Math.max(max, inside);
      await new Promise((r) => setTimeout(r, 5));
      inside--;
    };
    await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).run(['p'], work)));
    expect(max).toBe(1);
    expect(await r1.keys('test:lock:*')).toEqual([]);
  });

  it('locks on several paths in any order do not deadlock', async () => {
    const a = new RedisPathLocks(r1, 'test:lock2');
    const b = new RedisPathLocks(r2, 'test:lock2');
    const done = await Promise.all(
      Array.from({ length: 10 }, (_, i) => (i % 2 ? a : b).run(i % 2 ? ['x', 'y'] : ['y', 'x'], async () => i)),
    );
    expect(done).toHaveLength(10);
  });

  it('a holder whose lock expired finds out before its next irreversible step', async () => {
    const a = new RedisPathLocks(r1, 'test:lock3', { ttlMs: 100 });
    const b = new RedisPathLocks(r2, 'test:lock3', { ttlMs: 5_000, waitMs: 2_000 });
    let stolen = false;
    const slow = a.run(['p'], async (held) => {
      // simulate a stall long enough for the lock to lapse: no renewals (delete it as expiry would)
      await r1.del('test:lock3:p');
      await b.run(['p'], async () => {
        stolen = true;
      });
      await held.assertHeld();
    });
    await expect(slow).rejects.toMatchObject({ code: 'unavailable' });
    expect(stolen).toBe(true);
  });

  it('a lock on many paths is taken and released in one script each, not a round trip per path', async () => {
    const a = new RedisPathLocks(r1, 'test:lock5');
    const ids = Array.from({ length: 64 }, (_, i) => `p${i}`);
    await a.run(['warm'], async () => undefined);
    await r2.config('RESETSTAT');
    const seen = await a.run(ids, async () => (await r2.keys('test:lock5:*')).length);
    await a.run(['after'], async () => undefined);
    const stats = String(await r2.info('commandstats'));
    const calls = (cmd: string) => Number(new RegExp(`cmdstat_${cmd}:calls=(\\d+)`).exec(stats)?.[1] ?? 0);
    expect(seen).toBe(64);
    // take and release of the 64, then take and release of 'after', both on r1
    expect(calls('evalsha') + calls('eval')).toBeLessThanOrEqual(4);
    expect(await r1.keys('test:lock5:*')).toEqual([]);
  });

  it('a holder of several paths waits at the busy one, holding those before it', async () => {
    await r2.set('test:lock6:m', 'someone-else', 'PX', 400);
    const a = new RedisPathLocks(r1, 'test:lock6');
    const t0 = Date.now();
    const during = new Promise<string[]>((resolve) => setTimeout(() => void r2.keys('test:lock6:*').then((k) => resolve(k.sort())), 150));
    await a.run(['z', 'a', 'm'], async () => undefined);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(300);
    expect(await during).toEqual(['test:lock6:a', 'test:lock6:m']);
  });

  it('a holder of several paths finds out when any one of them lapsed', async () => {
    const a = new RedisPathLocks(r1, 'test:lock7');
    const run = a.run(['x', 'y', 'z'], async (held) => {
      await held.assertHeld();
      await r2.set('test:lock7:y', 'someone-else', 'PX', 5_000);
      await held.assertHeld();
    });
    await expect(run).rejects.toMatchObject({ code: 'unavailable' });
    // its own keys are released (asked on its connection, which ran the release first); the one another holder took is left alone
    expect(await r1.keys('test:lock7:*')).toEqual(['test:lock7:y']);
    expect(await r1.get('test:lock7:y')).toBe('someone-else');
  });

  it('a claim is taken once until released', async () => {
    const c1 = await claim(r1, 'test:claim', 5_000);
    expect(c1).not.toBeNull();
    expect(await claim(r2, 'test:claim', 5_000)).toBeNull();
    await c1!.release();
    expect(await claim(r2, 'test:claim', 5_000)).not.toBeNull();
  });

  it('waiting too long for a busy lock is unavailable, not a hang', async () => {
    await r1.set('test:lock4:p', 'someone-else', 'PX', 10_000);
    const a = new RedisPathLocks(r2, 'test:lock4', { waitMs: 200 });
    await expect(a.run(['p'], async () => 1)).rejects.toMatchObject({ code: 'unavailable' });
  });
});
