import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BatonClient, BatonClientError, parseSse, type BatonEvent, type SseFrame } from '../../src/client/index.js';
import { BIN, removeDir, startBaton, type TestBaton } from '../helpers/baton.js';
import { eventually, Receiver } from '../helpers/receiver.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';
import { baton as cli } from './run.js';

let redis: TestRedis;
let server: TestBaton;
let admin: BatonClient;
let receiver: Receiver;
const children: ChildProcess[] = [];

beforeAll(async () => {
  redis = await startRedis();
  server = await startBaton({ redisUrl: redis.url });
  admin = new BatonClient({ url: server.url, key: server.adminToken });
  receiver = await Receiver.start();
});
afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await receiver?.close();
  await server?.stop();
  await redis?.stop();
  if (server) removeDir(server.dataDir);
});

const run = (args: string[]) => cli(args, { url: server.url, key: server.adminToken });

/** A long-running `baton ARGS` (e.g. `tail`) whose output is read while it runs. */
function background(args: string[], url = server.url) {
  const env: NodeJS.ProcessEnv = { ...process.env, BATON_URL: url, BATON_KEY: server.adminToken };
  const proc = spawn(process.execPath, [BIN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(proc);
  let stdout = '';
  let stderr = '';
  proc.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  return {
    proc,
    get stdout() {
      return stdout;
    },
    get stderr() {
      return stderr;
    },
    until: (pred: () => boolean, what: string, ms = 10_000) => eventually(async () => pred(), ms, `${what}\nstdout: ${stdout}\nstderr: ${stderr}`, 50),
    /** Send `signal`; resolves with the exit code (null if it had to be killed after 5 s). */
    async stop(signal: NodeJS.Signals): Promise<number | null> {
      proc.kill(signal);
      const timer = setTimeout(() => proc.kill('SIGKILL'), 5_000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
    exited,
  };
}

async function collect(source: AsyncIterable<SseFrame>): Promise<SseFrame[]> {
  const out: SseFrame[] = [];
  for await (const f of source) out.push(f);
  return out;
}

function bodyOf(chunks: string[]): ReadableStream<Uint8Array> {
  const enc = new TextEncoder();
  return new ReadableStream({
    start(c) {
      for (const ch of chunks) c.enqueue(enc.encode(ch));
      c.close();
    },
  });
}

describe('parseSse', () => {
  it('splits frames on LF, CRLF and CR, even across chunks, and keeps ids, comments out', async () => {
    const frames = await collect(
      parseSse(bodyOf([': hello\n\nevent: ready\nid: c0\ndata: {}\n\nevent: file.created\r', '\nid: c1\r\ndata: {"a":\r', 'data: 1}\r\rdata: x\n\nevent: cut'])),
    );
    expect(frames).toEqual([
      { event: 'ready', data: '{}', id: 'c0' },
      { event: 'file.created', data: '{"a":\n1}', id: 'c1' },
      { event: 'message', data: 'x' },
    ]);
  });
});

describe('baton tail', () => {
  it('follows events as a child process (--json) and exits cleanly on SIGINT', async () => {
    const tail = background(['tail', '/demo/inbox/**', '--json']);
    await tail.until(() => /following \/demo\/inbox\/\*\* from /.test(tail.stderr), 'tail to connect');
    const put = await admin.put('/demo/inbox/tailed.md', '# tailed');
    await admin.put('/demo/events/not-tailed.md', 'other folder');
    await tail.until(() => tail.stdout.includes('/demo/inbox/tailed.md'), 'the event on stdout', 5_000);
    const first = JSON.parse(tail.stdout.split('\n')[0]!) as BatonEvent;
    expect(first).toMatchObject({ event: 'file.created', path: '/demo/inbox/tailed.md', etag: put.etag, version: 1, workspace: 'demo' });
    expect(first.seq).toBeGreaterThan(0);
    expect(first.actor).toBeTruthy();
    expect(await tail.stop('SIGINT')).toBe(0);
    expect(tail.stdout.trim().split('\n')).toHaveLength(1);
    expect(tail.stderr).toMatch(/stopped; resume with --after \S+/);
  });

  it('prints one human line per event and exits cleanly on SIGTERM', async () => {
    const tail = background(['tail', '/demo/drafts/**']);
    await tail.until(() => tail.stderr.includes('following'), 'tail to connect');
    await admin.put('/demo/drafts/human.md', 'x');
    await admin.move('/demo/drafts/human.md', '/demo/drafts/moved.md');
    await tail.until(() => tail.stdout.includes('moved.md'), 'two lines', 5_000);
    const lines = tail.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ  file\.created\s+\/demo\/drafts\/human\.md  \S+  #\d+$/);
    expect(lines[1]).toMatch(/file\.moved\s+\/demo\/drafts\/human\.md -> \/demo\/drafts\/moved\.md  \S+  #\d+$/);
    expect(await tail.stop('SIGTERM')).toBe(0);
  });

  it('--once --after 0 lists past events and exits; its cursor resumes with nothing repeated', async () => {
    await admin.put('/demo/tasks/pending/once-1.md', '1');
    await admin.put('/demo/tasks/pending/once-2.md', '2');
    const all = await run(['tail', '/demo/tasks/**', '--once', '--after', '0', '--json']);
    expect(all.code, all.stderr).toBe(0);
    const events = all.stdout.trim().split('\n').map((l) => JSON.parse(l) as BatonEvent);
    expect(events.map((e) => e.path)).toEqual(['/demo/tasks/pending/once-1.md', '/demo/tasks/pending/once-2.md']);
    expect(events[1]!.seq).toBeGreaterThan(events[0]!.seq);

    const cursor = /resume with --after (\S+)/.exec(all.stderr)?.[1];
    expect(cursor).toBeTruthy();
    const none = await run(['tail', '/demo/tasks/**', '--once', '--after', cursor!, '--json']);
    expect(none.code, none.stderr).toBe(0);
    expect(none.stdout).toBe('');
    await admin.put('/demo/tasks/pending/once-3.md', '3');
    const next = await run(['tail', '/demo/tasks/**', '--once', '--after', cursor!]);
    expect(next.stdout.trim().split('\n')).toHaveLength(1);
    expect(next.stdout).toMatch(/file\.created\s+\/demo\/tasks\/pending\/once-3\.md/);

    // --once without --after starts at the oldest retained event, and sees earlier tests' events too.
    const everything = await run(['tail', '--once', '--json']);
    expect(everything.stdout).toContain('/demo/inbox/tailed.md');
  });

  it('fails with the API error for a bad cursor and with unavailable for an unreachable server', async () => {
    const down = background(['tail'], 'http://127.0.0.1:1');
    const bad = await run(['tail', '--once', '--after', 'garbage']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^baton: bad_request: /);
    expect(await Promise.race([down.exited, new Promise((r) => setTimeout(() => r('hung'), 8_000))])).toBe(1);
    expect(down.stderr).toMatch(/^baton: unavailable: /m);
  });
});

describe('baton subs', () => {
  it('adds, lists, shows deliveries, replays and removes a subscription against a real receiver', async () => {
    const added = await run(['subs', 'add', receiver.url('/cli'), '--path', '/demo/outbox/**', '--event', 'file.created', '--json']);
    expect(added.code, added.stderr).toBe(0);
    const sub = added.json();
    expect(sub).toMatchObject({ url: receiver.url('/cli'), paths: ['/demo/outbox/**'], events: ['file.created'], enabled: true });
    expect(sub.id).toBeTruthy();
    expect(sub.secret).toMatch(/^whsec_/);
    receiver.secret = sub.secret;

    const [listed, table] = await Promise.all([run(['subs', 'list', '--json']), run(['subs', 'list'])]);
    expect(listed.code, listed.stderr).toBe(0);
    const rec = listed.json().subscriptions.find((s: { id: string }) => s.id === sub.id);
    expect(rec).toMatchObject({ url: sub.url, enabled: true });
    expect(listed.stdout).not.toContain(sub.secret);
    expect(table.stdout).toMatch(/^ID\s+STATE\s+CREATED\s+EVENTS\s+PATHS\s+URL/);
    expect(table.stdout).toMatch(new RegExp(`${sub.id}\\s+enabled .*file\\.created\\s+/demo/outbox/\\*\\*\\s+http`));

    const put = await admin.put('/demo/outbox/hooked.md', 'deliver me');
    await receiver.waitFor((r) => r.deliveredFor((p) => p === '/demo/outbox/hooked.md').length === 1, 15_000, 'the delivery');
    const eventId = receiver.deliveredFor((p) => p === '/demo/outbox/hooked.md')[0]!.id;
    expect(receiver.deliveredFor((p) => p === '/demo/outbox/hooked.md')[0]!.body).toMatchObject({ event: 'file.created', etag: put.etag });

    const deliveries = await eventually(
      async () => {
        const r = await run(['subs', 'deliveries', sub.id, '--json']);
        return r.json().deliveries.some((d: { status: string }) => d.status === 'delivered') ? r.json().deliveries : null;
      },
      10_000,
      'a delivered attempt',
    );
    expect(deliveries[0]).toMatchObject({ eventId, attempt: 1, status: 'delivered', responseStatus: 200 });
    const [human, failed, bogus] = await Promise.all([
      run(['subs', 'deliveries', sub.id]),
      run(['subs', 'deliveries', sub.id, '--status', 'failed']),
      run(['subs', 'deliveries', sub.id, '--status', 'bogus']),
    ]);
    expect(human.stdout).toMatch(/^AT\s+EVENT\s+ATTEMPT\s+STATUS\s+HTTP\s+NEXT/);
    expect(human.stdout).toMatch(new RegExp(`${eventId}\\s+1\\s+delivered\\s+200`));
    expect(failed.stdout.trim()).toBe('no deliveries');
    expect(bogus.code).toBe(2);

    const replayed = await run(['subs', 'replay', sub.id, '--event-id', eventId, '--json']);
    expect(replayed.code, replayed.stderr).toBe(0);
    expect(replayed.json()).toEqual({ replayed: 1, eventIds: [eventId], alreadyQueued: [] });
    await receiver.waitFor((r) => r.delivered.filter((x) => x.id === eventId).length === 2, 15_000, 'the replayed delivery');
    const [since, neither] = await Promise.all([run(['subs', 'replay', sub.id, '--since', '0']), run(['subs', 'replay', sub.id])]);
    expect(since.code, since.stderr).toBe(0);
    expect(since.stdout).toMatch(new RegExp(`^replayed 1 event: ${eventId}`));
    expect(neither.code).toBe(2);

    const removed = await run(['subs', 'rm', sub.id]);
    expect(removed.code, removed.stderr).toBe(0);
    expect(removed.stdout.trim()).toBe(`removed ${sub.id}`);
    const again = await run(['subs', 'rm', sub.id]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/^baton: not_found: /);
  });

  it('shows the secret once in the human form and refuses bad input as usage errors', async () => {
    const [added, noPath, badType] = await Promise.all([
      run(['subs', 'add', receiver.url('/human'), '--path', '/demo/events/**']),
      run(['subs', 'add', receiver.url()]),
      run(['subs', 'add', receiver.url(), '--path', '/demo/**', '--event', 'file.exploded']),
    ]);
    expect(added.code, added.stderr).toBe(0);
    expect(added.stdout).toMatch(/^secret\s+whsec_/m);
    expect(added.stdout).toMatch(/^events\s+all$/m);
    expect(added.stderr).toContain('not shown again');
    const id = /^id\s+(\S+)/m.exec(added.stdout)![1]!;
    expect((await run(['subs', 'rm', id])).code).toBe(0);

    expect(noPath.code).toBe(2);
    expect(badType.code).toBe(2);
  });
});

describe('client.events', () => {
  it('reads pages and a backlog, and the client exposes subscriptions', async () => {
    const start = await admin.events.read({ path: '/demo/events/read/**' });
    expect(start.events).toEqual([]);
    await admin.put('/demo/events/read/a.md', 'a');
    const page = await admin.events.read({ path: '/demo/events/read/**', after: start.cursor, wait: 5 });
    expect(page.events.map((e) => e.path)).toEqual(['/demo/events/read/a.md']);
    const backlog = admin.events.readAll({ path: '/demo/events/read/**', after: 0 });
    const seen: string[] = [];
    for await (const e of backlog) seen.push(e.path);
    expect(seen).toEqual(['/demo/events/read/a.md']);
    expect((await admin.events.read({ path: '/demo/events/read/**', after: backlog.cursor! })).events).toEqual([]);

    const sub = await admin.subscriptions.create({ url: receiver.url('/client'), paths: ['/demo/events/none/**'] });
    expect(await admin.subscriptions.get(sub.id)).toMatchObject({ id: sub.id, events: null, enabled: true });
    expect((await admin.subscriptions.deliveries(sub.id, { status: 'dead' })).deliveries).toEqual([]);
    expect(await admin.subscriptions.replay(sub.id, { since: 0 })).toEqual({ replayed: 0, eventIds: [], alreadyQueued: [] });
    expect(await admin.subscriptions.remove(sub.id)).toEqual({ id: sub.id, deleted: true });
    const gone = await admin.subscriptions.get(sub.id).catch((e: unknown) => e);
    expect(gone).toBeInstanceOf(BatonClientError);
    expect((gone as BatonClientError).code).toBe('not_found');
  });

  it('stream() resumes from its cursor without loss or repetition', async () => {
    const glob = '/demo/events/resume/**';
    const { cursor: start } = await admin.events.read({ path: glob });
    for (const n of [1, 2, 3]) await admin.put(`/demo/events/resume/${n}.md`, String(n));

    const first = admin.events.stream({ path: glob, after: start });
    const got: string[] = [];
    for await (const e of first) {
      got.push(e.path);
      if (got.length === 2) break;
    }
    expect(first.cursor).toBeTruthy();
    await admin.put('/demo/events/resume/4.md', '4');

    const ac = new AbortController();
    const second = admin.events.stream({ path: glob, after: first.cursor!, signal: ac.signal });
    for await (const e of second) {
      got.push(e.path);
      if (got.length === 4) ac.abort();
    }
    expect(got).toEqual([1, 2, 3, 4].map((n) => `/demo/events/resume/${n}.md`));
  });

  it('stream() reconnects with Last-Event-ID after a cut connection, and follow() hands out cursors', async () => {
    const glob = '/demo/events/cut/**';
    const requests: Array<Record<string, string>> = [];
    // The first stream's body breaks after the ready frame and one event: a dropped connection.
    const cutting: typeof fetch = async (input, init) => {
      const res = await fetch(input, init);
      if (!String(input).includes('/v1/events/stream')) return res;
      requests.push({ ...(init?.headers as Record<string, string>) });
      if (requests.length > 1) return res;
      const reader = res.body!.getReader();
      const dec = new TextDecoder();
      const enc = new TextEncoder();
      let text = '';
      const body = new ReadableStream<Uint8Array>({
        async pull(c) {
          for (;;) {
            const { value, done } = await reader.read();
            if (done) return c.close();
            text += dec.decode(value, { stream: true });
            const second = text.indexOf('\n\n', text.indexOf('\n\n') + 2);
            if (second < 0) continue;
            c.enqueue(enc.encode(text.slice(0, second + 2)));
            await reader.cancel();
            return c.error(new TypeError('terminated'));
          }
        },
      });
      return new Response(body, { status: res.status, headers: res.headers });
    };
    const client = new BatonClient({ url: server.url, key: server.adminToken, fetch: cutting });
    const { cursor: start } = await client.events.read({ path: glob });
    for (const n of [1, 2, 3, 4]) await admin.put(`/demo/events/cut/${n}.md`, String(n));

    const ac = new AbortController();
    const got: Array<{ path: string; cursor: string }> = [];
    let reconnects = 0;
    const end = await client.events.follow(
      (e, cursor) => {
        got.push({ path: e.path, cursor });
        if (got.length === 4) ac.abort();
      },
      { path: glob, after: start, signal: ac.signal, retryDelayMs: 50, onReconnect: () => reconnects++ },
    );
    expect(got.map((g) => g.path)).toEqual([1, 2, 3, 4].map((n) => `/demo/events/cut/${n}.md`));
    expect(reconnects).toBeGreaterThanOrEqual(1);
    expect(requests.length).toBeGreaterThanOrEqual(2);
    expect(requests[0]!['last-event-id']).toBeUndefined();
    expect(requests[1]!['last-event-id']).toBeTruthy();
    expect(end).toBe(got[3]!.cursor);
    expect(new Set(got.map((g) => g.cursor)).size).toBe(4);
    expect((await client.events.read({ path: glob, after: end! })).events).toEqual([]);
  });
});
