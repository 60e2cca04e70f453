import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, mkdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { kill } from './redis.js';
import { tempDir } from './temp.js';

export const REPO = resolve(import.meta.dirname, '..', '..');
export const BIN = join(REPO, 'bin', 'baton.js');

export interface TestBaton {
  url: string;
  adminToken: string;
  dataDir: string;
  workspacesDir: string;
  proc: ChildProcess;
  /** stderr so far (JSON logs). */
  logs(): string;
  stop(): Promise<void>;
  kill(): Promise<void>;
}

export interface StartOptions {
  redisUrl: string;
  /** Reuse a data directory (a restart); default a fresh temp one. */
  dataDir?: string;
  /** Workspace YAML files to write: name → content. Default: the repo's workspaces/. */
  workspaces?: Record<string, string>;
  workspacesDir?: string;
  env?: Record<string, string>;
  adminToken?: string;
}

/** A real `baton serve` child process on a free loopback port. */
export async function startBaton(opts: StartOptions): Promise<TestBaton> {
  const dataDir = opts.dataDir ?? tempDir('baton-data-');
  let workspacesDir = opts.workspacesDir;
  if (!workspacesDir) {
    workspacesDir = tempDir('baton-ws-');
    if (opts.workspaces) {
      const { writeFileSync } = await import('node:fs');
      for (const [name, text] of Object.entries(opts.workspaces)) writeFileSync(join(workspacesDir, name), text);
    } else {
      cpSync(join(REPO, 'workspaces'), workspacesDir, { recursive: true });
    }
  }
  mkdirSync(dataDir, { recursive: true });
  const adminToken = opts.adminToken ?? `admin-${Math.random().toString(36).slice(2)}`;
  const proc = spawn(process.execPath, [BIN, 'serve', '--port', '0', '--host', '127.0.0.1', '--data', dataDir, '--workspaces', workspacesDir, '--redis', opts.redisUrl], {
    env: { ...process.env, BATON_ADMIN_TOKEN: adminToken, BATON_LOG_LEVEL: 'warn', ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  proc.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const url = await new Promise<string>((res, rej) => {
    let out = '';
    const timer = setTimeout(() => rej(new Error(`baton serve did not start:\n${stderr}`)), 20_000);
    proc.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /baton listening on (\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        res(m[1]!);
      }
    });
    proc.once('exit', (code) => {
      clearTimeout(timer);
      rej(new Error(`baton serve exited with ${code}:\n${stderr}`));
    });
  });
  return {
    url,
    adminToken,
    dataDir,
    workspacesDir,
    proc,
    logs: () => stderr,
    async stop() {
      await kill(proc, 'SIGTERM');
    },
    async kill() {
      await kill(proc, 'SIGKILL');
    },
  };
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** Stop a test's server and its Redis, then remove what the server wrote: an afterAll. */
export async function teardown(baton: TestBaton | undefined, redis: { stop(): Promise<void> } | undefined): Promise<void> {
  await baton?.stop();
  await redis?.stop();
  if (baton) {
    removeDir(baton.dataDir);
    removeDir(baton.workspacesDir);
  }
}
