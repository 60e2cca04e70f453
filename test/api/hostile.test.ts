import { existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditEntries, lastAuditSeq } from '../helpers/audit.js';
import { removeDir, startBaton, type TestBaton } from '../helpers/baton.js';
import { client, createKey, type Reply } from '../helpers/http.js';
import { rawRequest, snapshotTree, type TreeEntry } from '../helpers/raw.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';
import { tempDir } from '../helpers/temp.js';

/*
 * Layout:  <parent>/canary/...          secrets outside every workspace
 *          <parent>/data/                Baton's data dir
 *          <parent>/data/demo/           the demo workspace root
 *          <parent>/data/demo-evil/      a sibling whose name extends the root's
 */
let parent: string;
let dataDir: string;
let canary: string;
let redis: TestRedis;
let baton: TestBaton;
let admin: ReturnType<typeof client>;
let readerKey: string;
let before: Record<string, TreeEntry>;
let lastSeq = 0;

const SECRET = 'CANARY-SECRET-DO-NOT-LEAK';
const inbox = () => join(dataDir, 'demo', 'inbox');

/** Baton's own metadata legitimately changes (audit, temp files); everything else must not. */
const skipMeta = (rel: string) => rel === 'data/.baton' || rel === 'data/demo/.baton';

/** Directory mtimes inside the data dir move with legitimate reads (atime no, but temp dirs); compare content. */
function comparable(t: Record<string, TreeEntry>) {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(t)) out[k] = v.type === 'dir' && k.startsWith('data/') ? { type: 'dir' } : v;
  return out;
}

beforeAll(async () => {
  parent = tempDir('baton-hostile-');
  dataDir = join(parent, 'data');
  canary = join(parent, 'canary');
  mkdirSync(join(canary, 'sub'), { recursive: true });
  writeFileSync(join(canary, 'secret.txt'), SECRET);
  writeFileSync(join(canary, 'sub', 'inner.txt'), SECRET + ' inner');
  mkdirSync(join(dataDir, 'demo-evil'), { recursive: true });
  writeFileSync(join(dataDir, 'demo-evil', 'secret.txt'), SECRET + ' sibling');

  redis = await startRedis();
  baton = await startBaton({ redisUrl: redis.url, dataDir });
  admin = client(baton.url, baton.adminToken);
  readerKey = (await createKey(baton.url, baton.adminToken, { agent: 'reader', grants: ['read:/demo/drafts/**', 'write:/demo/drafts/**'] })).key;

  expect((await admin.put('/demo/inbox/ok.txt', 'ok bytes')).status).toBe(201);
  expect((await admin.put('/demo/outbox/r.txt', 'outbox bytes')).status).toBe(201);
  expect((await admin.put('/demo/drafts/d.txt', 'draft bytes')).status).toBe(201);

  // symlinks planted inside the workspace root by some other tool
  symlinkSync(join(canary, 'secret.txt'), join(inbox(), 'linkfile'));
  symlinkSync(canary, join(inbox(), 'linkdir'));
  symlinkSync('../../../canary/secret.txt', join(inbox(), 'linkrel'));
  symlinkSync('../../demo-evil/secret.txt', join(inbox(), 'linksib'));
  symlinkSync('../../demo-evil', join(inbox(), 'linksibdir'));
  symlinkSync('../.baton', join(inbox(), 'linkmeta'));
  symlinkSync('../../.baton', join(inbox(), 'linksys'));
  symlinkSync('/etc/passwd', join(inbox(), 'linketc'));
  symlinkSync(canary, join(dataDir, 'demo', 'linkedfolder'));

  before = snapshotTree(parent, skipMeta);
  lastSeq = await lastAuditSeq(baton.url, baton.adminToken);
});

afterAll(async () => {
  await baton?.stop();
  await redis?.stop();
  if (baton) removeDir(baton.workspacesDir);
  if (parent) rmSync(parent, { recursive: true, force: true });
});

