import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tempDir } from './temp.js';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port });
    const done = (ok: boolean) => (s.destroy(), resolve(ok));
    s.setTimeout(500, () => done(false));
    s.on('error', () => done(false));
    s.on('connect', () => s.write('PING\r\n'));
    s.on('data', (d) => done(d.toString().startsWith('+PONG')));
  });
}

export interface TestRedis {
  url: string;
  port: number;
  dir: string;
  proc: ChildProcess;
  stop(): Promise<void>;
  /** Kill and start again on the same port and data: a Redis crash and restart. */
  restart(): Promise<void>;
}

/** A real redis-server on a free loopback port, private to one test file. */
export async function startRedis(): Promise<TestRedis> {
  const dir = tempDir('baton-redis-');
  const port = await freePort();
  const launch = async () => {
    const proc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'yes', '--appendfsync', 'always', '--loglevel', 'warning'], {
      stdio: 'ignore',
    });
    const deadline = Date.now() + 10_000;
    while (!(await ping(port))) {
      if (proc.exitCode !== null) throw new Error('redis-server exited at start (is it installed? apt-get install -y redis-server)');
      if (Date.now() > deadline) throw new Error('redis-server did not start');
      await new Promise((r) => setTimeout(r, 30));
    }
    return proc;
  };
  const r: TestRedis = {
    url: `redis://127.0.0.1:${port}`,
    port,
    dir,
    proc: await launch(),
    async stop() {
      await kill(r.proc, 'SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    },
    async restart() {
      await kill(r.proc, 'SIGKILL');
      r.proc = await launch();
    },
  };
  return r;
}

export function kill(proc: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    proc.once('exit', () => resolve());
    proc.kill(signal);
  });
}
