import { createServer, type Server } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { BatonClient } from '../src/client/index.js';
import { verifyWebhook } from '../src/client/webhooks.js';
import { loadSettings } from '../src/config/settings.js';
import { startBaton } from '../src/server/serve.js';

/**
 * Where a pattern runs: the Baton at BATON_URL (with BATON_ADMIN_TOKEN to mint the agents'
 * keys), or one started here on a fresh data directory with the repo's demo workspace.
 */
export async function openBaton(): Promise<{ url: string; admin: BatonClient; close(): Promise<void> }> {
  if (process.env.BATON_URL) {
    const token = process.env.BATON_ADMIN_TOKEN;
    if (!token) throw new Error('BATON_URL is set: set BATON_ADMIN_TOKEN too, so the example can create its agents\' keys');
    return { url: process.env.BATON_URL, admin: new BatonClient({ url: process.env.BATON_URL, key: token }), close: async () => undefined };
  }
  const adminToken = `pattern-admin-${process.pid}`;
  const data = mkdtempSync(join(tmpdir(), 'baton-pattern-'));
  const settings = loadSettings(
    { port: '0', data, workspaces: resolve(import.meta.dirname, '..', 'workspaces'), logLevel: 'warn' },
    { ...process.env, BATON_ADMIN_TOKEN: adminToken, BATON_WEBHOOK_RETRY_SCHEDULE: '0.2,0.5,1' },
  );
  const baton = await startBaton(settings);
  // The scratch data directory (with its private Redis) goes with the example.
  const close = async () => {
    await baton.close();
    rmSync(data, { recursive: true, force: true });
  };
  return { url: baton.url, admin: new BatonClient({ url: baton.url, key: adminToken }), close };
}

/** A unique folder per run, so examples can run again against the same Baton. */
export function runId(): string {
  return `run-${Date.now().toString(36)}`;
}

/** An agent: a name, its own scoped key, and a client holding it. */
export async function agent(admin: BatonClient, url: string, name: string, grants: string[], human = false): Promise<BatonClient> {
  const { key } = await admin.keys.create({ agent: name, grants, human });
  return new BatonClient({ url, key });
}

export function say(who: string, what: string): void {
  process.stdout.write(`${who.padEnd(12)} ${what}\n`);
}

/**
 * A webhook receiver on loopback. Every delivery is verified with the subscription's secret
 * (set once known) before `onEvent` runs; a bad signature is answered 401 and never handled.
 */
export async function receiver<E = { id: string; event: string; path: string; actor: string }>(onEvent: (e: E) => Promise<void> | void) {
  let secret = '';
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', async () => {
      let event: E;
      try {
        event = verifyWebhook<E>(secret, body, req.headers as Record<string, string>);
      } catch {
        res.writeHead(401).end();
        return;
      }
      res.writeHead(200).end('ok');
      await onEvent(event);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    setSecret: (s: string) => (secret = s),
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

/** Resolve when `check` holds, or fail after `ms`: examples must end by themselves. */
export async function until(what: string, check: () => boolean, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Run an example: print what happens, exit 0 on success and 1 on any failure. */
export function main(run: () => Promise<void>): void {
  run().then(
    () => process.exit(0),
    (err) => {
      process.stderr.write(`pattern failed: ${err instanceof Error ? err.stack : String(err)}\n`);
      process.exit(1);
    },
  );
}