interface Case {
  name: string;
  method?: string;
  target: string;
  body?: string;
  json?: unknown;
  codes?: string[];
  token?: 'admin' | 'reader';
}

const long = (n: number) => 'a'.repeat(n);
const J = (from: string, to: string, extra: object = {}) => ({ from, to, ...extra });

const cases: Case[] = [
  // dot segments, raw and encoded
  { name: 'raw ..', target: '/v1/files/demo/../../canary/secret.txt' },
  { name: 'raw .. deep', target: '/v1/files/demo/inbox/../../../canary/secret.txt' },
  { name: 'leading ..', target: '/v1/files/../canary/secret.txt' },
  { name: '%2e%2e', target: '/v1/files/demo/%2e%2e/%2e%2e/canary/secret.txt' },
  { name: '%2E%2E', target: '/v1/files/demo/%2E%2E/%2E%2E/canary/secret.txt' },
  { name: '.%2e', target: '/v1/files/demo/.%2e/.%2e/canary/secret.txt' },
  { name: '%2e.', target: '/v1/files/demo/%2e./x' },
  { name: 'workspace %2e%2e', target: '/v1/files/%2e%2e/canary/secret.txt' },
  { name: 'double-encoded %252e%252e', target: '/v1/files/demo/%252e%252e/%252e%252e/canary/secret.txt' },
  { name: 'double-encoded %252E', target: '/v1/files/demo/inbox/%252E%252E' },
  { name: 'double-encoded %252f', target: '/v1/files/demo/inbox%252f..%252fsecret' },
  { name: '%2f smuggles .. inside a segment', target: '/v1/files/demo/inbox%2f..%2f..%2f..%2fcanary%2fsecret.txt' },
  { name: '%2F smuggles %2e%2e inside a segment', target: '/v1/files/demo%2F%2e%2e%2F%2e%2e%2Fcanary%2Fsecret.txt' },
  { name: '%5c inside a segment', target: '/v1/files/demo/inbox/a%5cb.txt' },
  { name: '%5C traversal', target: '/v1/files/demo/inbox/..%5C..%5C..%5Ccanary%5Csecret.txt' },
  { name: 'raw backslash', target: '/v1/files/demo/inbox/a\\b.txt' },
  { name: 'raw backslash traversal', target: '/v1/files/demo/inbox/..\\..\\..\\canary\\secret.txt' },
  { name: '. segment', target: '/v1/files/demo/./inbox/ok.txt' },
  { name: 'trailing .', target: '/v1/files/demo/inbox/.' },
  { name: 'trailing ..', target: '/v1/files/demo/inbox/..' },
  { name: 'dots reaching a public route', target: '/v1/files/demo/../../../healthz' },
  // NUL, control characters, invalid UTF-8
  { name: '%00', target: '/v1/files/demo/inbox/%00' },
  { name: '%00 mid-name', target: '/v1/files/demo/inbox/ok.txt%00.png' },
  { name: '%01', target: '/v1/files/demo/inbox/a%01b' },
  { name: '%7f', target: '/v1/files/demo/inbox/a%7fb' },
  { name: '%0a newline', target: '/v1/files/demo/inbox/a%0ab' },
  { name: '%1b escape', target: '/v1/files/demo/inbox/%1b%5b31m' },
  { name: 'invalid UTF-8 %ff', target: '/v1/files/demo/inbox/%ff' },
  { name: 'invalid UTF-8 %c3%28', target: '/v1/files/demo/inbox/%c3%28' },
  { name: 'truncated UTF-8 %e2%82', target: '/v1/files/demo/inbox/%e2%82' },
  { name: 'lone %', target: '/v1/files/demo/inbox/100%' },
  // absolute-looking and empty segments
  { name: '//etc/passwd', target: '/v1/files//etc/passwd' },
  { name: 'encoded /etc/passwd', target: '/v1/files/%2Fetc%2Fpasswd' },
  { name: 'a//b', target: '/v1/files/demo//inbox/ok.txt' },
  { name: 'a//b deep', target: '/v1/files/demo/inbox//ok.txt' },
  // lengths
  { name: 'path > 1024 bytes', target: `/v1/files/demo/${(long(99) + '/').repeat(11)}x` },
  { name: 'segment > 255 bytes', target: `/v1/files/demo/inbox/${long(256)}` },
  { name: 'segment > 255 bytes (multibyte)', target: `/v1/files/demo/inbox/${'%C3%A9'.repeat(128)}` },
  // reserved names
  { name: '.baton at the workspace root', target: '/v1/files/demo/.baton/history' },
  { name: '.baton exactly', target: '/v1/files/demo/.baton' },
  { name: '.baton-anything', target: '/v1/files/demo/inbox/.baton-anything' },
  { name: '.batonx deep', target: '/v1/files/demo/inbox/a/b/.batonx/c' },
  { name: '.baton as workspace', target: '/v1/files/.baton/admin-token' },
  { name: 'encoded .baton', target: '/v1/files/demo/%2ebaton/history' },
  // unknown workspace
  { name: 'unknown workspace', target: '/v1/files/no-such-ws/x.txt', codes: ['not_found'] },
  // other methods and routes
  { name: 'PUT with ..', method: 'PUT', target: '/v1/files/demo/../../canary/evil.txt', body: 'evil' },
  { name: 'PUT with %2e%2e', method: 'PUT', target: '/v1/files/demo/inbox/%2e%2e/%2e%2e/%2e%2e/canary/evil.txt', body: 'evil' },
  { name: 'PUT into .baton', method: 'PUT', target: '/v1/files/demo/.baton/history/evil', body: 'evil' },
  { name: 'PUT with %5c', method: 'PUT', target: '/v1/files/demo/inbox/..%5c..%5cevil.txt', body: 'evil' },
  { name: 'DELETE with ..', method: 'DELETE', target: '/v1/files/demo/../../canary/secret.txt' },
  { name: 'DELETE .baton', method: 'DELETE', target: '/v1/files/demo/.baton' },
  { name: 'list ..', target: '/v1/list/demo/../..' },
  { name: 'list %2e%2e', target: '/v1/list/%2e%2e' },
  { name: 'list .baton', target: '/v1/list/demo/.baton' },
  { name: 'list //', target: '/v1/list//etc' },
  { name: 'versions ..', target: '/v1/versions/demo/../../canary/secret.txt' },
  { name: 'versions .baton', target: '/v1/versions/demo/.baton/x' },
  // search root
  { name: 'search root ..', target: '/v1/search?root=/demo/../..&glob=**' },
  { name: 'search root %2e%2e', target: '/v1/search?root=/demo/%2e%2e&glob=**' },
  { name: 'search root %252e%252e', target: '/v1/search?root=/demo/%252e%252e&glob=**' },
  { name: 'search root relative', target: '/v1/search?root=demo&glob=**' },
  { name: 'search root .baton', target: '/v1/search?root=/demo/.baton&glob=**' },
  { name: 'search root backslash', target: '/v1/search?root=/demo%5c..%5c..&glob=**' },
  { name: 'search root NUL', target: '/v1/search?root=/demo/%00&glob=**' },
  { name: 'search root //', target: '/v1/search?root=//etc&glob=**' },
  // JSON bodies
  { name: 'move to ..', method: 'POST', target: '/v1/move', json: J('/demo/inbox/ok.txt', '/demo/../../canary/moved.txt') },
  { name: 'move from ..', method: 'POST', target: '/v1/move', json: J('/demo/../../canary/secret.txt', '/demo/inbox/stolen.txt') },
  { name: 'move to %2e%2e', method: 'POST', target: '/v1/move', json: J('/demo/inbox/ok.txt', '/demo/inbox/%2e%2e/%2e%2e/x') },
  { name: 'move to backslash', method: 'POST', target: '/v1/move', json: J('/demo/inbox/ok.txt', '/demo/inbox/..\\..\\x') },
  { name: 'move to relative', method: 'POST', target: '/v1/move', json: J('/demo/inbox/ok.txt', 'demo/inbox/x') },
  { name: 'move to NUL', method: 'POST', target: '/v1/move', json: J('/demo/inbox/ok.txt', '/demo/inbox/x\u0000.txt') },
  { name: 'move to control char', method: 'POST', target: '/v1/move', json: J('/demo/inbox/ok.txt', '/demo/inbox/x\u0007.txt') },
  { name: 'move to .baton', method: 'POST', target: '/v1/move', json: J('/demo/inbox/ok.txt', '/demo/.baton/history/x') },
  { name: 'move from .baton', method: 'POST', target: '/v1/move', json: J('/demo/.baton/tmp', '/demo/inbox/meta') },
  { name: 'move to //', method: 'POST', target: '/v1/move', json: J('/demo/inbox/ok.txt', '//etc/x') },
  { name: 'move to empty segment', method: 'POST', target: '/v1/move', json: J('/demo/inbox/ok.txt', '/demo//x') },
  { name: 'move to long segment', method: 'POST', target: '/v1/move', json: J('/demo/inbox/ok.txt', `/demo/inbox/${long(300)}`) },
  { name: 'move to long path', method: 'POST', target: '/v1/move', json: J('/demo/inbox/ok.txt', `/demo/${(long(200) + '/').repeat(6)}x`) },
  { name: 'move to empty', method: 'POST', target: '/v1/move', json: J('/demo/inbox/ok.txt', '') },
  { name: 'restore ..', method: 'POST', target: '/v1/restore', json: { path: '/demo/../../canary/secret.txt', version: 1 } },
  { name: 'restore %2e%2e', method: 'POST', target: '/v1/restore', json: { path: '/demo/inbox/%2e%2e', version: 1 } },
  { name: 'restore .baton', method: 'POST', target: '/v1/restore', json: { path: '/demo/.baton/history', version: 1 } },
  { name: 'restore backslash', method: 'POST', target: '/v1/restore', json: { path: '\\demo\\inbox\\ok.txt', version: 1 } },
  // symlinks inside the root that point outside it
  { name: 'GET symlinked file', target: '/v1/files/demo/inbox/linkfile', codes: ['invalid_path', 'forbidden', 'not_found'] },
  { name: 'GET relative symlink', target: '/v1/files/demo/inbox/linkrel', codes: ['invalid_path', 'forbidden', 'not_found'] },
  { name: 'GET through symlinked folder', target: '/v1/files/demo/inbox/linkdir/secret.txt', codes: ['invalid_path', 'forbidden', 'not_found'] },
  { name: 'GET through top-level symlinked folder', target: '/v1/files/demo/linkedfolder/sub/inner.txt', codes: ['invalid_path', 'forbidden', 'not_found'] },
  { name: 'GET symlink to /etc/passwd', target: '/v1/files/demo/inbox/linketc', codes: ['invalid_path', 'forbidden', 'not_found'] },
  { name: 'GET sibling-prefix symlink', target: '/v1/files/demo/inbox/linksib', codes: ['invalid_path', 'forbidden', 'not_found'] },
  { name: 'GET through sibling-prefix folder link', target: '/v1/files/demo/inbox/linksibdir/secret.txt', codes: ['invalid_path', 'forbidden', 'not_found'] },
  { name: 'GET through link to workspace metadata', target: '/v1/files/demo/inbox/linkmeta/history', codes: ['invalid_path', 'forbidden', 'not_found'] },
  { name: 'list link to system dir', target: '/v1/list/demo/inbox/linksys', codes: ['invalid_path', 'forbidden', 'not_found'] },
  { name: 'HEAD-ish versions of symlink', target: '/v1/versions/demo/inbox/linkfile', codes: ['invalid_path', 'forbidden', 'not_found'] },
  { name: 'PUT through symlinked file', method: 'PUT', target: '/v1/files/demo/inbox/linkfile', body: 'overwritten', codes: ['invalid_path', 'forbidden'] },
  { name: 'PUT through symlinked folder', method: 'PUT', target: '/v1/files/demo/inbox/linkdir/planted.txt', body: 'planted', codes: ['invalid_path', 'forbidden'] },
  { name: 'PUT through sibling folder link', method: 'PUT', target: '/v1/files/demo/inbox/linksibdir/planted.txt', body: 'planted', codes: ['invalid_path', 'forbidden'] },
  { name: 'PUT through link into metadata', method: 'PUT', target: '/v1/files/demo/inbox/linkmeta/planted', body: 'planted', codes: ['invalid_path', 'forbidden'] },
  { name: 'DELETE symlinked file', method: 'DELETE', target: '/v1/files/demo/inbox/linkfile', codes: ['invalid_path', 'forbidden', 'not_found'] },
  { name: 'DELETE through symlinked folder', method: 'DELETE', target: '/v1/files/demo/inbox/linkdir/secret.txt', codes: ['invalid_path', 'forbidden', 'not_found'] },
  { name: 'list symlinked folder', target: '/v1/list/demo/inbox/linkdir', codes: ['invalid_path', 'forbidden', 'not_found'] },
  { name: 'search under symlinked folder', target: '/v1/search?root=/demo/inbox/linkdir&glob=**', codes: ['invalid_path', 'forbidden', 'not_found'] },
  { name: 'move symlinked file out', method: 'POST', target: '/v1/move', json: J('/demo/inbox/linkfile', '/demo/inbox/stolen.txt'), codes: ['invalid_path', 'forbidden', 'not_found'] },
  { name: 'move a file into symlinked folder', method: 'POST', target: '/v1/move', json: J('/demo/inbox/ok.txt', '/demo/inbox/linkdir/moved.txt'), codes: ['invalid_path', 'forbidden'] },
  { name: 'move from through symlinked folder', method: 'POST', target: '/v1/move', json: J('/demo/inbox/linkdir/secret.txt', '/demo/inbox/stolen2.txt'), codes: ['invalid_path', 'forbidden', 'not_found'] },
  { name: 'restore symlinked file', method: 'POST', target: '/v1/restore', json: { path: '/demo/inbox/linkfile', version: 1 }, codes: ['invalid_path', 'forbidden', 'not_found'] },
  // a restricted key: traversal must not turn into a read of another folder
  { name: 'key: .. out of its folder', token: 'reader', target: '/v1/files/demo/drafts/../outbox/r.txt' },
  { name: 'key: %2e%2e out of its folder', token: 'reader', target: '/v1/files/demo/drafts/%2e%2e/outbox/r.txt' },
  { name: 'key: %2f.. out of its folder', token: 'reader', target: '/v1/files/demo/drafts%2f..%2foutbox%2fr.txt' },
  { name: 'key: sibling-prefix folder', token: 'reader', target: '/v1/files/demo/drafts-x/r.txt', codes: ['forbidden'] },
  { name: 'key: move via ..', token: 'reader', method: 'POST', target: '/v1/move', json: J('/demo/drafts/d.txt', '/demo/drafts/../outbox/d.txt') },
];

