import { spawn } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO, removeDir, startBaton, type TestBaton } from '../helpers/baton.js';
import { createKey } from '../helpers/http.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';
import { fencedBlocks } from './markdown.js';

/**
 * docs/mcp.md's host config, used as an MCP host uses it: spawn `command` with `args` and `env`.
 * Only its placeholders are filled in (the clone's path, the key) and the server's URL.
 */
let redis: TestRedis;
let server: TestBaton;

beforeAll(async () => {
  redis = await startRedis();
  server = await startBaton({ redisUrl: redis.url });
});
afterAll(async () => {
  await server?.stop();
  await redis?.stop();
  if (server) removeDir(server.dataDir);
});

describe('docs/mcp.md config', () => {
  it('starts baton mcp from a clone and its tools work with the key', async () => {
    const [json] = fencedBlocks('docs/mcp.md', '# MCP', 'json');
    const { key } = await createKey(server.url, server.adminToken, { agent: 'host', grants: ['read:/demo/inbox/**', 'write:/demo/inbox/**'] });
    const filled = json!.replaceAll('/absolute/path/to/baton', REPO).replaceAll('bk_…', key).replaceAll('http://127.0.0.1:8787', server.url);
    const config = JSON.parse(filled) as { mcpServers: { baton: { command: string; args: string[]; env: Record<string, string> } } };
    const { command, args, env } = config.mcpServers.baton;
    // A host's PATH, not this test runner's: the config must not depend on anything installed.
    const transport = new StdioClientTransport({ command, args, env: { PATH: process.env.PATH ?? '', ...env }, stderr: 'pipe' });
    const mcp = new Client({ name: 'docs-test', version: '1.0.0' });
    await mcp.connect(transport);
    try {
      const tools = (await mcp.listTools()).tools.map((t) => t.name);
      expect(tools).toContain('write_file');
      const wrote = await mcp.callTool({ name: 'write_file', arguments: { path: '/demo/inbox/from-mcp.md', content: 'hello' } });
      expect(wrote.isError).toBeFalsy();
      const read = await mcp.callTool({ name: 'read_text_file', arguments: { path: '/demo/inbox/from-mcp.md' } });
      expect((read.content as Array<{ text: string }>)[0]!.text).toBe('hello');
    } finally {
      await mcp.close();
    }
  });
});

describe('docs/mcp.md resources walk-through', () => {
  it('runs as written: subscribes, is notified of a REST write, reads the new content', async () => {
    const [ts] = fencedBlocks('docs/mcp.md', '### Walk-through: be told when a file changes', 'ts');
    const { key } = await createKey(server.url, server.adminToken, { agent: 'watcher', grants: ['read:/demo/inbox/**', 'write:/demo/inbox/**'] });
    // Inside node_modules so the script resolves the SDK as it would next to an install.
    const dir = join(REPO, 'node_modules', '.cache', 'baton-docs');
    mkdirSync(dir, { recursive: true });
    const file = join(dir, `watch-${process.pid}.mts`);
    writeFileSync(file, ts!);
    try {
      const out = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
        const proc = spawn(process.execPath, ['--import', 'tsx', file], {
          cwd: REPO,
          env: { ...process.env, BATON_URL: server.url, BATON_KEY: key },
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let stdout = '';
        let stderr = '';
        proc.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
        proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
        const timer = setTimeout(() => proc.kill('SIGKILL'), 20_000);
        proc.once('exit', (code) => {
          clearTimeout(timer);
          resolve({ code, stdout, stderr });
        });
      });
      expect(out.code, out.stderr).toBe(0);
      expect(out.stdout).toContain("uri: 'baton:///demo/inbox/report.md'");
      expect(out.stdout).toContain("mimeType: 'text/markdown'");
      expect(out.stdout).toContain("text: '# Done'");
    } finally {
      rmSync(file, { force: true });
    }
  });
});
