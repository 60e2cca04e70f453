import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { REPO } from './baton.js';
import type { DrainReport, WorkerConfig } from './worker.js';

export type { DrainReport, WorkerConfig };

const WORKER = join(REPO, 'test', 'helpers', 'worker.ts');

export interface WorkerProc {
  proc: ChildProcess;
  /** stdout lines so far. */
  lines: string[];
  stderr(): string;
  /** The first stdout line, parsed; rejects if the worker exits first or after `timeoutMs`. */
  firstLine<T = any>(timeoutMs?: number): Promise<T>;
  /** Resolve with the exit code (or signal) once the process has ended. */
  exited(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** A ticket worker (test/helpers/worker.ts) as a separate Node process. */
export function spawnWorker(cfg: WorkerConfig): WorkerProc {
  const proc = spawn(process.execPath, ['--import', 'tsx', WORKER, JSON.stringify(cfg)], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  let buf = '';
  let err = '';
  const waiters = new Set<() => void>();
  let exit: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  proc.stdout!.on('data', (d: Buffer) => {
    buf += d.toString();
    let i: number;
    while ((i = buf.indexOf('\n')) >= 0) {
      lines.push(buf.slice(0, i));
      buf = buf.slice(i + 1);
    }
    for (const w of [...waiters]) w();
  });
  proc.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exitP = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    proc.once('exit', (code, signal) => {
      exit = { code, signal };
      for (const w of [...waiters]) w();
      resolve(exit);
    }),
  );
  return {
    proc,
    lines,
    stderr: () => err,
    exited: () => exitP,
    firstLine<T>(timeoutMs = 30_000): Promise<T> {
      return new Promise<T>((resolve, reject) => {
        const check = () => {
          if (lines.length > 0) {
            done();
            try {
              resolve(JSON.parse(lines[0]!) as T);
            } catch (e) {
              reject(new Error(`worker printed non-JSON: ${lines[0]}`));
            }
          } else if (exit) {
            done();
            reject(new Error(`worker exited (${JSON.stringify(exit)}) without output:\n${err}`));
          }
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`worker printed nothing within ${timeoutMs} ms:\n${err}`));
        }, timeoutMs);
        const done = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
  };
}