describe('hostile paths', () => {
  it('has at least 40 cases', () => {
    expect(cases.length).toBeGreaterThanOrEqual(40);
  });

  for (const c of cases) {
    it(`${c.name}: ${c.method ?? 'GET'} ${c.target.length > 90 ? c.target.slice(0, 90) + '…' : c.target}`, async () => {
      const token = c.token === 'reader' ? readerKey : baton.adminToken;
      const headers: Record<string, string> = {};
      let body = c.body;
      if (c.json !== undefined) {
        body = JSON.stringify(c.json);
        headers['content-type'] = 'application/json';
      }
      const r = await rawRequest(baton.url, c.target, { method: c.method ?? 'GET', token, headers, body });
      expect(r.status, r.text).toBeGreaterThanOrEqual(400);
      expect(r.status, r.text).toBeLessThan(500);
      expect(r.headers.get('content-type') ?? '', `no JSON error body: ${r.status} ${JSON.stringify(r.text)}`).toMatch(/application\/json/);
      const codes = c.codes ?? ['invalid_path'];
      expect(codes, r.text).toContain(r.json?.error?.code);
      expect(typeof r.json?.error?.message).toBe('string');
      expect(r.text).not.toContain('CANARY');

      // exactly one audit entry for it: denied, with the same code
      const fresh = await auditEntries(baton.url, baton.adminToken, {}, { after: lastSeq });
      lastSeq = Math.max(lastSeq, ...fresh.map((e) => e.seq));
      const mine = fresh.filter((e) => e.action !== 'audit.read');
      expect(mine.length, JSON.stringify(mine)).toBe(1);
      expect(mine[0]).toMatchObject({ outcome: 'denied', code: r.json?.error?.code });
    });
  }
});

