import { join } from 'node:path';
import type { Server } from 'node:http';
import { serve as serveNode } from '@hono/node-server';
import { Redis } from 'ioredis';
import type { Settings } from '../config/settings.js';
import { createHttpApp } from '../http/app.js';
import { createLogger } from '../observability/logger.js';
import { PrivateRedis } from '../redis/private-redis.js';
import { ensureDir } from '../storage/local/host-files.js';
import { resolveAdminToken } from './admin-token.js';
import { closeCore, createCore, systemDir, type Core } from './core.js';

export interface RunningBaton {
  url: string;
  core: Core;
  close(): Promise<void>;
}

const BAD_REQUEST_BODY = JSON.stringify({ error: { code: 'bad_request', message: 'malformed HTTP request' } });

/** Start everything `baton serve` runs, in order, and return a handle that stops it in reverse. */
export async function startBaton(settings: Settings, opts: { onAdminToken?: (token: string, file: string) => void } = {}): Promise<RunningBaton> {
  const log = createLogger(settings.logLevel);
  const sys = systemDir(settings);
  await ensureDir(sys);

  const privateRedis = settings.redisUrl ? null : new PrivateRedis(join(sys, 'redis'));
  const redisUrl = settings.redisUrl ?? (await privateRedis!.start());
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 3, lazyConnect: true });
  redis.on('error', (err) => log.warn({ err: err.message }, 'redis connection error'));
  try {
    await redis.connect();
  } catch (err) {
    await privateRedis?.stop();
    throw new Error(`cannot reach Redis at ${redisUrl}: ${(err as Error).message}`);
  }

  const admin = await resolveAdminToken(settings.adminToken, sys);
  if (admin.generated) opts.onAdminToken?.(admin.token, admin.file);

  const core = await createCore(settings, redis, redisUrl, log, admin.token);
  core.background.start();
  const app = createHttpApp(core);

  const server = await new Promise<Server>((resolve, reject) => {
    const s = serveNode({ fetch: app.fetch, port: settings.port, hostname: settings.host }, () => resolve(s as Server));
    s.once('error', reject);
  });
  // Requests Node's parser refuses (a raw backslash, bad headers) still get a JSON error.
  server.on('clientError', (_err, socket) => {
    if (socket.writable) {
      socket.end(`HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nContent-Length: ${BAD_REQUEST_BODY.length}\r\nConnection: close\r\n\r\n${BAD_REQUEST_BODY}`);
    } else {
      socket.destroy();
    }
  });
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : settings.port;
  const url = `http://${settings.host.includes(':') ? `[${settings.host}]` : settings.host}:${port}`;

  let closing: Promise<void> | null = null;
  const close = () =>
    (closing ??= (async () => {
      // Stop accepting, let in-flight requests finish, then release what they were using.
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
        setTimeout(() => server.closeAllConnections(), 10_000).unref();
      });
      await closeCore(core);
      await redis.quit().catch(() => redis.disconnect());
      await privateRedis?.stop();
      log.info('baton stopped');
      log.flush();
    })());

  return { url, core, close };
}
