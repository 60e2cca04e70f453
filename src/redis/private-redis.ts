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
  private adoptedPid: number | null = null;
  url = '';

  constructor(private readonly dir: string) {}

  async start(): Promise<string> {
    const bin = await findExecutable('redis-server');
    if (!bin) {
      throw new BatonError('unavailable', `redis-server was not found. Install it with:\n  ${REDIS_INSTALL_HINT}\nor point Baton at a running Redis with REDIS_URL=redis://host:6379`);
    }
    await ensureDir(this.dir);
    // A Baton killed with SIGKILL leaves its redis-server running on this data: adopt it rather
    // than start a second server over the same append-only file.
    const previous = Number(await readText(join(this.dir, 'redis.port')));
    if (previous > 0 && (await ping(previous))) {
      this.adoptedPid = Number(await readText(join(this.dir, 'redis.pid'))) || null;
      this.url = `redis://127.0.0.1:${previous}`;
      return this.url;
    }
    const port = await freePort();
    const child = spawn(
      bin,
      ['--port', String(port), '--bind', '127.0.0.1', '--dir', this.dir, '--pidfile', join(this.dir, 'redis.pid'), '--appendonly', 'yes', '--appendfsync', 'everysec', '--save', '', '--protected-mode', 'yes', '--daemonize', 'no', '--loglevel', 'warning'],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    this.child = child;
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    const deadline = Date.now() + 10_000;
    while (!(await ping(port))) {
      if (child.exitCode !== null) throw new Error(`redis-server exited: ${stderr.trim()}`);
      if (Date.now() > deadline) throw new Error('redis-server did not start within 10 s');
      await new Promise((r) => setTimeout(r, 50));
    }
    await writeTextAtomic(join(this.dir, 'redis.port'), String(port));
    this.url = `redis://127.0.0.1:${port}`;
    return this.url;
  }

  async stop(): Promise<void> {
    if (this.adoptedPid) {
      try {
        process.kill(this.adoptedPid, 'SIGTERM');
      } catch {
        // already gone
      }
      return;
    }
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
      setTimeout(() => child.kill('SIGKILL'), 5_000).unref();
    });
  }
}