describe('symlinks pointing outside are not listed or searched', () => {
  it('a listing of the folder holding them does not show them', async () => {
    const r = await admin.list('/demo/inbox');
    expect(r.status).toBe(200);
    const paths = (r.json.entries as any[]).map((e) => e.path as string);
    expect(paths).toContain('/demo/inbox/ok.txt');
    for (const p of paths) expect(p, 'an outside-pointing symlink is listed').not.toMatch(/\/link/);
  });

  it('a recursive listing never descends through them', async () => {
    const r = await admin.list('/demo', '?recursive=1&limit=1000');
    expect(r.status).toBe(200);
    const paths = (r.json.entries as any[]).map((e) => e.path as string);
    expect(paths.some((p) => /secret|inner\.txt|\/link/.test(p))).toBe(false);
    expect(r.text).not.toContain('CANARY');
  });

  it('search by name and by content finds nothing behind them', async () => {
    const byText = await admin.call('GET', '/v1/search?root=/demo&q=CANARY');
    expect(byText.status).toBe(200);
    expect(byText.json.results).toEqual([]);
    const byName = await admin.call('GET', `/v1/search?root=/demo&glob=${encodeURIComponent('**/secret.txt')}`);
    expect(byName.status).toBe(200);
    expect(byName.json.results).toEqual([]);
    const root = await admin.call('GET', '/v1/search?root=/&glob=**');
    expect(root.status).toBe(200);
    expect((root.json.results as any[]).some((x) => /secret|inner|\/link|\.baton/.test(x.path))).toBe(false);
  });

  it('a glob with .. segments cannot widen a search beyond its root', async () => {
    const r = await admin.call('GET', `/v1/search?root=/demo/inbox&glob=${encodeURIComponent('../../**')}`);
    if (r.status === 200) {
      for (const x of r.json.results as any[]) expect(x.path.startsWith('/demo/inbox/'), x.path).toBe(true);
    } else {
      expect(r.status).toBe(400);
      expect(r.json.error.code).toMatch(/bad_request|invalid_path/);
    }
    expect(r.text).not.toContain('CANARY');
  });
});

