import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, readFileSync } from 'node:fs';
import { request, type IncomingMessage } from 'node:http';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BIN, REPO } from '../helpers/baton.js';
import { poll, rawRequest } from '../helpers/raw.js';
import { tempDir } from '../helpers/temp.js';

/*
 * `baton serve` with no Redis URL, so it starts its private redis-server, run as a terminal runs
 * it: the leader of its own process group, which a Ctrl-C signals as a whole.
 */
interface Served {
  proc: ChildProcess;
  url: string;
  token: string;
  redisPid: number;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;
  stderr(): string;
}

const running: Served[] = [];

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function serve(): Promise<Served> {
  const dataDir = tempDir('baton-shutdown-data-');
  const workspacesDir = tempDir('baton-shutdown-ws-');
  cpSync(join(REPO, 'workspaces'), workspacesDir, { recursive: true });
  const token = `admin-${Math.random().toString(36).slice(2)}`;
  const env: Record<string, string | undefined> = { ...process.env, BATON_ADMIN_TOKEN: token, BATON_LOG_LEVEL: 'warn' };
  delete env.REDIS_URL;
  const proc = spawn(process.execPath, [BIN, 'serve', '--port', '0', '--host', '127.0.0.1', '--data', dataDir, '--workspaces', workspacesDir], {
    env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  proc.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>((resolve) =>
    proc.once('exit', (code, signal) => resolve({ code, signal, at: Date.now() })),
  );
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    proc.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /baton listening on (\S+)/.exec(out);
      if (m) resolve(m[1]!);
    });
    void exited.then(() => reject(new Error(`baton serve exited at start:\n${stderr}`)));
  });
  const redisPid = Number(readFileSync(join(dataDir, '.baton', 'redis', 'redis.pid'), 'utf8'));
  const s: Served = { proc, url, token, redisPid, exited, stderr: () => stderr };
  running.push(s);
  return s;
}

afterEach(() => {
  for (const s of running.splice(0)) {
    for (const pid of [s.proc.pid!, s.redisPid]) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
});

/** An open SSE stream that has received its `ready` frame; `ended` settles when the server ends it. */
async function openStream(s: Served): Promise<{ ended: Promise<string>; res: IncomingMessage }> {
  const u = new URL(s.url);
  return new Promise((resolve, reject) => {
    const req = request({ host: u.hostname, port: u.port, path: '/v1/events/stream', headers: { authorization: `Bearer ${s.token}` } }, (res) => {
      let text = '';
      const ended = new Promise<string>((done) => {
        res.on('end', () => done('end'));
        res.on('error', () => done('error'));
        res.on('close', () => done(res.complete ? 'end' : 'cut'));
      });
      res.on('data', (d: Buffer) => {
        text += d.toString();
        if (text.includes('event: ready')) resolve({ ended, res });
      });
    });
    req.on('error', reject);
    req.end();
  });
}

describe('Ctrl-C with clients connected', () => {
  it('SIGINT to the process group: streams and long-polls end, Baton exits 0 promptly, its Redis goes last', async () => {
    const s = await serve();
    expect(alive(s.redisPid)).toBe(true);
    const streams = [await openStream(s), await openStream(s)];
    const longPoll = rawRequest(s.url, '/v1/events?wait=30', { token: s.token, timeoutMs: 20_000 });
    await new Promise((r) => setTimeout(r, 200)); // let the long-poll start waiting

    const sent = Date.now();
    process.kill(-s.proc.pid!, 'SIGINT');
    const exit = await Promise.race([s.exited, new Promise<null>((r) => setTimeout(() => r(null), 10_000))]);
    expect(exit, `no exit within 10 s:\n${s.stderr()}`).not.toBeNull();
    expect(exit!.code, s.stderr()).toBe(0);
    // The long-poll got an answer (empty), the streams a clean end, not a cut connection.
    const lp = await longPoll;
    expect(lp.status).toBe(200);
    expect(lp.json.events).toEqual([]);
    expect(await Promise.all(streams.map((x) => x.ended))).toEqual(['end', 'end']);
    // Redis was stopped by Baton before it exited, not by the Ctrl-C.
    expect(alive(s.redisPid)).toBe(false);
    console.log(`shutdown SIGINT: exited ${exit!.at - sent} ms after the signal, code ${exit!.code}, 2 streams + 1 long-poll ended cleanly, private Redis gone`);
    expect(exit!.at - sent).toBeLessThan(5_000);
  });

  it('a second SIGINT exits at once while a request still holds the first shutdown', async () => {
    const s = await serve();
    // An upload that never finishes keeps the graceful shutdown waiting for its grace period.
    const u = new URL(s.url);
    const upload = request({ host: u.hostname, port: u.port, method: 'PUT', path: '/v1/files/demo/inbox/slow.txt', headers: { authorization: `Bearer ${s.token}`, 'transfer-encoding': 'chunked' } });
    upload.on('error', () => {});
    upload.write('partial');
    await new Promise((r) => setTimeout(r, 300));

    process.kill(-s.proc.pid!, 'SIGINT');
    await poll(async () => s.stderr().includes('SIGINT received'), 5_000, 20);
    const second = Date.now();
    process.kill(-s.proc.pid!, 'SIGINT');
    const exit = await Promise.race([s.exited, new Promise<null>((r) => setTimeout(() => r(null), 10_000))]);
    expect(exit, s.stderr()).not.toBeNull();
    expect(exit!.code).toBe(130);
    expect(exit!.at - second).toBeLessThan(2_500); // and before the 3 s grace the first one waits out
    // Its watchdog stops the private Redis once Baton is gone.
    expect(await poll(async () => !alive(s.redisPid), 5_000, 50)).toBe(true);
    console.log(`shutdown second SIGINT: exited ${exit!.at - second} ms after it, code ${exit!.code}, private Redis gone`);
    upload.destroy();
  });

  it('with its Redis already gone (what a Ctrl-C to both used to do), SIGINT still ends Baton within the hard limit', async () => {
    const s = await serve();
    const stream = await openStream(s);
    process.kill(s.redisPid, 'SIGKILL');
    await poll(async () => (await rawRequest(s.url, '/readyz')).status === 503, 5_000, 50);
    const sent = Date.now();
    process.kill(-s.proc.pid!, 'SIGINT');
    const exit = await Promise.race([s.exited, new Promise<null>((r) => setTimeout(() => r(null), 10_000))]);
    expect(exit, `no exit within 10 s:\n${s.stderr()}`).not.toBeNull();
    expect(await stream.ended).not.toBe('error');
    console.log(`shutdown with Redis dead: exited ${exit!.at - sent} ms after SIGINT, code ${exit!.code}`);
  });

  it('SIGKILL of Baton alone still stops its private Redis', async () => {
    const s = await serve();
    process.kill(s.proc.pid!, 'SIGKILL');
    await s.exited;
    const t = Date.now();
    expect(await poll(async () => !alive(s.redisPid), 5_000, 50)).toBe(true);
    console.log(`shutdown SIGKILL: private Redis gone ${Date.now() - t} ms after Baton`);
  });
});
