import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditEntries, type AuditEntryJson } from '../helpers/audit.js';
import { BIN, startBaton, teardown, type TestBaton } from '../helpers/baton.js';
import { client, createKey } from '../helpers/http.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';
import { connect, refusal, textOf } from './helpers.js';

let redis: TestRedis;
let baton: TestBaton;
let admin: ReturnType<typeof client>;
const ALLOWED = 'https://agents.example.com';

beforeAll(async () => {
  redis = await startRedis();
  baton = await startBaton({ redisUrl: redis.url, env: { BATON_MCP_ALLOWED_ORIGINS: `${ALLOWED}, http://localhost:1` } });
  admin = client(baton.url, baton.adminToken);
});
afterAll(() => teardown(baton, redis));

const INIT = {
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
};

function post(body: unknown, headers: Record<string, string> = {}, key: string | null = baton.adminToken) {
  return fetch(`${baton.url}/mcp`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      ...(key ? { authorization: `Bearer ${key}` } : {}),
      ...headers,
    },
    body: JSON.stringify(body),
  });
}

/** Audit entries of one actor after `after`, once the trail has caught up with `expected` of them. */
async function entriesOf(actor: string, after: number, expected: number): Promise<AuditEntryJson[]> {
  let found: AuditEntryJson[] = [];
  for (let i = 0; i < 50; i++) {
    found = (await auditEntries(baton.url, baton.adminToken, { actor })).filter((e) => e.seq > after);
    if (found.length >= expected) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  await new Promise((r) => setTimeout(r, 300));
  return (await auditEntries(baton.url, baton.adminToken, { actor })).filter((e) => e.seq > after);
}

async function lastSeq(): Promise<number> {
  const all = await auditEntries(baton.url, baton.adminToken);
  return all.reduce((m, e) => Math.max(m, e.seq), 0);
}

describe('POST /mcp', () => {
  it('accepts no Origin, its own origin and BATON_MCP_ALLOWED_ORIGINS; refuses any other Origin with 403', async () => {
    expect((await post(INIT)).status).toBe(200);
    expect((await post(INIT, { origin: baton.url })).status).toBe(200);
    expect((await post(INIT, { origin: baton.url.replace('127.0.0.1', 'localhost') })).status).toBe(200);
    expect((await post(INIT, { origin: ALLOWED })).status).toBe(200);
    for (const origin of ['http://evil.example', 'null', `${baton.url.replace(/:\d+$/, ':1')}`, 'https://agents.example.com.evil.example', 'http://127.0.0.1']) {
      const r = await post(INIT, { origin });
      expect(r.status, origin).toBe(403);
      expect((await r.json()).error.code).toBe('forbidden');
    }
    // A page that rebinds its own name to 127.0.0.1 sends a Host it controls: it is not trusted.
    expect((await post(INIT, { origin: 'http://rebind.example:8787', host: 'rebind.example:8787' })).status).toBe(403);
  });

  it('needs the bearer key; GET and DELETE need a session of this key', async () => {
    const none = await post(INIT, {}, null);
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toMatch(/^Bearer\b/);
    expect((await none.json()).error.code).toBe('unauthorized');
    const wrong = await post(INIT, {}, 'bk_not_a_key');
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get('www-authenticate')).toMatch(/^Bearer\b/);
    // No OAuth here: discovery answers 404 so clients like mcp-remote do not try to register.
    for (const doc of ['/.well-known/oauth-protected-resource', '/.well-known/oauth-protected-resource/mcp', '/.well-known/oauth-authorization-server']) {
      const d = await fetch(`${baton.url}${doc}`);
      expect(d.status).toBe(404);
      expect((await d.json()).error.code).toBe('not_found');
    }
    const get = await fetch(`${baton.url}/mcp`, { headers: { authorization: `Bearer ${baton.adminToken}`, accept: 'text/event-stream' } });
    expect(get.status).toBe(400);
    expect((await get.json()).error.message).toMatch(/Mcp-Session-Id/);
    for (const method of ['GET', 'DELETE']) {
      const r = await fetch(`${baton.url}/mcp`, { method, headers: { authorization: `Bearer ${baton.adminToken}`, accept: 'text/event-stream', 'mcp-session-id': 'no-such-session' } });
      expect(r.status, method).toBe(404);
    }
    const bad = await fetch(`${baton.url}/mcp`, {
      method: 'POST',
      headers: { authorization: `Bearer ${baton.adminToken}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: '{not json',
    });
    expect(bad.status).toBe(400);
    expect((await bad.json()).error.code).toBe(-32700);
  });

  it('audits each tool call once, with the agent as actor, allowed or denied with its code', async () => {
    const { key } = await createKey(baton.url, baton.adminToken, { agent: 'mcp-audited', grants: ['read:/demo/drafts/**', 'write:/demo/drafts/**'] });
    await admin.put('/demo/drafts/audit/a.md', 'a');
    const s = await connect('http', baton.url, key);
    try {
      await s.tools();
      await new Promise((r) => setTimeout(r, 500));
      const mark = await lastSeq();
      await s.text('read_text_file', { path: '/demo/drafts/audit/a.md' });
      expect(refusal(await s.call('read_text_file', { path: '/demo/outbox/secret.md' })).code).toBe('forbidden');
      expect(refusal(await s.call('delete_file', { path: '/demo/drafts/audit/a.md' })).code).toBe('forbidden');
      await s.text('write_file', { path: '/demo/drafts/audit/b.md', content: 'b' });
      await s.text('read_multiple_files', { paths: ['/demo/drafts/audit/a.md', '/demo/outbox/x.md'] });
      const got = await entriesOf('agent:mcp-audited', mark, 6);
      const view = got.map((e) => [e.action, e.path, e.outcome, e.code]);
      expect(view).toEqual(
        expect.arrayContaining([
          ['file.read', '/demo/drafts/audit/a.md', 'allowed', null],
          ['file.read', '/demo/outbox/secret.md', 'denied', 'forbidden'],
          ['mcp.delete_file', '/demo/drafts/audit/a.md', 'denied', 'forbidden'],
          ['file.write', '/demo/drafts/audit/b.md', 'allowed', null],
          ['file.read', '/demo/outbox/x.md', 'denied', 'forbidden'],
        ]),
      );
      // Exactly one entry per tool call (read_multiple_files: one per file), nothing for the HTTP requests themselves.
      expect(got.length).toBe(6);
      expect(got.filter((e) => e.path === '/demo/drafts/audit/a.md' && e.action === 'file.read').length).toBe(2);
      expect(got.find((e) => e.action === 'file.write')!.etag).toBeTruthy();
    } finally {
      await s.close();
    }
  });

  it('writes emit the same events as REST writes, with the agent as actor and the request\'s causation', async () => {
    const { key } = await createKey(baton.url, baton.adminToken, { agent: 'mcp-events', grants: ['read:/demo/**', 'write:/demo/**', 'delete:/demo/**'] });
    const s = await connect('http', baton.url, key);
    const start = (await admin.call('GET', '/v1/events?path=/demo/outbox/ev/**')).json.cursor;
    try {
      await s.text('write_file', { path: '/demo/outbox/ev/a.md', content: 'one' });
      await s.text('edit_file', { path: '/demo/outbox/ev/a.md', edits: [{ oldText: 'one', newText: 'two' }] });
      await s.text('move_file', { source: '/demo/outbox/ev/a.md', destination: '/demo/outbox/ev/b.md' });
      await s.call('delete_file', { path: '/demo/outbox/ev/b.md' });
      const page = (await admin.call('GET', `/v1/events?path=/demo/outbox/ev/**&after=${start}`)).json;
      expect(page.events.map((e: { event: string; path: string; actor: string; from?: string }) => [e.event, e.path, e.actor, e.from ?? null])).toEqual([
        ['file.created', '/demo/outbox/ev/a.md', 'agent:mcp-events', null],
        ['file.updated', '/demo/outbox/ev/a.md', 'agent:mcp-events', null],
        ['file.moved', '/demo/outbox/ev/b.md', 'agent:mcp-events', '/demo/outbox/ev/a.md'],
        ['file.deleted', '/demo/outbox/ev/b.md', 'agent:mcp-events', null],
      ]);
      // Baton-Causation on the /mcp request reaches the events of its tool call (loop guard).
      const cause = page.events[0].id as string;
      const caused = await post(
        { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'write_file', arguments: { path: '/demo/outbox/ev/c.md', content: 'c' } } },
        { 'baton-causation': cause, 'mcp-protocol-version': '2025-06-18' },
        key,
      );
      expect(caused.status).toBe(200);
      expect((await caused.json()).result.content[0].text).toBe('Successfully wrote to /demo/outbox/ev/c.md');
      const after = (await admin.call('GET', `/v1/events?path=/demo/outbox/ev/c.md&after=${start}`)).json.events;
      expect(after[0].causation).toEqual({ eventId: cause, depth: 1 });
    } finally {
      await s.close();
    }
  });

  it('a lone tools/call gets the answer the SDK transport gives the same call; any other request still gets the SDK\'s checks', async () => {
    const { key } = await createKey(baton.url, baton.adminToken, { agent: 'mcp-direct', grants: ['read:/demo/drafts/**'] });
    await admin.put('/demo/drafts/direct/a.md', 'direct answer');
    const init = await post(INIT, {}, key);
    const sid = init.headers.get('mcp-session-id')!;
    expect(sid).toBeTruthy();
    const session = { 'mcp-session-id': sid, 'mcp-protocol-version': '2025-06-18' };
    expect((await post({ jsonrpc: '2.0', method: 'notifications/initialized' }, session, key)).status).toBe(202);
    const call = (id: number | string, name: string, args?: Record<string, unknown>) => ({ jsonrpc: '2.0', id, method: 'tools/call', params: { name, ...(args ? { arguments: args } : {}) } });
    const answer = async (body: unknown, headers: Record<string, string>) => {
      const r = await post(body, headers, key);
      return { status: r.status, type: r.headers.get('content-type'), session: r.headers.get('mcp-session-id'), body: await r.json() };
    };
    const cases = [
      call(11, 'read_text_file', { path: '/demo/drafts/direct/a.md' }),
      call('s-12', 'read_text_file', { path: '/demo/outbox/secret.md' }),
      call(13, 'read_text_file', { path: '/demo/drafts/direct/a.md', head: 'x' }),
      call(14, 'no_such_tool', {}),
      call(15, 'list_allowed_directories'),
    ];
    for (const c of cases) {
      // A batch of one goes through the SDK's transport and server; its single answer is sent unwrapped.
      const viaSdk = await answer([c], session);
      const direct = await answer(c, session);
      expect(direct, JSON.stringify(c)).toEqual(viaSdk);
      expect(direct.status).toBe(200);
      expect(direct.session).toBe(sid);
      expect(direct.body.id).toBe(c.id);
    }
    expect((await answer(cases[0], session)).body.result.content[0].text).toBe('direct answer');
    expect((await answer(cases[3], session)).body.error).toEqual({ code: -32602, message: 'MCP error -32602: Unknown tool: no_such_tool' });
    // Progress metadata, task augmentation, odd ids and extra members are the SDK's to judge.
    const withMeta = { ...cases[0], params: { ...cases[0]!.params, _meta: { progressToken: 'p1' } } };
    expect((await answer(withMeta, session)).body.result.content[0].text).toBe('direct answer');
    expect((await answer({ ...cases[0], extra: 1 }, session)).status).toBe(400);
    expect((await answer({ ...cases[0], id: 1.5 }, session)).status).toBe(400);
    const arrayArgs = { ...cases[0], params: { name: 'read_text_file', arguments: ['x'] } };
    expect((await answer(arrayArgs, session)).body.error).toEqual((await answer([arrayArgs], session)).body.error);
    // The transport's own header checks still answer first.
    expect((await post(cases[0], { ...session, 'mcp-protocol-version': '1999-01-01' }, key)).status).toBe(400);
    expect((await post(cases[0], { ...session, accept: 'application/json' }, key)).status).toBe(406);
    expect((await post(cases[0], { ...session, 'content-type': 'text/plain' }, key)).status).toBe(415);
    expect((await post(cases[0], { ...session, 'mcp-session-id': 'not-a-session' }, key)).status).toBe(404);
    // Without a session the call is answered statelessly, with no session id.
    const stateless = await answer(cases[0], {});
    expect(stateless).toMatchObject({ status: 200, session: null, body: { id: 11, result: { content: [{ type: 'text', text: 'direct answer' }] } } });
  });

  it('baton mcp starts while the server is down, answers unavailable, and works once the server is reachable', async () => {
    const k = await createKey(baton.url, baton.adminToken, { agent: 'mcp-relay', grants: ['read:/demo/**'] });
    const net = await import('node:net');
    // a port that is free now: nothing listens there until the relay forwards to it below
    const probe = net.createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', () => r()));
    const port = (probe.address() as { port: number }).port;
    await new Promise<void>((r) => probe.close(() => r()));
    const down = await connect('stdio', `http://127.0.0.1:${port}`, k.key);
    try {
      expect(refusal(await down.call('list_directory', { path: '/demo' })).code).toBe('unavailable');
      await expect(down.tools()).rejects.toThrow(/unavailable/);
      // a TCP relay to the real server on that port: the same baton mcp process now gets through
      const target = new URL(baton.url);
      const open = new Set<import('node:net').Socket>();
      const relay = net.createServer((sock) => {
        const up = net.connect(Number(target.port), target.hostname);
        open.add(sock).add(up);
        sock.pipe(up).pipe(sock);
        sock.on('error', () => up.destroy());
        up.on('error', () => sock.destroy());
      });
      await new Promise<void>((r) => relay.listen(port, '127.0.0.1', () => r()));
      try {
        expect(await down.tools()).toContain('read_text_file');
        expect(textOf(await down.call('list_allowed_directories'))).toBe('Allowed directories:\n/demo');
      } finally {
        relay.close();
        for (const s of open) s.destroy();
      }
    } finally {
      await down.close();
    }
  });

  it('baton mcp leaves a cancelled call unanswered and answers the calls after it', async () => {
    const { key } = await createKey(baton.url, baton.adminToken, { agent: 'mcp-cancel', grants: ['read:/demo/**'] });
    const { spawn } = await import('node:child_process');
    const relay = spawn(process.execPath, [BIN, 'mcp'], { env: { ...process.env, BATON_URL: baton.url, BATON_KEY: key }, stdio: ['pipe', 'pipe', 'ignore'] });
    const answers: Array<{ id?: unknown; result?: { content: Array<{ text: string }> } }> = [];
    let buf = '';
    relay.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
        answers.push(JSON.parse(buf.slice(0, i)));
        buf = buf.slice(i + 1);
      }
    });
    const send = (m: unknown) => relay.stdin.write(`${JSON.stringify(m)}\n`);
    const answerTo = async (id: number) => {
      for (let i = 0; i < 100 && !answers.some((a) => a.id === id); i++) await new Promise((r) => setTimeout(r, 50));
      return answers.find((a) => a.id === id);
    };
    try {
      send(INIT);
      expect(await answerTo(1)).toBeTruthy();
      send({ jsonrpc: '2.0', method: 'notifications/initialized' });
      send({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'wait_for_changes', arguments: { path: '/demo/nothing-here/**', timeoutSeconds: 30 } } });
      await new Promise((r) => setTimeout(r, 300));
      send({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 2, reason: 'host gave up' } });
      send({ jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'list_allowed_directories', arguments: {} } });
      expect((await answerTo(3))?.result?.content[0]?.text).toBe('Allowed directories:\n/demo');
      await new Promise((r) => setTimeout(r, 500));
      expect(answers.map((a) => a.id)).toEqual([1, 3]);
    } finally {
      relay.kill();
    }
  });

  it('a revoked key fails on its next call', async () => {
    const k = await createKey(baton.url, baton.adminToken, { agent: 'mcp-revoked', grants: ['read:/demo/**'] });
    const s = await connect('http', baton.url, k.key);
    const stdio = await connect('stdio', baton.url, k.key);
    try {
      expect(textOf(await s.call('list_allowed_directories'))).toBe('Allowed directories:\n/demo');
      expect(textOf(await stdio.call('list_allowed_directories'))).toBe('Allowed directories:\n/demo');
      expect((await admin.call('DELETE', `/v1/keys/${k.id}`)).status).toBe(200);
      await expect(s.call('list_directory', { path: '/demo' })).rejects.toThrow(/401|unauthorized|revoked/i);
      expect(refusal(await stdio.call('list_directory', { path: '/demo' })).code).toBe('unauthorized');
    } finally {
      await s.close();
      await stdio.close();
    }
  });
});