describe('path normalization that is allowed', () => {
  it('NFD and NFC spellings name the same file', async () => {
    const put = await rawRequest(baton.url, '/v1/files/demo/drafts/cafe%CC%81.txt', { method: 'PUT', token: baton.adminToken, body: 'nfc' });
    expect(put.status).toBe(201);
    expect(put.json.path).toBe('/demo/drafts/caf\u00e9.txt');
    const get = await rawRequest(baton.url, '/v1/files/demo/drafts/caf%C3%A9.txt', { token: baton.adminToken });
    expect(get.status).toBe(200);
    expect(get.text).toBe('nfc');
  });

  it('a 255-byte segment and a 1024-byte path are accepted; one byte more is not', async () => {
    const seg = long(255);
    expect((await admin.put(`/demo/drafts/${seg}`, 'x')).status).toBe(201);
    const prefix = '/demo/drafts/';
    const segs = [long(200), long(200), long(200), long(200)];
    const lastLen = 1024 - prefix.length - segs.join('/').length - 1;
    const p1024 = `${prefix}${segs.join('/')}/${long(lastLen)}`;
    expect(Buffer.byteLength(p1024)).toBe(1024);
    expect((await admin.put(p1024, 'x')).status).toBe(201);
    const p1025 = `${prefix}${segs.join('/')}/${long(lastLen + 1)}`;
    const r = await admin.put(p1025, 'x');
    expect(r.status).toBe(400);
    expect(r.json.error.code).toBe('invalid_path');
  });
});

