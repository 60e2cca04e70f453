import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeDir, startBaton, type TestBaton } from '../helpers/baton.js';
import { client, createKey } from '../helpers/http.js';
import { Receiver } from '../helpers/receiver.js';
import { freePort, startRedis, type TestRedis } from '../helpers/redis.js';
import { tempDir } from '../helpers/temp.js';
import { baton as cli } from './run.js';

/** The mistakes a new user makes in the first hour, and what Baton answers to each. */
let redis: TestRedis;
let server: TestBaton;
let receiver: Receiver;

beforeAll(async () => {
  redis = await startRedis();
  // One long retry wait, so a failed delivery stays queued for its retry while the test replays.
  server = await startBaton({ redisUrl: redis.url, env: { BATON_WEBHOOK_RETRY_SCHEDULE: '600' } });
  receiver = await Receiver.start();
});
afterAll(async () => {
  await receiver?.close();
  await server?.stop();
  await redis?.stop();
  if (server) removeDir(server.dataDir);
});

const admin = (args: string[], stdin?: string) => cli(args, { url: server.url, key: server.adminToken, stdin });

async function until<T>(fn: () => Promise<T | undefined>, ms = 10_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('keys and grants', () => {
  it('refuses a glob that is not valid and a trailing-slash grant, over REST and as a CLI usage error', async () => {
    const api = client(server.url, server.adminToken);
    const bracket = await api.post('/v1/keys', { agent: 'a', grants: ['read:/demo/[abc'] });
    expect(bracket.status).toBe(400);
    expect(bracket.json.error.message).toContain('unclosed [');
    const slash = await api.post('/v1/keys', { agent: 'a', grants: ['read:/demo/inbox/'] });
    expect(slash.status).toBe(400);
    expect(slash.json.error.message).toContain('read:/demo/inbox/**');
    const r = await admin(['keys', 'create', '--agent', 'a', '--grant', 'read:/demo/inbox/']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('matches no path');
    const bad = await admin(['keys', 'create', '--agent', 'a', '--grant', 'nope']);
    expect(bad.code).toBe(2);
  });

  it('warns about a workspace that does not exist and about a key with no grants', async () => {
    const typo = await admin(['keys', 'create', '--agent', 'typo', '--grant', 'write:/dmeo/inbox/**', '--json']);
    expect(typo.code).toBe(0);
    expect(typo.stderr).toContain('there is no workspace named dmeo (workspaces: demo)');
    expect(typo.json().warnings).toHaveLength(1);
    const none = await admin(['keys', 'create', '--agent', 'empty']);
    expect(none.code).toBe(0);
    expect(none.stderr).toContain('the key has no grants');
    const fine = await admin(['keys', 'create', '--agent', 'fine', '--grant', 'read:/demo/**', '--json']);
    expect(fine.stderr).not.toContain('warning');
    expect(fine.json().warnings).toBeUndefined();
  });

  it('a refusal names the grants the key holds', async () => {
    const { key } = await createKey(server.url, server.adminToken, { agent: 'w', grants: ['write:/demo/inbox/**'] });
    const r = await cli(['get', '/demo/inbox/x.md'], { url: server.url, key });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('read on /demo/inbox/x.md is not granted to this key (it holds write:/demo/inbox/**)');
  });

  it('keys create --limit-rps and --limit-bytes-per-day set the key limits that are enforced', async () => {
    const r = await admin(['keys', 'create', '--agent', 'lim', '--grant', 'write:/demo/inbox/**', '--limit-rps', '1', '--limit-bytes-per-day', '10', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json().limits).toEqual({ requestsPerSecond: 1, bytesPerDay: 10 });
    const api = client(server.url, r.json().key);
    expect((await api.put('/demo/inbox/lim.txt', '12345678901')).status).toBe(429);
    const nonNumeric = await admin(['keys', 'create', '--agent', 'lim', '--limit-rps', 'fast']);
    expect(nonNumeric.code).toBe(2);
    expect(nonNumeric.stderr).toContain('expected a number above 0');
  });
});

describe('tickets', () => {
  it('claiming from a folder that is not a queue is an error that says so, not "queue is empty"', async () => {
    const typo = await admin(['tickets', 'claim', '/demo/taks']);
    expect(typo.code).toBe(1);
    expect(typo.stderr).toContain('not_found: /demo/taks is not a queue: it has no pending/ folder');
    const folder = await admin(['tickets', 'claim', '/demo/inbox']);
    expect(folder.stderr).toContain('is not a queue');
    const empty = await admin(['tickets', 'claim', '/demo/tasks']);
    expect(empty.code).toBe(3);
  });
});

describe('files', () => {
  it('a PUT with curl\'s default form type keeps the type guessed from the name', async () => {
    const api = client(server.url, server.adminToken);
    await api.put('/demo/inbox/notes.md', '# hi', { 'content-type': 'application/x-www-form-urlencoded' });
    expect((await api.get('/demo/inbox/notes.md')).headers.get('content-type')).toContain('text/markdown');
    await api.put('/demo/inbox/plain.json', new TextEncoder().encode('{}')); // no Content-Type at all
    expect((await api.get('/demo/inbox/plain.json')).headers.get('content-type')).toContain('application/json');
  });
});

describe('webhooks', () => {
  it('a failed delivery names its cause', async () => {
    const closed = await freePort();
    const sub = (await admin(['subs', 'add', `http://127.0.0.1:${closed}/hook`, '--path', '/demo/outbox/**', '--json'])).json();
    await client(server.url, server.adminToken).put('/demo/outbox/a.txt', 'a');
    const d = await until(async () => {
      const out = (await admin(['subs', 'deliveries', sub.id, '--json'])).json();
      return out.deliveries.find((x: { status: string }) => x.status === 'failed');
    });
    expect(d.error).toBe(`ECONNREFUSED 127.0.0.1:${closed}: nothing is listening there`);
    await admin(['subs', 'rm', sub.id]);
  });

  it('replay leaves out deliveries still waiting for a retry, so the receiver gets each event once', async () => {
    receiver.failFirst(1, 500);
    const sub = (await admin(['subs', 'add', receiver.url(), '--path', '/demo/events/**', '--json'])).json();
    receiver.secret = sub.secret;
    await client(server.url, server.adminToken).put('/demo/events/e.txt', 'e');
    await until(async () => (receiver.requests.length >= 1 ? true : undefined));
    const r = await admin(['subs', 'replay', sub.id, '--since', '0']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('replayed 0 events');
    expect(r.stdout).toMatch(/skipped 1 still queued or waiting for a retry: evt_/);
    await new Promise((res) => setTimeout(res, 1500));
    expect(receiver.requests).toHaveLength(1);
  });

  it('subs add --url HOOK says the webhook URL is the first argument (exit 2)', async () => {
    const r = await admin(['subs', 'add', '--url', 'http://127.0.0.1:9000/hook', '--path', '/demo/**']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('subs add needs the webhook URL as its first argument');
  });
});

describe('serve configuration', () => {
  it('--port abc and REDIS_URL without a scheme are usage errors with one clear line', async () => {
    const port = await cli(['serve', '--port', 'abc'], { url: server.url });
    expect(port.code).toBe(2);
    expect(port.stderr.trim()).toBe('baton: usage: --port abc: BATON_PORT must be a number');
    const redisUrl = await cli(['serve', '--port', '0'], { url: server.url, env: { REDIS_URL: 'localhost:6379' } });
    expect(redisUrl.code).toBe(2);
    expect(redisUrl.stderr).toContain('REDIS_URL=localhost:6379: expected redis://HOST:PORT');
    const lease = await cli(['serve'], { url: server.url, env: { BATON_LEASE_SECONDS: 'soon' } });
    expect(lease.code).toBe(2);
    expect(lease.stderr.trim()).toBe('baton: usage: BATON_LEASE_SECONDS=soon: BATON_LEASE_SECONDS must be a number');
  });

  it('a missing workspaces folder is warned on stderr and /readyz says there are none', async () => {
    const missing = join(tempDir('baton-nows-'), 'workspace');
    const s = await startBaton({ redisUrl: redis.url, workspacesDir: missing });
    try {
      expect(s.logs()).toContain(`WARNING: no workspaces: the workspaces folder ${missing} does not exist`);
      const ready = await (await fetch(`${s.url}/readyz`)).json();
      expect(ready.warnings[0]).toContain('does not exist');
    } finally {
      await s.stop();
      removeDir(s.dataDir);
    }
  });

  it('an invalid workspace file is one line with file, line and field; workspaces check finds it without a server', async () => {
    const dir = tempDir('baton-badws-');
    writeFileSync(join(dir, 'demo.yaml'), 'name: demo\nfolders: [inbox]\nstorage:\n  driver: locl\n');
    const s = await startBaton({ redisUrl: redis.url, workspacesDir: dir });
    try {
      expect(s.logs()).toContain(`baton: invalid workspace file ${join(dir, 'demo.yaml')}:4: storage.driver:`);
      expect(s.logs()).toContain('(workspace not loaded)');
    } finally {
      await s.stop();
      removeDir(s.dataDir);
    }
    const check = await cli(['workspaces', 'check', join(dir, 'demo.yaml')], { url: server.url });
    expect(check.code).toBe(1);
    expect(check.stderr).toMatch(/demo\.yaml:4: storage\.driver: /);
    writeFileSync(join(dir, 'demo.yaml'), 'name: demo\nfolder: [inbox]\n');
    const unknownKey = await cli(['workspaces', 'check', '--workspaces', dir], { url: server.url });
    expect(unknownKey.stderr).toContain('demo.yaml:2: folder: Unrecognized key: "folder"');
    const good = await cli(['workspaces', 'check', join(server.workspacesDir, 'demo.yaml')], { url: server.url });
    expect(good.code).toBe(0);
    expect(good.stdout).toContain('ok');
  });
});

describe('conveniences', () => {
  it('--version prints the package version', async () => {
    const r = await cli(['--version'], { url: server.url });
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(JSON.parse(readFileSync(join(import.meta.dirname, '..', '..', 'package.json'), 'utf8')).version);
  });

  it('init writes a workspace, prints the admin token and a first key that works once the server runs', async () => {
    const home = tempDir('baton-init-');
    const r = await cli(['init', 'team', '--data', join(home, 'data'), '--workspaces', join(home, 'workspaces'), '--redis', redis.url], { url: 'http://127.0.0.1:1' });
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync(join(home, 'workspaces', 'team.yaml'))).toBe(true);
    const token = /admin token \(kept in [^)]+\):\n {2}(\S+)/.exec(r.stdout)![1]!;
    const key = /first key key_\w+ for agent agent .*:\n {2}(bk_\S+)/.exec(r.stdout)![1]!;
    expect(readFileSync(join(home, 'data', '.baton', 'admin-token'), 'utf8').trim()).toBe(token);
    const s = await startBaton({ redisUrl: redis.url, dataDir: join(home, 'data'), workspacesDir: join(home, 'workspaces'), adminToken: '' });
    try {
      const put = await cli(['put', '-', '/team/inbox/hello.txt'], { url: s.url, key, stdin: 'hello' });
      expect(put.code, put.stderr).toBe(0);
    } finally {
      await s.stop();
      removeDir(home);
    }
  });

  it('completion prints a bash script that completes subcommands', async () => {
    const r = await cli(['completion', 'bash'], { url: server.url });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('complete -F _baton baton');
    expect(r.stdout).toMatch(/"keys"\) words="create list revoke/);
    expect(r.stdout).toMatch(/"keys create"\) words=".*--limit-rps/);
    expect((await cli(['completion', 'fish'], { url: server.url })).code).toBe(2);
  });
});
