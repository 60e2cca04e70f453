import { McpError, ResourceUpdatedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditEntries } from '../helpers/audit.js';
import { startBaton, teardown, type TestBaton } from '../helpers/baton.js';
import { client, createKey } from '../helpers/http.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';
import { connect, KINDS, type Kind, type McpSession } from './helpers.js';

let redis: TestRedis;
let baton: TestBaton;
let admin: ReturnType<typeof client>;
const PNG = Buffer.from('89504e470d0a1a0a0000000d4948445200000001000000010806000000', 'hex');

beforeAll(async () => {
  redis = await startRedis();
  baton = await startBaton({ redisUrl: redis.url });
  admin = client(baton.url, baton.adminToken);
  expect((await admin.put('/demo/outbox/secret.md', 'not for readers')).status).toBe(201);
});
afterAll(() => teardown(baton, redis));

/** The MCP error a request was refused with: its JSON-RPC code and Baton's code from the message. */
async function refused(p: Promise<unknown>): Promise<{ rpc: number; code: string }> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  if (!(err instanceof McpError)) throw new Error(`expected an MCP error, got ${String(err)}`);
  const code = /^MCP error -?\d+: (\w+):/.exec(err.message)?.[1] ?? '';
  return { rpc: err.code, code };
}

async function until<T>(what: string, get: () => T | undefined, ms = 5000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = get();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe.each(KINDS)('MCP resources over %s', (kind: Kind) => {
  const base = `/demo/drafts/res-${kind}`;
  const uri = (p: string) => `baton://${p}`;
  let s: McpSession;
  const updated: string[] = [];

  beforeAll(async () => {
    const { key } = await createKey(baton.url, baton.adminToken, { agent: `res-${kind}`, grants: [`read:${base}/**`] });
    for (let i = 0; i < 3; i++) expect((await admin.put(`${base}/n${i}.md`, `# note ${i}\n`, { 'content-type': 'text/markdown' })).status).toBe(201);
    expect((await admin.put(`${base}/img/dot.png`, PNG, { 'content-type': 'image/png' })).status).toBe(201);
    s = await connect(kind, baton.url, key);
    s.client.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => void updated.push(n.params.uri));
  });
  afterAll(() => s?.close());

  it('lists the files the key may read, and nothing else; templates name where to look', async () => {
    const r = await s.client.listResources();
    const uris = r.resources.map((x) => x.uri).sort();
    expect(uris).toEqual([uri(`${base}/img/dot.png`), uri(`${base}/n0.md`), uri(`${base}/n1.md`), uri(`${base}/n2.md`)]);
    const n0 = r.resources.find((x) => x.uri === uri(`${base}/n0.md`))!;
    expect(n0).toMatchObject({ name: 'n0.md', mimeType: 'text/markdown', size: 9 });
    const t = await s.client.listResourceTemplates();
    expect(t.resourceTemplates.map((x) => x.uriTemplate)).toEqual([`baton://${base}/{+path}`]);
  });

  it('reads text as text and other files as a base64 blob, with their MIME type', async () => {
    const text = await s.client.readResource({ uri: uri(`${base}/n1.md`) });
    expect(text.contents).toEqual([{ uri: uri(`${base}/n1.md`), mimeType: 'text/markdown', text: '# note 1\n' }]);
    const png = await s.client.readResource({ uri: uri(`${base}/img/dot.png`) });
    expect(png.contents).toEqual([{ uri: uri(`${base}/img/dot.png`), mimeType: 'image/png', blob: PNG.toString('base64') }]);
  });

  it('refuses hostile and foreign URIs cleanly', async () => {
    const cases: Array<[string, string]> = [
      [`baton://${base}/../../outbox/secret.md`, 'invalid_path'],
      [`baton://${base}/%2e%2e/%2e%2e/outbox/secret.md`, 'invalid_path'],
      [`baton://${base}/..%2f..%2foutbox/secret.md`, 'invalid_path'],
      ['baton://demo/outbox/secret.md', 'invalid_path'],
      [`baton://${base}/n0.md?x=1`, 'invalid_path'],
      ['file:///etc/passwd', 'invalid_path'],
      ['baton:///demo/outbox/secret.md', 'forbidden'],
      ['baton:///other-workspace/secret.md', 'forbidden'],
    ];
    for (const [u, code] of cases) {
      expect(await refused(s.client.readResource({ uri: u })), u).toEqual({ rpc: -32602, code });
      expect(await refused(s.client.subscribeResource({ uri: u })), u).toEqual({ rpc: -32602, code });
    }
    expect(await refused(s.client.readResource({ uri: uri(`${base}/missing.md`) }))).toEqual({ rpc: -32002, code: 'not_found' });
  });

  it('notifies resources/updated when a subscribed file changes over REST, and stops after unsubscribe', async () => {
    const watched = `${base}/n2.md`;
    const later = `${base}/later.md`;
    await s.client.subscribeResource({ uri: uri(watched) });
    // A file that does not exist yet can be watched for its creation.
    await s.client.subscribeResource({ uri: uri(later) });
    updated.length = 0;
    expect((await admin.put(`${base}/n0.md`, 'not watched')).status).toBe(200);
    expect((await admin.put(watched, 'changed')).status).toBe(200);
    await until('the update', () => (updated.includes(uri(watched)) ? true : undefined));
    expect(updated).not.toContain(uri(`${base}/n0.md`));
    expect((await s.client.readResource({ uri: uri(watched) })).contents[0]).toMatchObject({ text: 'changed' });
    // Another agent's write outside the key's reach is never reported, even to a path-alike.
    expect((await admin.put('/demo/outbox/secret.md', 'changed too')).status).toBe(200);

    await s.client.unsubscribeResource({ uri: uri(watched) });
    updated.length = 0;
    expect((await admin.put(watched, 'changed again')).status).toBe(200);
    expect((await admin.put(later, 'created')).status).toBe(201);
    await until('the creation', () => (updated.includes(uri(later)) ? true : undefined));
    expect(updated).toEqual([uri(later)]);
  });
});

