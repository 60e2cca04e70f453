import { mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeDir, startBaton, type TestBaton } from '../helpers/baton.js';
import { client, createKey } from '../helpers/http.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';
import { connect, KINDS, refusal, textOf, type Kind, type McpSession } from './helpers.js';
import { tempDir } from '../helpers/temp.js';

const READ_TOOLS = [
  'directory_tree',
  'get_file_info',
  'list_allowed_directories',
  'list_directory',
  'list_directory_with_sizes',
  'list_versions',
  'read_file',
  'read_media_file',
  'read_multiple_files',
  'read_text_file',
  'search_files',
  'wait_for_changes',
];
const WRITE_TOOLS = ['create_directory', 'delete_file', 'edit_file', 'move_file', 'restore_version', 'write_file'];
const TICKET_TOOLS = ['claim_ticket', 'complete_ticket', 'fail_ticket', 'heartbeat_ticket'];
const ALL_TOOLS = [...READ_TOOLS, ...WRITE_TOOLS, ...TICKET_TOOLS, 'subscribe'].sort();

let redis: TestRedis;
let baton: TestBaton;
let admin: ReturnType<typeof client>;
let other: ReturnType<typeof client>;
let canary: string;
const keys: Record<string, string> = {};
const PNG = Buffer.from('89504e470d0a1a0a0000000d4948445200000001000000010806000000', 'hex');

beforeAll(async () => {
  redis = await startRedis();
  baton = await startBaton({ redisUrl: redis.url });
  admin = client(baton.url, baton.adminToken);
  keys.reader = (await createKey(baton.url, baton.adminToken, { agent: 'mcp-reader', grants: ['read:/demo/drafts/**'] })).key;
  keys.writer = (await createKey(baton.url, baton.adminToken, { agent: 'mcp-writer', grants: ['read:/demo/**', 'write:/demo/**', 'delete:/demo/**'] })).key;
  keys.worker = (await createKey(baton.url, baton.adminToken, { agent: 'mcp-worker', grants: ['read:/demo/**', 'subscribe:/demo/**', 'claim:/demo/**'] })).key;
  keys.admin = baton.adminToken;
  const o = await createKey(baton.url, baton.adminToken, { agent: 'mcp-other', grants: ['read:/demo/**', 'write:/demo/**'] });
  other = client(baton.url, o.key);

  // Shared fixtures: a sibling folder whose name starts like drafts, and links out of the workspace.
  expect((await admin.put('/demo/drafts-x/secret.txt', 'sibling secret')).status).toBe(201);
  expect((await admin.put('/demo/drafts/shared/one.md', 'one\n')).status).toBe(201);
  canary = tempDir('baton-mcp-canary-');
  writeFileSync(join(canary, 'secret.txt'), 'CANARY');
  mkdirSync(join(baton.dataDir, 'demo', 'drafts', 'links'), { recursive: true });
  symlinkSync(join(canary, 'secret.txt'), join(baton.dataDir, 'demo', 'drafts', 'links', 'file-out'));
  symlinkSync(canary, join(baton.dataDir, 'demo', 'drafts', 'links', 'dir-out'));
});

afterAll(async () => {
  await baton?.stop();
  await redis?.stop();
  if (baton) {
    removeDir(baton.dataDir);
    removeDir(baton.workspacesDir);
  }
  if (canary) rmSync(canary, { recursive: true, force: true });
});

