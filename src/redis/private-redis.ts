import { spawn, type ChildProcess } from 'node:child_process';
import { connect, createServer } from 'node:net';
import { join } from 'node:path';
import { ensureDir, findExecutable, readText, writeTextAtomic } from '../storage/local/host-files.js';
import { BatonError } from '../core/errors.js';

export const REDIS_INSTALL_HINT = 'sudo apt-get update && sudo apt-get install -y redis-server';

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

/** True when a Redis answers PING on this loopback port within a second. */
function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect({ host: '127.0.0.1', port });
    const done = (ok: boolean) => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(1000, () => done(false));
    sock.on('error', () => done(false));
    sock.on('connect', () => sock.write('PING\r\n'));
    sock.on('data', (d) => done(d.toString().startsWith('+PONG')));
  });
}

/**
 * A redis-server owned by this process: loopback only, append-only file on (fsync every
 * second), data under `dir`, stopped when Baton stops. Used when no REDIS_URL is given.
 */
export class PrivateRedis {
  private child: ChildProcess | null = null;
  private adopted = false;
  url = '';

  constructor(private readonly dir: string) {}

  async start(): Promise<string> {
    const bin = await findExecutable('redis-server');
    if (!bin) {
      throw new BatonError('unavailable', `redis-server was not found. Install it with:\n  ${REDIS_INSTALL_HINT}\nor point Baton at a running Redis with REDIS_URL=redis://host:6379`);
    }
    await ensureDir(this.dir);
    // A server that answers on this data belongs to another Baton running on the same data dir:
    // share it rather than start a second server over the same append-only file.
    const previous = Number(await readText(join(this.dir, 'redis.port')));
    if (previous > 0 && (await ping(previous))) {
      this.adopted = true;
      this.url = `redis://127.0.0.1:${previous}`;
      return this.url;
    }
    await waitForExit(previousPid(await readText(join(this.dir, 'redis.pid'))));
    const port = await freePort();
    const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', this.dir, '--pidfile', join(this.dir, 'redis.pid'), '--appendonly', 'yes', '--appendfsync', 'everysec', '--save', '', '--protected-mode', 'yes', '--daemonize', 'no', '--loglevel', 'warning'];
    // Its own session and process group (detached): a Ctrl-C at the terminal reaches Baton alone,
    // which then stops Redis last, after everything that writes to it.
    const child = spawn('/bin/sh', ['-c', WATCHDOG, bin, ...args], { detached: true, stdio: ['pipe', 'ignore', 'pipe'] });
    this.child = child;
    child.stdin?.on('error', () => {}); // EPIPE once the watchdog is gone: nothing left to stop
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    const deadline = Date.now() + 10_000;
    while (!(await ping(port))) {
      if (child.exitCode !== null) {
        child.stdin?.end();
        throw new Error(`redis-server exited: ${stderr.trim()}`);
      }
      if (Date.now() > deadline) {
        killGroup(child.pid, 'SIGKILL');
        throw new Error('redis-server did not start within 10 s');
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    await writeTextAtomic(join(this.dir, 'redis.port'), String(port));
    this.url = `redis://127.0.0.1:${port}`;
    return this.url;
  }

  async stop(): Promise<void> {
    // An adopted server belongs to the Baton that started it (its watchdog stops it with that one).
    if (this.adopted) return;
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      // EOF on the watchdog's stdin: it sends redis-server SIGTERM (which flushes the append-only
      // file) and exits when Redis has. Should that stall, the whole group is killed.
      child.stdin?.end();
      setTimeout(() => killGroup(child.pid, 'SIGKILL'), 5_000).unref();
    });
  }
}

/**
 * Runs redis-server and ties its life to Baton's: Redis cannot watch its parent, so this shell
 * keeps the read end of a pipe whose only writer is Baton. When Baton exits, however it exits
 * (SIGKILL included), the kernel closes that pipe, `cat` sees EOF and Redis gets SIGTERM. The
 * shell itself waits on Redis, so Baton sees it exit if Redis dies or cannot start. Background
 * jobs of a non-interactive shell read /dev/null, hence the pipe is kept as fd 3 first.
 */
const WATCHDOG = `exec 3<&0
"$0" "$@" </dev/null 3<&- &
redis=$!
{ cat <&3 >/dev/null; kill -TERM $redis 2>/dev/null; } &
wait $redis`;

function previousPid(text: string | null | undefined): number | null {
  const pid = Number(text);
  return Number.isInteger(pid) && pid > 0 ? pid : null;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * A server of a Baton that just died may still be writing its append-only file after its
 * watchdog's SIGTERM; a new one must not load that file until it has finished.
 */
async function waitForExit(pid: number | null): Promise<void> {
  if (!pid) return;
  const deadline = Date.now() + 5_000;
  while (alive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
}

function killGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (!pid) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}