describe('MCP resources, audit', () => {
  it('audits each resource read and subscription once, with the agent as actor, allowed or denied with its code', async () => {
    const { key } = await createKey(baton.url, baton.adminToken, { agent: 'res-audited', grants: ['read:/demo/drafts/audited/**'] });
    expect((await admin.put('/demo/drafts/audited/a.md', 'a')).status).toBe(201);
    const s = await connect('http', baton.url, key);
    try {
      await s.client.readResource({ uri: 'baton:///demo/drafts/audited/a.md' });
      await refused(s.client.readResource({ uri: 'baton:///demo/outbox/secret.md' }));
      await refused(s.client.readResource({ uri: 'baton:///demo/drafts/audited/../../outbox/secret.md' }));
      await s.client.subscribeResource({ uri: 'baton:///demo/drafts/audited/a.md' });
      await refused(s.client.subscribeResource({ uri: 'baton:///demo/outbox/secret.md' }));
      const wanted = [
        ['file.read', '/demo/drafts/audited/a.md', 'allowed', null],
        ['file.read', '/demo/outbox/secret.md', 'denied', 'forbidden'],
        ['mcp.resources/read', 'baton:///demo/drafts/audited/../../outbox/secret.md', 'denied', 'invalid_path'],
        ['resources.subscribe', '/demo/drafts/audited/a.md', 'allowed', null],
        ['resources.subscribe', '/demo/outbox/secret.md', 'denied', 'forbidden'],
      ];
      let view: unknown[][] = [];
      for (let i = 0; i < 50 && view.length < wanted.length; i++) {
        if (i > 0) await new Promise((r) => setTimeout(r, 100));
        const got = await auditEntries(baton.url, baton.adminToken, { actor: 'agent:res-audited' });
        view = got.filter((e) => e.action.startsWith('file.') || e.action.includes('resources')).map((e) => [e.action, e.path, e.outcome, e.code]);
      }
      expect(view).toEqual(wanted);
    } finally {
      await s.close();
    }
  });
});

describe('MCP resources, paging', () => {
  it('resources/list pages with nextCursor until every file has been listed once', async () => {
    const dir = join(baton.dataDir, 'demo', 'drafts', 'many');
    mkdirSync(dir, { recursive: true });
    for (let i = 0; i < 620; i++) writeFileSync(join(dir, `f${String(i).padStart(4, '0')}.txt`), 'x');
    const { key } = await createKey(baton.url, baton.adminToken, { agent: 'res-pages', grants: ['read:/demo/drafts/many/**'] });
    const s = await connect('http', baton.url, key);
    try {
      const seen: string[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const r = await s.client.listResources(cursor === undefined ? {} : { cursor });
        seen.push(...r.resources.map((x) => x.uri));
        cursor = r.nextCursor;
        pages++;
      } while (cursor);
      expect(pages).toBeGreaterThan(1);
      expect(new Set(seen).size).toBe(620);
      expect(seen.every((u) => u.startsWith('baton:///demo/drafts/many/f'))).toBe(true);
    } finally {
      await s.close();
    }
  });
});