describe('malformed requests', () => {
  it('malformed JSON on POST /v1/move and /v1/restore is bad_request', async () => {
    for (const [target, body] of [
      ['/v1/move', '{"from": "/demo/inbox/ok.txt", "to":'],
      ['/v1/move', 'not json at all'],
      ['/v1/move', '[]'],
      ['/v1/move', 'null'],
      ['/v1/restore', '{path:/demo/inbox/ok.txt}'],
    ] as const) {
      const r = await rawRequest(baton.url, target, { method: 'POST', token: baton.adminToken, body, headers: { 'content-type': 'application/json' } });
      expect(r.status, `${target} ${body}`).toBe(400);
      expect(r.json.error.code).toBe('bad_request');
    }
    expect(readFileSync(join(inbox(), 'ok.txt'), 'utf8')).toBe('ok bytes');
  });

  it('invalid UTF-8 in a JSON body is bad_request, and the file keeps its name', async () => {
    const body = Buffer.concat([Buffer.from('{"from":"/demo/inbox/ok.txt","to":"/demo/inbox/'), Buffer.from([0xff, 0xfe]), Buffer.from('x"}')]);
    const r = await rawRequest(baton.url, '/v1/move', { method: 'POST', token: baton.adminToken, body, headers: { 'content-type': 'application/json' } });
    expect(r.status).toBe(400);
    expect(r.json.error.code).toBe('bad_request');
    expect(r.json.error.message).toMatch(/UTF-8/);
    expect(readFileSync(join(inbox(), 'ok.txt'), 'utf8')).toBe('ok bytes');
  });

  it('an event cursor with a position beyond any sequence is bad_request, in reads and replays', async () => {
    const huge = Buffer.from(JSON.stringify({ demo: 1e308 })).toString('base64url');
    const read = await rawRequest(baton.url, `/v1/events?after=${huge}`, { token: baton.adminToken });
    expect(read.status).toBe(400);
    expect(read.json.error.code).toBe('bad_request');
    const sub = await rawRequest(baton.url, '/v1/subscriptions', {
      method: 'POST',
      token: baton.adminToken,
      body: JSON.stringify({ url: 'http://127.0.0.1:9/hook', paths: ['/demo/inbox/**'] }),
      headers: { 'content-type': 'application/json' },
    });
    expect(sub.status).toBe(201);
    const replay = await rawRequest(baton.url, `/v1/subscriptions/${sub.json.id}/replay`, {
      method: 'POST',
      token: baton.adminToken,
      body: JSON.stringify({ since: huge }),
      headers: { 'content-type': 'application/json' },
    });
    expect(replay.status).toBe(400);
    expect(replay.json.error.code).toBe('bad_request');
    await rawRequest(baton.url, `/v1/subscriptions/${sub.json.id}`, { method: 'DELETE', token: baton.adminToken });
  });

  it('an unknown route is a JSON not_found', async () => {
    const r = await rawRequest(baton.url, '/v1/nothing-here', { token: baton.adminToken });
    expect(r.status).toBe(404);
    expect(r.json.error.code).toBe('not_found');
  });
});

