import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO, removeDir, startBaton, type TestBaton } from '../helpers/baton.js';
import { client } from '../helpers/http.js';
import { freePort, kill, startRedis, type TestRedis } from '../helpers/redis.js';
import { tempDir } from '../helpers/temp.js';
import { fencedBlocks } from './markdown.js';

describe('docker-compose.local.yml: one container on local disk', () => {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const compose = parse(readFileSync(join(REPO, 'docker-compose.local.yml'), 'utf8')) as any;
  const dockerfile = readFileSync(join(REPO, 'docker', 'Dockerfile'), 'utf8');

  it('runs the image with no REDIS_URL, the repo workspaces and one data volume, and the image has redis-server', () => {
    expect(Object.keys(compose.services)).toEqual(['baton']);
    const s = compose.services.baton;
    expect(s.build.dockerfile).toBe('docker/Dockerfile');
    expect(s.environment?.REDIS_URL).toBeUndefined();
    expect(s.volumes).toEqual(['./workspaces:/workspaces:ro', 'baton-local-data:/data']);
    expect(s.ports).toEqual(['127.0.0.1:8787:8787']);
    expect(readdirSync(join(REPO, 'workspaces')).some((f) => f.endsWith('.yaml'))).toBe(true);
    // The private Redis is what a container without REDIS_URL starts: it must be in the run stage.
    const runStage = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
    expect(runStage).toMatch(/apt-get install -y --no-install-recommends redis-server/);
    expect(dockerfile).not.toMatch(/^RUN npm ci/m);
  });
});

describe('docs/s3.md: trying S3 without Docker', () => {
  let redis: TestRedis;
  let baton: TestBaton | undefined;
  let s3rver: ReturnType<typeof spawn> | undefined;
  const dataDir = tempDir('baton-s3try-');
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await baton?.stop();
    if (s3rver) await kill(s3rver, 'SIGTERM');
    await redis?.stop();
    if (baton) removeDir(baton.dataDir);
  });

  it('the s3rver command and the workspace it declares work as written (port and folder aside)', async () => {
    const [serverBlock, batonBlock] = fencedBlocks('docs/s3.md', '## Trying S3 without Docker', 'bash');
    const port = await freePort();
    const command = serverBlock!.split('\n').slice(1).join(' ').replace(/\\\s+/g, ' ').replaceAll('/tmp/s3rver-data', dataDir).replace('-p 4569', `-p ${port}`);
    s3rver = spawn('bash', ['-c', `exec ${command}`], { cwd: REPO, stdio: 'ignore' });
    const yaml = /<<'YAML'\n([\s\S]*?)\nYAML/.exec(batonBlock!)![1]!.replace('127.0.0.1:4569', `127.0.0.1:${port}`);
    const env = Object.fromEntries([...batonBlock!.matchAll(/(AWS_[A-Z0-9_]+)=(\S+)/g)].map((m) => [m[1]!, m[2]!]));
    for (let i = 0; i < 100 && !(await fetch(`http://127.0.0.1:${port}/`).then(() => true, () => false)); i++) await new Promise((r) => setTimeout(r, 100));
    const workspacesDir = tempDir('baton-s3try-ws-');
    writeFileSync(join(workspacesDir, 'agents.yaml'), yaml);
    baton = await startBaton({ redisUrl: redis.url, workspacesDir, env });
    const put = await client(baton.url, baton.adminToken).put('/agents/inbox/hello.txt', 'hello');
    expect(put.status, put.text).toBe(201);
    expect(existsSync(join(dataDir, 'agents'))).toBe(true);
  });
});
