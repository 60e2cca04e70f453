import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeDir, startBaton, type TestBaton } from '../helpers/baton.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';
import { baton as cli } from './run.js';
import { tempDir } from '../helpers/temp.js';

let redis: TestRedis;
let server: TestBaton;
let tmp: string;

beforeAll(async () => {
  redis = await startRedis();
  server = await startBaton({ redisUrl: redis.url });
  tmp = tempDir('baton-cli-');
});
afterAll(async () => {
  await server?.stop();
  await redis?.stop();
  if (tmp) removeDir(tmp);
  if (server) removeDir(server.dataDir);
});

const admin = (args: string[], stdin?: string | Buffer) => cli(args, { url: server.url, key: server.adminToken, stdin });
const as = (key: string, args: string[], stdin?: string | Buffer) => cli(args, { url: server.url, key, stdin });

async function newKey(agent: string, grants: string[], extra: string[] = []): Promise<{ id: string; key: string }> {
  const r = await admin(['keys', 'create', '--agent', agent, ...grants.flatMap((g) => ['--grant', g]), ...extra, '--json']);
  expect(r.code, r.stderr).toBe(0);
  return r.json();
}

describe('baton keys', () => {
  it('creates, lists and revokes a key; the revoked key then fails with unauthorized', async () => {
    const created = await newKey('cli-writer', ['read:/demo/**', 'write:/demo/drafts/**'], ['--expires', new Date(Date.now() + 3_600_000).toISOString()]);
    expect(created.key).toMatch(/^bk_/);
    expect(created.id).toMatch(/^key_/);

    const human = await admin(['keys', 'create', '--agent', 'cli-table', '--grant', 'read:/demo/**']);
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/^key\s+bk_/m);
    expect(human.stderr).toContain('not shown again');

    const list = await admin(['keys', 'list', '--json']);
    expect(list.code).toBe(0);
    const rec = list.json().keys.find((k: { id: string }) => k.id === created.id);
    expect(rec).toMatchObject({ agent: 'cli-writer', grants: ['read:/demo/**', 'write:/demo/drafts/**'], revokedAt: null });
    expect(list.stdout).not.toContain(created.key);
    const table = await admin(['keys', 'list']);
    expect(table.stdout).toMatch(/^ID\s+AGENT\s+HUMAN\s+STATUS/);
    expect(table.stdout).toContain(created.id);

    expect((await as(created.key, ['put', '-', '/demo/drafts/k.md'], 'by key')).code).toBe(0);

    const revoked = await admin(['keys', 'revoke', created.id]);
    expect(revoked.code, revoked.stderr).toBe(0);
    expect(revoked.stdout).toContain(`revoked ${created.id}`);
    expect((await admin(['keys', 'list'])).stdout).toMatch(new RegExp(`${created.id}.*revoked`));

    const after = await as(created.key, ['ls', '/demo']);
    expect(after.code).toBe(1);
    expect(after.stderr).toMatch(/^baton: unauthorized: /);
  });

  it('refuses a malformed grant or expiry as a usage error (exit 2)', async () => {
    expect((await admin(['keys', 'create', '--agent', 'x', '--grant', 'nocolon'])).code).toBe(2);
    expect((await admin(['keys', 'create', '--agent', 'x', '--expires', 'soon'])).code).toBe(2);
    const unknown = await admin(['keys', 'create', '--agent', 'x', '--grant', 'frob:/demo/**']);
    // Checked before anything is sent, like every other usage error.
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/^baton: usage: --grant frob:\/demo\/\*\*: action must be one of read, write/);
  });
});