describe('nothing changed outside the workspace', () => {
  it('the canary, the sibling folder and the data dir are exactly as before', () => {
    expect(readFileSync(join(canary, 'secret.txt'), 'utf8')).toBe(SECRET);
    expect(existsSync(join(canary, 'evil.txt'))).toBe(false);
    expect(existsSync(join(canary, 'moved.txt'))).toBe(false);
    expect(existsSync(join(canary, 'planted.txt'))).toBe(false);
    expect(existsSync(join(dataDir, 'demo-evil', 'planted.txt'))).toBe(false);
    expect(existsSync(join(dataDir, 'evil.txt'))).toBe(false);
    expect(existsSync(join(parent, 'evil.txt'))).toBe(false);
    // the files the hostile moves named as sources are still in place
    expect(readFileSync(join(inbox(), 'ok.txt'), 'utf8')).toBe('ok bytes');
    expect(readFileSync(join(dataDir, 'demo/drafts/d.txt'), 'utf8')).toBe('draft bytes');
    const after = snapshotTree(parent, (rel) => skipMeta(rel) || rel.startsWith('data/demo/drafts/'));
    const beforeNoDrafts = Object.fromEntries(Object.entries(before).filter(([k]) => !k.startsWith('data/demo/drafts/')));
    expect(comparable(after)).toEqual(comparable(beforeNoDrafts));
  });
});