describe.each(KINDS)('MCP over %s', (kind: Kind) => {
  const s: Record<string, McpSession> = {};
  const base = `/demo/drafts/mcp-${kind}`;

  beforeAll(async () => {
    for (const name of ['reader', 'writer', 'worker', 'admin']) s[name] = await connect(kind, baton.url, keys[name]!);
  });
  afterAll(async () => {
    for (const x of Object.values(s)) await x.close();
  });

  it('lists only the tools each key can ever use', async () => {
    expect(await s.reader!.tools()).toEqual(READ_TOOLS);
    expect(await s.writer!.tools()).toEqual([...READ_TOOLS, ...WRITE_TOOLS].sort());
    expect(await s.worker!.tools()).toEqual([...READ_TOOLS, ...TICKET_TOOLS, 'subscribe'].sort());
    expect(await s.admin!.tools()).toEqual(ALL_TOOLS);
    const listed = (await s.admin!.client.listTools()).tools;
    for (const t of listed) {
      expect(t.description!.length, t.name).toBeGreaterThan(40);
      expect(t.inputSchema.type).toBe('object');
    }
    // Reference names and arguments where they overlap.
    const byName = new Map(listed.map((t) => [t.name, t]));
    expect(Object.keys(byName.get('read_text_file')!.inputSchema.properties!).sort()).toEqual(['head', 'path', 'tail']);
    expect(Object.keys(byName.get('edit_file')!.inputSchema.properties!).sort()).toEqual(['dryRun', 'edits', 'path']);
    expect(Object.keys(byName.get('move_file')!.inputSchema.properties!).sort()).toEqual(['destination', 'source']);
    expect(Object.keys(byName.get('search_files')!.inputSchema.properties!).sort()).toEqual(['excludePatterns', 'path', 'pattern']);
    expect(Object.keys(byName.get('wait_for_changes')!.inputSchema.properties!).sort()).toEqual(['after', 'limit', 'path', 'timeoutSeconds']);
  });

  it('every tool declares an outputSchema; Baton\'s own tools take it from the REST schemas, and it judges results', async () => {
    const listed = (await s.admin!.client.listTools()).tools;
    const byName = new Map(listed.map((t) => [t.name, t]));
    for (const t of listed) expect(t.outputSchema?.type, t.name).toBe('object');
    const ajv = new Ajv({ strict: false });
    const schemaOf = (name: string) => byName.get(name)!.outputSchema as Record<string, unknown>;
    expect(Object.keys(schemaOf('list_versions').definitions as object)).toEqual(expect.arrayContaining(['VersionList', 'VersionInfo']));
    expect(Object.keys(schemaOf('wait_for_changes').definitions as object)).toEqual(expect.arrayContaining(['EventPage', 'BatonEvent']));
    const versions = ajv.compile(schemaOf('list_versions'));
    const v = { version: 1, etag: 'e', size: 1, mimeType: 'text/plain', time: '2026-01-01T00:00:00Z', actor: 'agent:a', deleted: false };
    expect(versions({ versions: [v] })).toBe(true);
    expect(versions({ error: { code: 'not_found', message: 'x' } })).toBe(true);
    // The REST shape is closed: a field it does not declare, or a missing one, fails.
    expect(versions({ versions: [{ ...v, extra: 1 }] })).toBe(false);
    expect(versions({ versions: [{ ...v, actor: undefined }] })).toBe(false);
    const claim = ajv.compile(schemaOf('claim_ticket'));
    expect(claim({ ticket: null })).toBe(true);
    expect(claim({ ticket: 1 })).toBe(false);
    const text = ajv.compile(schemaOf('read_text_file'));
    expect(text({ content: 'x' })).toBe(true);
    expect(text({ content: 1 })).toBe(false);
  });

  it('write_file and read_text_file / read_file with head and tail; paths without / are read from /', async () => {
    const w = await s.writer!.call('write_file', { path: `${base}/notes.txt`, content: 'one\ntwo\nthree\nfour' });
    expect(textOf(w)).toBe(`Successfully wrote to ${base}/notes.txt`);
    expect(w.structuredContent).toEqual({ content: `Successfully wrote to ${base}/notes.txt` });
    const rest = await admin.get(`${base}/notes.txt`);
    expect(rest.text).toBe('one\ntwo\nthree\nfour');
    expect(rest.headers.get('content-type')).toBe('text/plain');

    expect(await s.reader!.text('read_text_file', { path: `${base}/notes.txt` })).toBe('one\ntwo\nthree\nfour');
    expect(await s.reader!.text('read_text_file', { path: `${base.slice(1)}/notes.txt`, head: 2 })).toBe('one\ntwo');
    expect(await s.reader!.text('read_text_file', { path: `${base}/notes.txt`, tail: 2 })).toBe('three\nfour');
    expect(await s.reader!.text('read_file', { path: `${base}/notes.txt`, head: 10 })).toBe('one\ntwo\nthree\nfour');
    expect(refusal(await s.reader!.call('read_text_file', { path: `${base}/notes.txt`, head: 1, tail: 1 })).code).toBe('bad_request');

    await s.writer!.text('write_file', { path: `${base}/crlf.txt`, content: 'a\r\nb\r\nc\r\n' });
    expect(await s.reader!.text('read_text_file', { path: `${base}/crlf.txt`, tail: 2 })).toBe('c\n');
    expect(await s.reader!.text('read_text_file', { path: `${base}/crlf.txt`, head: 2 })).toBe('a\r\nb\r');
  });

  it('read_media_file returns images as image content and other binaries as a resource', async () => {
    expect((await admin.put(`${base}/pixel.png`, PNG, { 'content-type': 'image/png' })).status).toBe(201);
    expect((await admin.put(`${base}/blob.bin`, Buffer.from([0, 1, 2, 255]))).status).toBe(201);
    const img = await s.reader!.call('read_media_file', { path: `${base}/pixel.png` });
    expect(img.isError).toBeFalsy();
    expect(img.content[0]).toEqual({ type: 'image', data: PNG.toString('base64'), mimeType: 'image/png' });
    expect(img.structuredContent).toEqual({ content: img.content });
    const bin = await s.reader!.call('read_media_file', { path: `${base}/blob.bin` });
    expect(bin.content[0]).toMatchObject({ type: 'resource', resource: { blob: Buffer.from([0, 1, 2, 255]).toString('base64'), uri: `baton://${base}/blob.bin` } });
  });

  it('read_multiple_files reports a bad file in its place and returns the others', async () => {
    await s.writer!.text('write_file', { path: `${base}/m1.md`, content: 'first' });
    await s.writer!.text('write_file', { path: `${base}/m2.md`, content: 'second' });
    const r = await s.reader!.call('read_multiple_files', { paths: [`${base}/m1.md`, `${base}/missing.md`, '/demo/outbox/x.md', `${base}/m2.md`] });
    expect(r.isError).toBeFalsy();
    const parts = textOf(r).split('\n---\n');
    expect(parts[0]).toBe(`${base}/m1.md:\nfirst\n`);
    expect(parts[1]).toMatch(new RegExp(`^${base}/missing.md: Error - not_found: `));
    expect(parts[2]).toMatch(/^\/demo\/outbox\/x\.md: Error - forbidden: /);
    expect(parts[3]).toBe(`${base}/m2.md:\nsecond\n`);
  });

  it('edit_file: exact and whitespace-tolerant matches, a unified diff, dryRun, and a refusal when nothing matches', async () => {
    const path = `${base}/code.py`;
    await s.writer!.text('write_file', { path, content: 'def f():\n    x = 1\n    return x\n' });
    const dry = await s.writer!.text('edit_file', { path, edits: [{ oldText: 'x = 1', newText: 'x = 2' }], dryRun: true });
    expect(dry).toBe(
      '```diff\n' +
        `Index: ${path}\n===================================================================\n--- ${path}\toriginal\n+++ ${path}\tmodified\n` +
        '@@ -1,3 +1,3 @@\n def f():\n-    x = 1\n+    x = 2\n     return x\n```\n\n',
    );
    expect((await admin.get(path)).text).toBe('def f():\n    x = 1\n    return x\n');
    await s.writer!.text('edit_file', { path, edits: [{ oldText: 'x = 1', newText: 'x = 2' }] });
    // Indentation differs from the file: matched line by line, the file's indentation kept.
    const diff = await s.writer!.text('edit_file', { path, edits: [{ oldText: 'x = 2\nreturn x', newText: 'x = 3\nreturn x * 2' }] });
    expect(diff).toContain('+    x = 3\n');
    expect((await admin.get(path)).text).toBe('def f():\n    x = 3\n    return x * 2\n');
    const miss = refusal(await s.writer!.call('edit_file', { path, edits: [{ oldText: 'x = 3', newText: 'y' }, { oldText: 'not there', newText: 'z' }] }));
    expect(miss.code).toBe('conflict');
    expect((await admin.get(path)).text).toBe('def f():\n    x = 3\n    return x * 2\n');
    // Every edit is an ordinary write by this agent.
    const versions = (await admin.call('GET', `/v1/versions${path}`)).json.versions;
    expect(versions.length).toBe(3);
    expect(versions[0].actor).toBe('agent:mcp-writer');
  });

  it('create_directory, list_directory, list_directory_with_sizes, directory_tree, search_files, get_file_info', async () => {
    const root = `${base}/tree`;
    expect(await s.writer!.text('create_directory', { path: `${root}/empty/deeper` })).toBe(`Successfully created directory ${root}/empty/deeper`);
    await s.writer!.text('create_directory', { path: `${root}/empty/deeper` }); // exists: fine
    await s.writer!.text('write_file', { path: `${root}/a.md`, content: 'aaaa' });
    await s.writer!.text('write_file', { path: `${root}/sub/b.md`, content: 'b' });
    await s.writer!.text('write_file', { path: `${root}/sub/c.txt`, content: 'cc' });
    await s.writer!.text('write_file', { path: `${root}/node_modules/x.md`, content: 'x' });

    expect((await s.reader!.text('list_directory', { path: root })).split('\n').sort()).toEqual(['[DIR] empty', '[DIR] node_modules', '[DIR] sub', '[FILE] a.md']);
    const sized = await s.reader!.text('list_directory_with_sizes', { path: root, sortBy: 'size' });
    expect(sized.split('\n')[0]).toBe(`[FILE] ${'a.md'.padEnd(30)} ${'4 B'.padStart(10)}`);
    expect(sized).toContain('\nTotal: 1 files, 3 directories\nCombined size: 4 B');

    const tree = JSON.parse(await s.reader!.text('directory_tree', { path: root, excludePatterns: ['node_modules', '**/*.txt'] }));
    const norm = (nodes: Array<{ name: string; children?: unknown[] }>): unknown =>
      [...nodes].sort((x, y) => x.name.localeCompare(y.name)).map((n) => (n.children ? { ...n, children: norm(n.children as never) } : n));
    expect(norm(tree)).toEqual([
      { name: 'a.md', type: 'file' },
      { name: 'empty', type: 'directory', children: [{ name: 'deeper', type: 'directory', children: [] }] },
      { name: 'sub', type: 'directory', children: [{ name: 'b.md', type: 'file' }] },
    ]);

    expect((await s.reader!.text('search_files', { path: root, pattern: '**/*.md' })).split('\n').sort()).toEqual([
      `${root}/a.md`,
      `${root}/node_modules/x.md`,
      `${root}/sub/b.md`,
    ]);
    expect((await s.reader!.text('search_files', { path: root, pattern: '**/*.md', excludePatterns: ['node_modules'] })).split('\n').sort()).toEqual([
      `${root}/a.md`,
      `${root}/sub/b.md`,
    ]);
    expect(await s.reader!.text('search_files', { path: root, pattern: '*.md' })).toBe(`${root}/a.md`);
    expect(await s.reader!.text('search_files', { path: root, pattern: '**/*.pdf' })).toBe('No matches found');

    const info = Object.fromEntries(
      (await s.reader!.text('get_file_info', { path: `${root}/a.md` })).split('\n').map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 2)]),
    );
    const head = await admin.head(`${root}/a.md`);
    expect(info).toMatchObject({ path: `${root}/a.md`, type: 'file', size: '4', isFile: 'true', isDirectory: 'false', mimeType: 'text/markdown', version: '1' });
    expect(`"${info.etag}"`).toBe(head.headers.get('etag'));
    expect(info.modified).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    const dir = await s.reader!.text('get_file_info', { path: `${root}/sub` });
    expect(dir).toContain('type: directory\n');
    expect(dir).toContain('isDirectory: true');
  });

  it('move_file moves atomically and refuses an existing destination', async () => {
    await s.writer!.text('write_file', { path: `${base}/mv/a.txt`, content: 'A' });
    await s.writer!.text('write_file', { path: `${base}/mv/b.txt`, content: 'B' });
    expect(await s.writer!.text('move_file', { source: `${base}/mv/a.txt`, destination: `${base}/mv/c.txt` })).toBe(
      `Successfully moved ${base}/mv/a.txt to ${base}/mv/c.txt`,
    );
    expect((await admin.get(`${base}/mv/c.txt`)).text).toBe('A');
    expect((await admin.get(`${base}/mv/a.txt`)).status).toBe(404);
    expect(refusal(await s.writer!.call('move_file', { source: `${base}/mv/c.txt`, destination: `${base}/mv/b.txt` })).code).toBe('conflict');
    expect((await admin.get(`${base}/mv/b.txt`)).text).toBe('B');
  });

  it('delete_file, list_versions and restore_version answer the REST bodies as structuredContent and text', async () => {
    const path = `${base}/v.txt`;
    await s.writer!.text('write_file', { path, content: 'v1' });
    await s.writer!.text('write_file', { path, content: 'v2' });
    const del = await s.writer!.call('delete_file', { path });
    expect(del.structuredContent).toMatchObject({ path, type: 'file', deleted: true, version: 2 });
    expect(JSON.parse(textOf(del))).toEqual(del.structuredContent);
    const versions = await s.reader!.call('list_versions', { path });
    const restVersions = (await admin.call('GET', `/v1/versions${path}`)).json;
    expect(versions.structuredContent).toEqual(restVersions);
    expect(JSON.parse(textOf(versions))).toEqual(restVersions);
    expect(restVersions.versions.map((v: { version: number; deleted: boolean }) => [v.version, v.deleted])).toEqual([
      [3, true],
      [2, false],
      [1, false],
    ]);
    const restored = await s.writer!.call('restore_version', { path, version: 1 });
    expect(restored.structuredContent).toMatchObject({ path, version: 4, restoredFrom: 1, mimeType: 'text/plain', size: 2 });
    expect(Object.keys(restored.structuredContent!).sort()).toEqual(['etag', 'mimeType', 'path', 'restoredFrom', 'size', 'version']);
    expect(JSON.parse(textOf(restored))).toEqual(restored.structuredContent);
    expect((await admin.get(path)).text).toBe('v1');
  });

  it('list_allowed_directories names the folders the key may read', async () => {
    expect(await s.reader!.text('list_allowed_directories')).toBe('Allowed directories:\n/demo/drafts');
    expect(await s.writer!.text('list_allowed_directories')).toBe('Allowed directories:\n/demo');
    expect(await s.admin!.text('list_allowed_directories')).toBe('Allowed directories:\n/');
  });

  it('wait_for_changes is woken by another agent\'s REST write, well before its timeout, and resumes from its cursor', async () => {
    const glob = `${base}/inbox/**`;
    const start = await s.reader!.call('wait_for_changes', { path: glob, timeoutSeconds: 0 });
    expect(start.structuredContent).toMatchObject({ events: [] });
    const cursor = (start.structuredContent as { cursor: string }).cursor;
    const t0 = Date.now();
    const waiting = s.reader!.call('wait_for_changes', { path: glob, after: cursor, timeoutSeconds: 30 });
    await new Promise((r) => setTimeout(r, 400));
    expect((await other.put(`${base}/inbox/task.md`, 'do it')).status).toBe(201);
    const woke = await waiting;
    expect(Date.now() - t0).toBeLessThan(10_000);
    const page = woke.structuredContent as { events: Array<{ event: string; path: string; actor: string }>; cursor: string };
    expect(JSON.parse(textOf(woke))).toEqual(page);
    expect(page.events.map((e) => [e.event, e.path, e.actor])).toEqual([['file.created', `${base}/inbox/task.md`, 'agent:mcp-other']]);
    // Nothing new after the returned cursor; a path outside the glob does not count.
    await other.put(`${base}/elsewhere.md`, 'x');
    const none = await s.reader!.call('wait_for_changes', { path: glob.slice(1), after: page.cursor, timeoutSeconds: 1 });
    expect((none.structuredContent as { events: unknown[] }).events).toEqual([]);
  });

  it('subscribe creates a webhook subscription and returns its secret once', async () => {
    const r = await s.worker!.call('subscribe', { url: 'http://127.0.0.1:9/hook', paths: [`${base}/inbox/**`], events: ['file.created'] });
    expect(r.isError).toBeFalsy();
    const sub = r.structuredContent as { id: string; secret: string; paths: string[]; url: string };
    expect(sub.secret).toMatch(/^whsec_/);
    expect(sub.paths).toEqual([`${base}/inbox/**`]);
    expect(JSON.parse(textOf(r))).toEqual(sub);
    expect(refusal(await s.worker!.call('subscribe', { url: 'http://127.0.0.1:9/hook', paths: ['/marketing/**'] })).code).toBe('forbidden');
  });

  it('claim_ticket, heartbeat_ticket, complete_ticket and fail_ticket run a queue; an empty queue is {ticket:null}', async () => {
    const queue = `/demo/q-${kind}`;
    expect((await admin.put(`${queue}/pending/t1.md`, 'ticket one')).status).toBe(201);
    expect((await admin.put(`${queue}/pending/t2.md`, 'ticket two')).status).toBe(201);
    const c1 = await s.worker!.call('claim_ticket', { queue, leaseSeconds: 60 });
    const t1 = c1.structuredContent as { path: string; content: string; fencingToken: number; attempt: number };
    expect(t1).toMatchObject({ path: `${queue}/in-progress/t1.md`, content: 'ticket one', attempt: 1 });
    expect(JSON.parse(textOf(c1))).toEqual(t1);
    const hb = await s.worker!.call('heartbeat_ticket', { path: t1.path, fencingToken: t1.fencingToken, leaseSeconds: 120 });
    expect(hb.isError).toBeFalsy();
    const done = await s.worker!.call('complete_ticket', { path: t1.path, fencingToken: t1.fencingToken, result: { ok: true } });
    expect(done.isError).toBeFalsy();
    expect((await admin.get(`${queue}/done/t1.md`)).text).toBe('ticket one');
    expect(refusal(await s.worker!.call('heartbeat_ticket', { path: t1.path, fencingToken: t1.fencingToken })).code).toMatch(/conflict|not_found/);

    const t2 = (await s.worker!.call('claim_ticket', { queue: queue.slice(1) })).structuredContent as { path: string; fencingToken: number };
    expect(refusal(await s.worker!.call('fail_ticket', { path: t2.path, fencingToken: t2.fencingToken + 1000 })).code).toBe('conflict');
    expect((await s.worker!.call('fail_ticket', { path: t2.path, fencingToken: t2.fencingToken, reason: 'cannot' })).isError).toBeFalsy();
    const empty = await s.worker!.call('claim_ticket', { queue });
    expect(empty.isError).toBeFalsy();
    expect(empty.structuredContent).toEqual({ ticket: null });
    expect(textOf(empty)).toBe('{"ticket":null}');
  });

  describe('refusals: isError with CODE: message and structuredContent.error', () => {
    it('traversal is invalid_path', async () => {
      for (const path of ['../etc/passwd', '/demo/drafts/../drafts-x/secret.txt', '/demo/drafts/./x', 'demo//drafts/x', '/demo/drafts/a\\..\\b', '/demo/drafts/%2e%2e/x']) {
        const e = refusal(await s.reader!.call('read_text_file', { path }));
        expect(e.code, path).toBe('invalid_path');
      }
      expect(refusal(await s.writer!.call('write_file', { path: '/demo/drafts/../outbox/evil.md', content: 'x' })).code).toBe('invalid_path');
      expect(refusal(await s.writer!.call('move_file', { source: `${base}/notes.txt`, destination: '/demo/../x' })).code).toBe('invalid_path');
    });

    it('a sibling folder whose name extends a granted one is forbidden', async () => {
      expect(refusal(await s.reader!.call('read_text_file', { path: '/demo/drafts-x/secret.txt' })).code).toBe('forbidden');
      expect(refusal(await s.reader!.call('list_directory', { path: '/demo/drafts-x' })).code).toBe('forbidden');
      expect(refusal(await s.reader!.call('get_file_info', { path: '/demo/drafts-x/secret.txt' })).code).toBe('forbidden');
      expect(await s.reader!.text('search_files', { path: '/demo', pattern: '**/secret.txt' })).toBe('No matches found');
    });

    it('a symlink out of the workspace reads nothing', async () => {
      for (const path of ['/demo/drafts/links/file-out', '/demo/drafts/links/dir-out/secret.txt']) {
        const r = await s.reader!.call('read_text_file', { path });
        expect(['invalid_path', 'forbidden', 'not_found'], path).toContain(refusal(r).code);
        expect(textOf(r)).not.toContain('CANARY');
      }
      const media = await s.reader!.call('read_media_file', { path: '/demo/drafts/links/file-out' });
      expect(['invalid_path', 'forbidden', 'not_found']).toContain(refusal(media).code);
      const many = await s.reader!.text('read_multiple_files', { paths: ['/demo/drafts/links/file-out'] });
      expect(many).not.toContain('CANARY');
      expect(refusal(await s.writer!.call('write_file', { path: '/demo/drafts/links/dir-out/planted.txt', content: 'x' })).code).toMatch(/invalid_path|forbidden/);
      expect(await s.reader!.text('search_files', { path: '/demo/drafts/links', pattern: '**/secret.txt' })).toBe('No matches found');
    });

    it('outside the key\'s scope is forbidden, tools it was not given included', async () => {
      expect(refusal(await s.reader!.call('read_text_file', { path: '/demo/outbox/x.md' })).code).toBe('forbidden');
      expect(refusal(await s.reader!.call('list_directory', { path: '/marketing' })).code).toMatch(/forbidden|not_found/);
      const w = refusal(await s.reader!.call('write_file', { path: `${base}/nope.md`, content: 'x' }));
      expect(w.code).toBe('forbidden');
      expect(refusal(await s.worker!.call('delete_file', { path: `${base}/notes.txt` })).code).toBe('forbidden');
      expect((await admin.get(`${base}/nope.md`)).status).toBe(404);
      // A gate: only human keys may write into /demo/approved.
      expect(refusal(await s.writer!.call('write_file', { path: '/demo/approved/x.md', content: 'x' })).code).toBe('forbidden');
    });

    it('bad arguments are bad_request; an unknown tool is a protocol error', async () => {
      expect(refusal(await s.reader!.call('read_text_file', { path: 42 })).code).toBe('bad_request');
      expect(refusal(await s.reader!.call('read_multiple_files', { paths: [] })).code).toBe('bad_request');
      const err: Error = await s.reader!.call('no_such_tool', {}).then(() => { throw new Error('resolved'); }, (e: Error) => e);
      expect(err.message).toMatch(/no_such_tool/);
      // The wire message carries one "MCP error -32602:" prefix and the SDK client adds its own; the stdio
      // relay once added a third, so `baton mcp` and /mcp told the same refusal differently.
      expect(err.message.match(/MCP error -32602/g)).toHaveLength(2);
    });

    it('declares a JSON type for complete_ticket.result', async () => {
      const tool = (await s.worker!.client.listTools()).tools.find((t) => t.name === 'complete_ticket')!;
      const result = (tool.inputSchema.properties as Record<string, Record<string, unknown>>).result!;
      expect(JSON.stringify(result)).toMatch(/"type"/);
      expect(JSON.stringify(result)).toMatch(/object/);
    });
  });
});

