import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO, startBaton, type TestBaton } from './helpers/baton.js';
import { startRedis, type TestRedis } from './helpers/redis.js';

function runPattern(name: string, env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', `patterns/${name}.ts`], {
    cwd: REPO,
    env: { ...process.env, BATON_URL: '', BATON_ADMIN_TOKEN: '', ...env },
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
});
