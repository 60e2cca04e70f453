import { createServer, type Server } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { BatonClient } from '../src/client/index.js';
import { verifyWebhook } from '../src/client/webhooks.js';
import { loadSettings } from '../src/config/settings.js';
import { startBaton } from '../src/server/serve.js';

/** A running Baton for one example, and everything the example made on it. */
export interface PatternBaton {
  url: string;
  admin: BatonClient;
  /** An agent: its own scoped key (revoked again on close), and a client holding it. */
  agent(name: string, grants: string[], human?: boolean): Promise<BatonClient>;
  /** A folder the example fills; removed on close, so a live server is left as it was found. */
  scratch(folder: string): string;
  close(): Promise<void>;
}

/**
 * Where a pattern runs: the Baton at BATON_URL (its admin token from BATON_ADMIN_TOKEN, or
 * BATON_KEY as the README's walk-through exports it), or one started here on a fresh data
 * directory with the repo's demo workspace.
 */
export async function openBaton(pattern: string, about: string): Promise<PatternBaton> {
  say('pattern', `${pattern}: ${about}`);
  let url: string;
  let adminToken: string;
  let stop = async () => undefined as void;
  if (process.env.BATON_URL) {
    url = process.env.BATON_URL;
    const token = process.env.BATON_ADMIN_TOKEN || process.env.BATON_KEY;
    if (!token) throw new PatternError(`BATON_URL is set (${url}): set BATON_ADMIN_TOKEN (or BATON_KEY) to its admin token so the example can create its agents' keys, or unset BATON_URL to let it start its own Baton`);
    adminToken = token;
    say('pattern', `using the Baton at ${url}; the keys and folders made here are removed at the end`);
  } else {
    adminToken = `pattern-admin-${process.pid}`;
    const data = mkdtempSync(join(tmpdir(), 'baton-pattern-'));
    const settings = loadSettings(
      { port: '0', data, workspaces: resolve(import.meta.dirname, '..', 'workspaces'), logLevel: 'warn' },
      { ...process.env, BATON_ADMIN_TOKEN: adminToken, BATON_WEBHOOK_RETRY_SCHEDULE: '0.2,0.5,1' },
    );
    const baton = await startBaton(settings);
    url = baton.url;
    say('pattern', `started a temporary Baton at ${url} (data in ${data}; removed at the end)`);
    // The scratch data directory (with its private Redis) goes with the example.
    stop = async () => {
      await baton.close();
      rmSync(data, { recursive: true, force: true });
    };
  }
  const admin = new BatonClient({ url, key: adminToken });
  const keys: string[] = [];
  const folders: string[] = [];
  return {
    url,
    admin,
    async agent(name, grants, human = false) {
      const { id, key } = await admin.keys.create({ agent: name, grants, human });
      keys.push(id);
      return new BatonClient({ url, key });
    },
    scratch(folder) {
      folders.push(folder);
      return folder;
    },
    async close() {
      try {
        for (const id of keys) await admin.keys.revoke(id).catch(() => undefined);
        for (const folder of folders) await removeTree(admin, folder);
      } finally {
        await stop();
      }
    },
  };
}

/** Delete a folder and everything in it: files first, then folders from the deepest up. */
async function removeTree(admin: BatonClient, folder: string): Promise<void> {
  const dirs: string[] = [];
  try {
    for await (const e of admin.listAll(folder, { recursive: true })) {
      if (e.type === 'file') await admin.delete(e.path);
      else dirs.push(e.path);
    }
  } catch (err) {
    if ((err as { code?: string }).code === 'not_found') return;
    throw err;
  }
  for (const d of [...dirs, folder].sort((a, b) => b.length - a.length)) await admin.delete(d).catch(() => undefined);
}

/** A mistake in how the example was started: told in one line, without a stack trace. */
export class PatternError extends Error {}

/** A unique folder name per run, so examples can run again against the same Baton. */
export function runId(): string {
  return `run-${Date.now().toString(36)}`;
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
      // A stack helps only when the example itself is broken; a setup mistake or a refused call reads better as one line.
      const text = err instanceof PatternError || (err as { code?: string })?.code ? (err as Error).message : err instanceof Error ? err.stack : String(err);
      process.stderr.write(`pattern failed: ${text}\n`);
      process.exit(1);
    },
  );
}
