import { spawn } from 'node:child_process';
import { symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO, removeDir, startBaton, type TestBaton } from '../helpers/baton.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';
import { tempDir } from '../helpers/temp.js';
import { fencedBlocks } from './markdown.js';

/**
 * The README's walk-through, run as written in a fresh "clone" (bin/ and the server's data/)
 * against a fresh server. The one change: the server's URL stands in for the default port, so
 * the test does not need 8787 free.
 */
let redis: TestRedis;
let server: TestBaton;
let clone: string;

beforeAll(async () => {
  redis = await startRedis();
  // No BATON_ADMIN_TOKEN: the server generates one into data/.baton/admin-token, as on a first start.
  server = await startBaton({ redisUrl: redis.url, adminToken: '' });
  clone = tempDir('baton-readme-');
  symlinkSync(join(REPO, 'bin'), join(clone, 'bin'));
  symlinkSync(server.dataDir, join(clone, 'data'));
});
afterAll(async () => {
  await server?.stop();
  await redis?.stop();
  if (server) removeDir(server.dataDir);
});

function runBash(script: string): Promise<{ code: number | null; out: string; err: string }> {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.BATON_URL;
  delete env.BATON_KEY;
  const proc = spawn('bash', ['-c', script.replaceAll('http://127.0.0.1:8787', server.url)], { cwd: clone, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr.on('data', (d: Buffer) => (err += d.toString()));
  return new Promise((resolve) => proc.once('close', (code) => resolve({ code, out, err })));
}

describe('README: your first drop-off in five minutes', () => {
  const blocks = fencedBlocks('README.md', '## Your first drop-off in five minutes', 'bash');

  it('the CLI walk-through runs as written, and kill stops the tail and the receiver', async () => {
    // Anything still running from this clone after the block's own `kill` would be a leak: the tail
    // of a shell function survives a kill of its subshell.
    const r = await runBash(`${blocks[0]!}\nsleep 0.5; echo "left: $(ps -eo args | grep -c '^node [b]in/baton.js tail' ; ps -eo args | grep -c '^node -e .*[l]isten(9000)')"`);
    expect(r.out).toMatch(/created \/demo\/inbox\/brief\.md\s+17 B\s+version 1/);
    expect(r.out).toMatch(/file\.created\s+\/demo\/inbox\/brief\.md\s+agent:writer/);
    expect(r.out).toContain('# Research brief');
    expect(r.err).toContain('baton: forbidden: read on /demo/inbox/brief.md is not granted to this key (it holds write:/demo/inbox/**)');
    expect(r.out).toMatch(/evt_\w+ \{"event":"file\.created".*"path":"\/demo\/inbox\/second\.txt".*"actor":"agent:writer"/);
    expect(r.out).toMatch(/file\.created\s+\/demo\/inbox\/second\.txt/);
    expect(r.out).toContain('http://127.0.0.1:9000/hook');
    expect(r.out).toMatch(/left: 0\s+0/);
  });

  it('the curl walk-through stands alone', async () => {
    const r = await runBash(`set -e\n${blocks[1]!}`);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/"path":"\/demo\/inbox\/brief\.md".*"mimeType":"text\/markdown"/);
    expect(r.out).toMatch(/"events":\[.*"path":"\/demo\/inbox\/brief\.md"/);
    expect(r.out).toMatch(/"secret":"whsec_/);
  });
});