describe('MCP resources over /mcp, sessions', () => {
  it('a session answers only the key that opened it; without a session, subscribe is refused', async () => {
    const a = await createKey(baton.url, baton.adminToken, { agent: 'res-owner', grants: ['read:/demo/**'] });
    const b = await createKey(baton.url, baton.adminToken, { agent: 'res-other', grants: ['read:/demo/**'] });
    const headers = (key: string) => ({
      authorization: `Bearer ${key}`,
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      'mcp-protocol-version': '2025-06-18',
    });
    const init = await fetch(`${baton.url}/mcp`, {
      method: 'POST',
      headers: headers(a.key),
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } } }),
    });
    expect(init.status).toBe(200);
    const id = init.headers.get('mcp-session-id');
    expect(id).toBeTruthy();
    expect((await init.json()).result.capabilities.resources).toEqual({ subscribe: true });
    const list = { jsonrpc: '2.0', id: 2, method: 'resources/templates/list', params: {} };
    const mine = await fetch(`${baton.url}/mcp`, { method: 'POST', headers: { ...headers(a.key), 'mcp-session-id': id! }, body: JSON.stringify(list) });
    expect(mine.status).toBe(200);
    const theirs = await fetch(`${baton.url}/mcp`, { method: 'POST', headers: { ...headers(b.key), 'mcp-session-id': id! }, body: JSON.stringify(list) });
    expect(theirs.status).toBe(404);
    const sub = { jsonrpc: '2.0', id: 3, method: 'resources/subscribe', params: { uri: 'baton:///demo/outbox/secret.md' } };
    const stateless = await (await fetch(`${baton.url}/mcp`, { method: 'POST', headers: headers(a.key), body: JSON.stringify(sub) })).json();
    expect(stateless.error.message).toMatch(/needs a session/);
    const end = await fetch(`${baton.url}/mcp`, { method: 'DELETE', headers: { ...headers(a.key), 'mcp-session-id': id! } });
    expect(end.status).toBe(200);
    const gone = await fetch(`${baton.url}/mcp`, { method: 'POST', headers: { ...headers(a.key), 'mcp-session-id': id! }, body: JSON.stringify(list) });
    expect(gone.status).toBe(404);
  });
});

describe('baton mcp across a server restart', () => {
  it('opens a new session by itself, subscribes again, and reports changes made after the restart', async () => {
    const net = await import('node:net');
    const own = await startBaton({ redisUrl: redis.url });
    let target = new URL(own.url);
    // baton mcp talks to a fixed port; behind it, the server is restarted on a new one.
    const sockets = new Set<import('node:net').Socket>();
    const proxy = net.createServer((sock) => {
      const up = net.connect(Number(target.port), target.hostname);
      sockets.add(sock).add(up);
      sock.pipe(up).pipe(sock);
      sock.on('error', () => up.destroy());
      up.on('error', () => sock.destroy());
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', () => r()));
    const proxyUrl = `http://127.0.0.1:${(proxy.address() as { port: number }).port}`;
    let server = own;
    const { key } = await createKey(own.url, own.adminToken, { agent: 'res-restart', grants: ['read:/demo/drafts/**'] });
    const s = await connect('stdio', proxyUrl, key);
    const seen: string[] = [];
    s.client.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => void seen.push(n.params.uri));
    try {
      const path = '/demo/drafts/restart/watched.md';
      await s.client.subscribeResource({ uri: `baton://${path}` });
      // Connections cut and refused while it restarts, as when the process dies.
      target = new URL('http://127.0.0.1:1');
      for (const sock of sockets) sock.destroy();
      await server.stop();
      server = await startBaton({ redisUrl: redis.url, dataDir: own.dataDir, workspacesDir: own.workspacesDir, adminToken: own.adminToken });
      target = new URL(server.url);
      // The relay reports each subscription once on its new session (what changed meanwhile reached no one) …
      await until('the new session', () => (seen.length > 0 ? true : undefined), 15_000);
      seen.length = 0;
      // … and from then on, changes as they happen.
      expect((await client(server.url, server.adminToken).put(path, 'after the restart')).status).toBe(201);
      await until('the update', () => (seen.includes(`baton://${path}`) ? true : undefined));
    } finally {
      await s.close();
      proxy.close();
      for (const sock of sockets) sock.destroy();
      await server.stop();
    }
  });
});
