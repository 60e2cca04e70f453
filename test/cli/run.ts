import { spawn } from 'node:child_process';
import { BIN } from '../helpers/baton.js';

export interface CliResult {
  code: number | null;
  stdout: string;
  stdoutBytes: Buffer;
  stderr: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  json(): any;
}

/** Run `node bin/baton.js ...args` against a server, as a user would. */
export function baton(args: string[], opts: { url: string; key?: string; stdin?: string | Buffer; env?: Record<string, string>; cwd?: string }): Promise<CliResult> {
  const env: NodeJS.ProcessEnv = { ...process.env, BATON_URL: opts.url, ...opts.env };
  delete env.BATON_KEY;
  if (opts.key !== undefined) env.BATON_KEY = opts.key;
  const proc = spawn(process.execPath, [BIN, ...args], { env, cwd: opts.cwd, stdio: ['pipe', 'pipe', 'pipe'] });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  proc.stdout.on('data', (d: Buffer) => out.push(d));
  proc.stderr.on('data', (d: Buffer) => err.push(d));
  proc.stdin.on('error', () => undefined);
  proc.stdin.end(opts.stdin ?? '');
  return new Promise((resolve, reject) => {
    proc.once('error', reject);
    proc.once('close', (code) => {
      const stdoutBytes = Buffer.concat(out);
      const stdout = stdoutBytes.toString('utf8');
      resolve({
        code,
        stdout,
        stdoutBytes,
        stderr: Buffer.concat(err).toString('utf8'),
        json: () => JSON.parse(stdout),
      });
    });
  });
}