describe('both transports give the same results', () => {
  it('for reads, listings, metadata and refusals', async () => {
    const http = await connect('http', baton.url, keys.reader!);
    const stdio = await connect('stdio', baton.url, keys.reader!);
    try {
      const calls: Array<[string, Record<string, unknown>]> = [
        ['list_allowed_directories', {}],
        ['read_text_file', { path: '/demo/drafts/shared/one.md' }],
        ['read_multiple_files', { paths: ['/demo/drafts/shared/one.md', '/demo/drafts/none', '/demo/outbox/x'] }],
        ['list_directory', { path: '/demo/drafts/shared' }],
        ['list_directory', { path: '/' }],
        ['list_directory_with_sizes', { path: '/demo/drafts/mcp-http/tree' }],
        ['directory_tree', { path: '/demo/drafts/mcp-http' }],
        ['search_files', { path: '/demo', pattern: '**/*.md' }],
        ['get_file_info', { path: '/demo/drafts/shared/one.md' }],
        ['get_file_info', { path: '/demo/drafts/shared' }],
        ['get_file_info', { path: '/demo/drafts' }],
        ['list_versions', { path: '/demo/drafts/shared/one.md' }],
        ['read_text_file', { path: '/demo/drafts-x/secret.txt' }],
        ['read_text_file', { path: '/demo/drafts/nothing.md' }],
        ['read_text_file', { path: '/demo/drafts/../x' }],
        ['get_file_info', { path: '/demo/drafts/links/file-out' }],
        ['list_directory', { path: '/demo/outbox' }],
        ['write_file', { path: '/demo/drafts/x.md', content: 'x' }],
      ];
      for (const [name, args] of calls) {
        const [a, b] = await Promise.all([http.call(name, args), stdio.call(name, args)]);
        expect(b, `${name} ${JSON.stringify(args)}`).toEqual(a);
      }
    } finally {
      await http.close();
      await stdio.close();
    }
  });
});
