import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, symlinkSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, REPO } from './helpers/baton.js';
import { client } from './helpers/http.js';
import { tempDir } from './helpers/temp.js';

function waitForListening(proc: ReturnType<typeof spawn>): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    proc.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    proc.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /baton listening on (\S+)/.exec(out);
      if (m) resolve(m[1]!);
    });
    proc.once('exit', (code) => reject(new Error(`exited ${code}: ${err}`)));
  });
}

function exited(proc: ReturnType<typeof spawn>): Promise<number | null> {
  return new Promise((resolve) => (proc.exitCode !== null ? resolve(proc.exitCode) : proc.once('exit', (code) => resolve(code))));
}

describe('baton serve without REDIS_URL', () => {
  it('starts a private redis-server with an append-only file under the data dir, and stops it on SIGTERM', async () => {
    const data = tempDir('baton-private-');
    const proc = spawn(process.execPath, [BIN, 'serve', '--port', '0', '--data', data, '--workspaces', join(REPO, 'workspaces')], {
      env: { ...process.env, REDIS_URL: '', BATON_ADMIN_TOKEN: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const url = await waitForListening(proc);
    const token = readFileSync(join(data, '.baton', 'admin-token'), 'utf8').trim();
    const put = await client(url, token).put('/demo/inbox/x.txt', 'x');
    expect(put.status).toBe(201);
    const redisDir = join(data, '.baton', 'redis');
    const pid = Number(readFileSync(join(redisDir, 'redis.pid'), 'utf8'));
    expect(readdirSync(redisDir).some((f) => f.startsWith('appendonly') || f === 'appendonlydir')).toBe(true);
    proc.kill('SIGTERM');
    expect(await exited(proc)).toBe(0);
    const deadline = Date.now() + 5000;
    let alive = true;
    while (alive && Date.now() < deadline) {
      try {
        process.kill(pid, 0);
        await new Promise((r) => setTimeout(r, 50));
      } catch {
        alive = false;
      }
    }
    expect(alive).toBe(false);
  });

  it('exits with the install command when redis-server is missing', () => {
    const data = tempDir('baton-noredis-');
    // A PATH holding node and nothing else (node and redis-server often share /usr/bin).
    const bin = tempDir('baton-path-');
    symlinkSync(process.execPath, join(bin, 'node'));
    const r = spawnSync(process.execPath, [BIN, 'serve', '--port', '0', '--data', data, '--workspaces', join(REPO, 'workspaces')], {
      env: { ...process.env, REDIS_URL: '', PATH: bin },
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('apt-get install -y redis-server');
    expect(r.stdout).not.toContain('listening');
  });
});

describe('graceful shutdown', () => {
  it('finishes an in-flight upload after SIGTERM, then exits 0', async () => {
    const { startRedis } = await import('./helpers/redis.js');
    const redis = await startRedis();
    const data = tempDir('baton-grace-');
    const proc = spawn(process.execPath, [BIN, 'serve', '--port', '0', '--data', data, '--workspaces', join(REPO, 'workspaces'), '--redis', redis.url], {
      env: { ...process.env, BATON_ADMIN_TOKEN: 'grace-admin', BATON_LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const url = new URL(await waitForListening(proc));
    const reply = new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request(
        { host: url.hostname, port: url.port, method: 'PUT', path: '/v1/files/demo/inbox/slow.txt', headers: { authorization: 'Bearer grace-admin', 'content-type': 'text/plain' } },
        (res) => {
          let body = '';
          res.on('data', (d) => (body += d));
          res.on('end', () => resolve({ status: res.statusCode!, body }));
        },
      );
      req.on('error', reject);
      req.write('first half,');
      setTimeout(() => {
        proc.kill('SIGTERM');
        setTimeout(() => req.end('second half'), 300);
      }, 200);
    });
    const { status } = await reply;
    expect(status).toBe(201);
    expect(await exited(proc)).toBe(0);
    expect(readFileSync(join(data, 'demo', 'inbox', 'slow.txt'), 'utf8')).toBe('first half,second half');
    await redis.stop();
  });

  it('logs structured JSON lines on stderr', async () => {
    const { startBaton } = await import('./helpers/baton.js');
    const { startRedis } = await import('./helpers/redis.js');
    const redis = await startRedis();
    const baton = await startBaton({ redisUrl: redis.url, env: { BATON_LOG_LEVEL: 'info' } });
    await baton.stop();
    const lines = baton.logs().split('\n').filter((l) => l.startsWith('{'));
    expect(lines.length).toBeGreaterThan(0);
    for (const l of lines) expect(JSON.parse(l)).toHaveProperty('level');
    expect(existsSync(join(baton.dataDir, '.baton', 'audit'))).toBe(true);
    await redis.stop();
  });
});
