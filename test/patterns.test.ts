import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO, startBaton, type TestBaton } from './helpers/baton.js';
import { client } from './helpers/http.js';
import { startRedis, type TestRedis } from './helpers/redis.js';

function runPattern(name: string, env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', `patterns/${name}.ts`], {
    cwd: REPO,
    env: { ...process.env, BATON_URL: '', BATON_ADMIN_TOKEN: '', BATON_KEY: '', ...env },
    encoding: 'utf8',
    timeout: 90_000,
  });
  return { status: r.status, out: r.stdout, err: r.stderr };
}

describe('pattern examples, each starting its own Baton', () => {
  it('drop-off: the summarizer is woken by its webhook and writes the summary', () => {
    const r = runPattern('dropoff');
    expect(r.err).toBe('');
    expect(r.status).toBe(0);
    expect(r.out).toMatch(/summarizer\s+woken by file\.created \/demo\/inbox\/run-[a-z0-9]+\/report\.md/);
    expect(r.out).toMatch(/researcher\s+found \/demo\/outbox\/.*summary-of-report\.md: Summary: Agents prefer files/);
  });

  it('supervisor: three workers, one rejection sent back and redone, final result compiled', () => {
    const r = runPattern('supervisor');
    expect(r.status).toBe(0);
    const claims = r.out.match(/claimed \S+ \(token \d+, attempt \d\)/g) ?? [];
    expect(claims).toHaveLength(4);
    expect(r.out).toMatch(/rejected .*sent it back/);
    expect(r.out).toMatch(/attempt 2\)/);
    expect(r.out).toMatch(/compiled 3 artifacts/);
    expect(r.out).toMatch(/^pattern\s+supervisor: /m);
    expect(r.out).toMatch(/^pattern\s+started a temporary Baton at http:\/\/127\.0\.0\.1:\d+/m);
    expect(r.out).toMatch(/the lease of token (\d+) expired/);
    expect(r.out).toMatch(/tried to write with token \d+: refused \(conflict: fencing token \d+ is not the current one/);
  });

  it('bus: three subscribers hear the first signup, four hear the second', () => {
    const r = runPattern('bus');
    expect(r.status).toBe(0);
    expect(r.out).toContain('deliveries: welcome=2, crm=2, analytics=2, billing=1');
  });

  it('gate: only the human approves; the signer reads approved files only', () => {
    const r = runPattern('gate');
    expect(r.status).toBe(0);
    expect(r.out).toMatch(/tried to approve it itself: forbidden/);
    expect(r.out).toMatch(/signer\s+cannot read drafts: forbidden/);
  });
});

describe('pattern examples against a Baton at BATON_URL', () => {
  let redis: TestRedis;
  let baton: TestBaton;
  beforeAll(async () => {
    redis = await startRedis();
    baton = await startBaton({ redisUrl: redis.url, env: { BATON_WEBHOOK_RETRY_SCHEDULE: '0.2,0.5' } });
  });
  afterAll(async () => {
    await baton?.stop();
    await redis?.stop();
  });

  it('runs the supervisor and the drop-off twice against the same server', () => {
    for (let i = 0; i < 2; i++) {
      for (const name of ['supervisor', 'dropoff']) {
        const r = runPattern(name, { BATON_URL: baton.url, BATON_ADMIN_TOKEN: baton.adminToken });
        expect(r.status, r.err).toBe(0);
      }
    }
  });

  it('takes the admin token from BATON_KEY as the README exports it, and leaves no key or run-* folder behind', async () => {
    for (const name of ['gate', 'bus']) {
      const r = runPattern(name, { BATON_URL: baton.url, BATON_KEY: baton.adminToken });
      expect(r.status, r.err).toBe(0);
      expect(r.out).toContain(`using the Baton at ${baton.url}`);
    }
    const api = client(baton.url, baton.adminToken);
    const keys = (await api.call('GET', '/v1/keys')).json.keys as Array<{ revokedAt: string | null }>;
    expect(keys.length).toBeGreaterThan(0);
    expect(keys.filter((k) => k.revokedAt === null)).toEqual([]);
    for (const folder of ['inbox', 'outbox', 'tasks', 'events', 'drafts', 'approved']) {
      const names = ((await api.list(`/demo/${folder}`)).json.entries as Array<{ path: string }>).map((e) => e.path);
      expect(names.filter((n) => /\/run-/.test(n))).toEqual([]);
    }
  });

  it('with BATON_URL set and no admin token, says what to set in one line (no stack trace)', () => {
    const r = runPattern('dropoff', { BATON_URL: baton.url, BATON_KEY: '' });
    expect(r.status).toBe(1);
    expect(r.err.trim()).toMatch(/^pattern failed: BATON_URL is set \(.*\): set BATON_ADMIN_TOKEN \(or BATON_KEY\)/);
    expect(r.err).not.toContain('    at ');
  });
});