describe('oversized bodies (BATON_MAX_BODY_BYTES=1024)', () => {
  let redis2: TestRedis;
  let small: TestBaton;
  let api: ReturnType<typeof client>;
  const big = 'z'.repeat(4096);

  beforeAll(async () => {
    redis2 = await startRedis();
    small = await startBaton({ redisUrl: redis2.url, env: { BATON_MAX_BODY_BYTES: '1024' } });
    api = client(small.url, small.adminToken);
  });
  afterAll(async () => {
    await small?.stop();
    await redis2?.stop();
    if (small) {
      removeDir(small.dataDir);
      removeDir(small.workspacesDir);
    }
  });

  const tooLarge = (r: Reply) => {
    expect(r.status, r.text).toBe(413);
    expect(r.json?.error?.code).toBe('payload_too_large');
  };

  it('a body of exactly the limit is accepted', async () => {
    expect((await api.put('/demo/inbox/limit.bin', 'y'.repeat(1024))).status).toBe(201);
  });

  it('4096 bytes with Content-Length is 413 and nothing is created', async () => {
    tooLarge(await rawRequest(small.url, '/v1/files/demo/inbox/big-cl.bin', { method: 'PUT', token: small.adminToken, body: big }));
    expect((await api.get('/demo/inbox/big-cl.bin')).status).toBe(404);
    expect(existsSync(join(small.dataDir, 'demo/inbox/big-cl.bin'))).toBe(false);
  });

  it('4096 bytes chunked (no Content-Length) is 413 and nothing is created', async () => {
    tooLarge(await rawRequest(small.url, '/v1/files/demo/inbox/big-chunked.bin', { method: 'PUT', token: small.adminToken, body: big, chunked: 512 }));
    expect((await api.get('/demo/inbox/big-chunked.bin')).status).toBe(404);
    expect(existsSync(join(small.dataDir, 'demo/inbox/big-chunked.bin'))).toBe(false);
  });

  it('an oversized overwrite leaves the existing file unchanged', async () => {
    const orig = await api.put('/demo/inbox/keep.txt', 'original content');
    expect(orig.status).toBe(201);
    tooLarge(await rawRequest(small.url, '/v1/files/demo/inbox/keep.txt', { method: 'PUT', token: small.adminToken, body: big }));
    tooLarge(await rawRequest(small.url, '/v1/files/demo/inbox/keep.txt', { method: 'PUT', token: small.adminToken, body: big, chunked: 256 }));
    const g = await api.get('/demo/inbox/keep.txt');
    expect(g.text).toBe('original content');
    expect(g.headers.get('etag')).toBe(`"${orig.json.etag}"`);
    expect(readFileSync(join(small.dataDir, 'demo/inbox/keep.txt'), 'utf8')).toBe('original content');
    const vs = await api.call('GET', '/v1/versions/demo/inbox/keep.txt');
    expect(vs.json.versions.length).toBe(1);
  });

  it('each refusal is audited as payload_too_large', async () => {
    const entries = await auditEntries(small.url, small.adminToken);
    const refused = entries.filter((e) => e.outcome === 'denied' && e.code === 'payload_too_large');
    expect(refused.length).toBeGreaterThanOrEqual(4);
  });
});