describe('baton files', () => {
  it('puts from a file and from stdin, gets to stdout and to -o', async () => {
    const local = join(tmp, 'note.md');
    writeFileSync(local, '# note\nhello\n');
    const put = await admin(['put', local, '/demo/inbox/note.md']);
    expect(put.code, put.stderr).toBe(0);
    expect(put.stdout).toMatch(/^created \/demo\/inbox\/note\.md/);

    const bytes = Buffer.from([0, 1, 2, 255, 254, 10, 13, 0]);
    const fromStdin = await admin(['put', '-', '/demo/inbox/raw.bin', '--content-type', 'application/x-test', '--json'], bytes);
    expect(fromStdin.code, fromStdin.stderr).toBe(0);
    expect(fromStdin.json()).toMatchObject({ path: '/demo/inbox/raw.bin', size: 8, version: 1, mimeType: 'application/x-test', created: true });

    const again = await admin(['put', '-', '/demo/inbox/raw.bin', '--json'], bytes);
    expect(again.json()).toMatchObject({ version: 2, created: false });

    const toStdout = await admin(['get', '/demo/inbox/raw.bin']);
    expect(toStdout.code).toBe(0);
    expect(toStdout.stdoutBytes.equals(bytes)).toBe(true);

    const out = join(tmp, 'copy.md');
    const toFile = await admin(['get', '/demo/inbox/note.md', '-o', out]);
    expect(toFile.code, toFile.stderr).toBe(0);
    expect(readFileSync(out, 'utf8')).toBe('# note\nhello\n');
    const meta = await admin(['get', '/demo/inbox/note.md', '-o', out, '--json']);
    expect(meta.json()).toMatchObject({ path: '/demo/inbox/note.md', size: 13, version: 1, mimeType: 'text/markdown' });

    const createOnly = await admin(['put', '--create-only', local, '/demo/inbox/note.md']);
    expect(createOnly.code).toBe(1);
    expect(createOnly.stderr).toMatch(/^baton: precondition_failed: /);
  });

  it('keeps names with spaces, #, ? and non-ASCII intact', async () => {
    const path = '/demo/inbox/odd name #1?é%.txt';
    expect((await admin(['put', '-', path], 'odd')).code).toBe(0);
    expect((await admin(['get', path])).stdout).toBe('odd');
    const ls = await admin(['ls', '/demo/inbox', '--json']);
    expect(ls.json().entries.map((e: { path: string }) => e.path)).toContain(path);
  });

  it('lists recursively, moves, removes', async () => {
    for (const n of ['a', 'b', 'c']) expect((await admin(['put', '-', `/demo/drafts/tree/${n}/${n}.md`], n)).code).toBe(0);
    const flat = await admin(['ls', '/demo/drafts/tree', '--json']);
    expect(flat.json().entries.map((e: { path: string }) => e.path)).toEqual(['/demo/drafts/tree/a', '/demo/drafts/tree/b', '/demo/drafts/tree/c']);
    const deep = await admin(['ls', '-r', '/demo/drafts/tree', '--json']);
    expect(deep.json()).toMatchObject({ cursor: null });
    expect(deep.json().entries.filter((e: { type: string }) => e.type === 'file').map((e: { path: string }) => e.path)).toEqual([
      '/demo/drafts/tree/a/a.md',
      '/demo/drafts/tree/b/b.md',
      '/demo/drafts/tree/c/c.md',
    ]);
    const table = await admin(['ls', '-r', '/demo/drafts/tree']);
    expect(table.stdout).toMatch(/^SIZE\s+MODIFIED\s+PATH$/m);
    expect(table.stdout).toMatch(/^\s*-\s+\S+ \S+\s+\/demo\/drafts\/tree\/a\/$/m);
    expect(table.stdout).toMatch(/^\s*1 B\s+\S+ \S+\s+\/demo\/drafts\/tree\/a\/a\.md$/m);

    const mv = await admin(['mv', '/demo/drafts/tree/a/a.md', '/demo/outbox/a.md']);
    expect(mv.code, mv.stderr).toBe(0);
    expect(mv.stdout).toContain('moved /demo/drafts/tree/a/a.md -> /demo/outbox/a.md');
    const clash = await admin(['mv', '/demo/drafts/tree/b/b.md', '/demo/outbox/a.md', '--json']);
    expect(clash.code).toBe(1);
    expect(clash.stderr).toMatch(/^baton: conflict: /);
    const over = await admin(['mv', '/demo/drafts/tree/b/b.md', '/demo/outbox/a.md', '--overwrite', '--json']);
    expect(over.code).toBe(0);
    expect(over.json()).toMatchObject({ from: '/demo/drafts/tree/b/b.md', path: '/demo/outbox/a.md' });
    expect((await admin(['get', '/demo/outbox/a.md'])).stdout).toBe('b');

    const rm = await admin(['rm', '/demo/outbox/a.md', '--json']);
    expect(rm.json()).toMatchObject({ path: '/demo/outbox/a.md', deleted: true });
    const gone = await admin(['get', '/demo/outbox/a.md']);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toMatch(/^baton: not_found: /);
  });

  it('lists versions and restores one', async () => {
    const p = '/demo/drafts/v.md';
    for (const text of ['one', 'two', 'three']) expect((await admin(['put', '-', p], text)).code).toBe(0);
    const v = await admin(['versions', p, '--json']);
    expect(v.json().versions.map((x: { version: number }) => x.version)).toEqual([3, 2, 1]);
    const table = await admin(['versions', p]);
    expect(table.stdout).toMatch(/^VERSION\s+SIZE\s+TIME\s+ACTOR/);
    expect(table.stdout.trim().split('\n')).toHaveLength(4);

    const r = await admin(['restore', p, '1']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('restored /demo/drafts/v.md from version 1: now version 4');
    expect((await admin(['get', p])).stdout).toBe('one');
    expect((await admin(['get', p, '--version', '2'])).stdout).toBe('two');
    expect((await admin(['restore', p, 'x'])).code).toBe(2);
  });

  it('searches by glob and by content', async () => {
    expect((await admin(['put', '-', '/demo/events/s1.md'], 'alpha\nneedle here\n'))).toMatchObject({ code: 0 });
    expect((await admin(['put', '-', '/demo/events/s2.txt'], 'needle too'))).toMatchObject({ code: 0 });
    const byName = await admin(['search', '/demo/events', '--glob', '**/*.md', '--json']);
    expect(byName.code, byName.stderr).toBe(0);
    expect(byName.json().results.map((r: { path: string }) => r.path)).toEqual(['/demo/events/s1.md']);
    const byText = await admin(['search', '/demo/events', '-q', 'needle']);
    expect(byText.stdout.trim().split('\n').sort()).toEqual(['/demo/events/s1.md:2:needle here', '/demo/events/s2.txt:1:needle too']);
    expect((await admin(['search', '/demo/events'])).code).toBe(2);
  });

  it('shows progress for a transfer over 8 MiB when asked', async () => {
    const big = Buffer.alloc(9 * 1024 * 1024, 7);
    const put = await cli(['put', '-', '/demo/inbox/big.bin'], { url: server.url, key: server.adminToken, stdin: big, env: { BATON_PROGRESS: '1' } });
    expect(put.code, put.stderr).toBe(0);
    expect(put.stderr).toMatch(/put \/demo\/inbox\/big\.bin 9\.0 MiB/);
    const get = await cli(['get', '/demo/inbox/big.bin'], { url: server.url, key: server.adminToken, env: { BATON_PROGRESS: '1' } });
    expect(get.stdoutBytes.equals(big)).toBe(true);
    expect(get.stderr).toMatch(/get \/demo\/inbox\/big\.bin 9\.0 MiB \/ 9\.0 MiB \(100%\)/);
    const quiet = await admin(['get', '/demo/inbox/big.bin', '-o', join(tmp, 'big.bin')]);
    expect(quiet.stderr).toBe('');
  });
});

describe('permissions and errors', () => {
  it('a forbidden action exits 1 with forbidden on stderr', async () => {
    const reader = await newKey('cli-reader', ['read:/demo/**']);
    const r = await as(reader.key, ['put', '-', '/demo/inbox/nope.md'], 'x');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^baton: forbidden: /);
    expect((await as(reader.key, ['keys', 'list'])).stderr).toMatch(/^baton: forbidden: /);

    const agent = await newKey('cli-agent', ['write:/demo/**']);
    const gated = await as(agent.key, ['put', '-', '/demo/approved/ok.md'], 'x');
    expect(gated.code).toBe(1);
    expect(gated.stderr).toMatch(/^baton: forbidden: /);
    const human = await newKey('cli-human', ['write:/demo/**'], ['--human']);
    expect((await as(human.key, ['put', '-', '/demo/approved/ok.md'], 'x')).code).toBe(0);
  });

  it('usage errors exit 2; an unreachable server is unavailable', async () => {
    expect((await admin(['get'])).code).toBe(2);
    expect((await admin(['ls', '--bogus'])).code).toBe(2);
    expect((await admin(['keys'])).code).toBe(2);
    const noKey = await cli(['ls'], { url: server.url });
    expect(noKey.code).toBe(2);
    expect(noKey.stderr).toContain('BATON_KEY');
    const down = await cli(['ls', '--url', 'http://127.0.0.1:9'], { url: server.url, key: 'x' });
    expect(down.code).toBe(1);
    expect(down.stderr).toMatch(/^baton: unavailable: /);
    const flagKey = await cli(['ls', '/demo', '--key', server.adminToken, '--json'], { url: server.url });
    expect(flagKey.code).toBe(0);
  });
});

