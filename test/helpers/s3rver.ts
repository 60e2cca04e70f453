import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import { REPO } from './baton.js';
import { freePort, kill } from './redis.js';
import { tempDir } from './temp.js';

export const S3RVER_ENV = {
  AWS_ACCESS_KEY_ID: 'S3RVER',
  AWS_SECRET_ACCESS_KEY: 'S3RVER',
  AWS_REGION: 'us-east-1',
  // never ask a cloud metadata service for credentials in tests
  AWS_EC2_METADATA_DISABLED: 'true',
};

export interface TestS3 {
  endpoint: string;
  port: number;
  bucket: string;
  dir: string;
  proc: ChildProcess;
  /** An SDK client for putting objects "behind Baton's back". */
  client(): S3Client;
  /** The YAML of an S3 workspace on this bucket. */
  workspaceYaml(name: string, extra?: { prefix?: string; reconcileSeconds?: number; folders?: string[] }): string;
  /** Stop the server (the bucket goes away; its files stay in `dir`). */
  stop(): Promise<void>;
  /** Start it again on the same port and directory. */
  start(): Promise<void>;
  /** Stop and remove everything. */
  destroy(): Promise<void>;
}

async function reachable(port: number): Promise<boolean> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(1000) });
    await res.body?.cancel();
    return true;
  } catch {
    return false;
  }
}

/**
 * s3rver (a fake S3 on the local disk) in a child process on a free loopback port, with one
 * bucket. It runs under `--openssl-legacy-provider` (its dependencies still use MD5 the old
 * way). It ignores If-None-Match/If-Match on writes and has no notifications, which is what
 * the driver's Redis-guarded path is for.
 */
export async function startS3rver(bucket = 'baton-test'): Promise<TestS3> {
  const dir = tempDir('baton-s3rver-');
  const port = await freePort();
  const bin = join(REPO, 'node_modules', 's3rver', 'bin', 's3rver.js');
  const launch = async (): Promise<ChildProcess> => {
    const proc = spawn(process.execPath, ['--openssl-legacy-provider', bin, '-d', dir, '-a', '127.0.0.1', '-p', String(port), '--silent', '--configure-bucket', bucket], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    proc.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const deadline = Date.now() + 15_000;
    while (!(await reachable(port))) {
      if (proc.exitCode !== null) throw new Error(`s3rver exited at start:\n${stderr}`);
      if (Date.now() > deadline) throw new Error(`s3rver did not start:\n${stderr}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    return proc;
  };
  const endpoint = `http://127.0.0.1:${port}`;
  const t: TestS3 = {
    endpoint,
    port,
    bucket,
    dir,
    proc: await launch(),
    client: () =>
      new S3Client({
        endpoint,
        region: 'us-east-1',
        forcePathStyle: true,
        credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
        requestChecksumCalculation: 'WHEN_REQUIRED',
        responseChecksumValidation: 'WHEN_REQUIRED',
      }),
    workspaceYaml: (name, extra = {}) =>
      [
        `name: ${name}`,
        `storage: {driver: s3, bucket: ${bucket}, prefix: "${extra.prefix ?? `${name}/`}", endpoint: "${endpoint}", region: us-east-1, forcePathStyle: true, reconcileSeconds: ${extra.reconcileSeconds ?? 1}}`,
        `folders: [${(extra.folders ?? []).join(', ')}]`,
        '',
      ].join('\n'),
    async stop() {
      await kill(t.proc, 'SIGTERM');
    },
    async start() {
      t.proc = await launch();
    },
    async destroy() {
      await kill(t.proc, 'SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return t;
}