describe('baton audit and workspaces', () => {
  it('queries the audit trail and verifies the chain', async () => {
    const all = await admin(['audit', '--json']);
    expect(all.code, all.stderr).toBe(0);
    const entries = all.json().entries as Array<{ seq: number; action: string; outcome: string; actor: string; path: string }>;
    expect(entries.length).toBeGreaterThan(10);
    expect(entries.map((e) => e.seq)).toEqual([...entries.map((e) => e.seq)].sort((a, b) => a - b));
    expect(entries.some((e) => e.outcome === 'denied' && e.action === 'file.write')).toBe(true);

    const some = await admin(['audit', '--action', 'file.write', '--path', '/demo/drafts', '--limit', '2', '--json']);
    expect(some.json().entries).toHaveLength(2);
    expect(some.json().cursor).not.toBeNull();
    for (const e of some.json().entries) expect(e).toMatchObject({ action: 'file.write' });
    const byActor = await admin(['audit', '--actor', 'agent:cli-reader', '--json']);
    expect(byActor.json().entries.length).toBeGreaterThan(0);
    expect(byActor.json().entries.every((e: { actor: string }) => e.actor === 'agent:cli-reader')).toBe(true);

    const table = await admin(['audit', '--limit', '3']);
    expect(table.stdout).toMatch(/^SEQ\s+TIME\s+ACTOR\s+ACTION\s+OUTCOME\s+PATH$/m);
    expect(table.stdout.trim().split('\n')).toHaveLength(4);

    const verify = await admin(['audit', 'verify']);
    expect(verify.code, verify.stderr).toBe(0);
    expect(verify.stdout).toMatch(/^audit chain ok: \d+ entries/);
    const vj = await admin(['audit', 'verify', '--json']);
    expect(vj.code).toBe(0);
    expect(vj.json()).toMatchObject({ ok: true });
  });

  it('lists and creates workspaces', async () => {
    const list = await admin(['workspaces', 'list', '--json']);
    expect(list.json().workspaces.map((w: { name: string }) => w.name)).toContain('demo');
    const created = await admin(['workspaces', 'create', 'clitest', '--folder', 'in', '--folder', 'out', '--gate', '/clitest/out', '--json']);
    expect(created.code, created.stderr).toBe(0);
    expect(created.json()).toMatchObject({ name: 'clitest', id: 'ws_clitest', folders: ['in', 'out'], gates: ['/clitest/out'] });
    const table = await admin(['workspaces', 'list']);
    expect(table.stdout).toMatch(/^clitest\s+ws_clitest\s+local\s+in out\s+\/clitest\/out$/m);
    expect((await admin(['put', '-', '/clitest/in/x.md'], 'x')).code).toBe(0);
  });
});
