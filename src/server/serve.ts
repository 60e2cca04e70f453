import { join } from 'node:path';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { getRequestListener } from '@hono/node-server';
import { Redis } from 'ioredis';
import type { Settings } from '../config/settings.js';
import { newContext } from '../core/context.js';
import { BatonError } from '../core/errors.js';
import { createHttpApp } from '../http/app.js';
import { createLogger } from '../observability/logger.js';
import { PrivateRedis } from '../redis/private-redis.js';
import { ensureDir } from '../storage/local/host-files.js';
import { resolveAdminToken } from './admin-token.js';
import { boundHeapGrowth } from './heap-growth.js';
import { closeCore, createCore, systemDir, type Core } from './core.js';

export interface RunningBaton {
  url: string;
  core: Core;
  close(): Promise<void>;
}

/** How long in-flight requests may run on after a shutdown begins. */
const SHUTDOWN_GRACE_MS = 3_000;
/** How long stopping the background work may take before Baton stops without it. */
const CORE_STOP_MS = 3_000;

/** What to fix, for the errors of Node's HTTP parser (llhttp) a client can cause. */
function parserMessage(code: string | undefined): string {
  switch (code) {
    case 'HPE_HEADER_OVERFLOW':
      return 'the request headers are too large (16 KiB at most): send fewer or shorter headers';
    case 'HPE_INVALID_HEADER_TOKEN':
      return 'a header name or value holds a forbidden byte (NUL, a lone CR or LF, another control character): remove it';
    case 'HPE_INVALID_CHUNK_SIZE':
    case 'HPE_STRICT':
      return 'the chunked body is malformed: send valid chunked encoding or a Content-Length';
    case 'HPE_UNEXPECTED_CONTENT_LENGTH':
    case 'HPE_INVALID_CONTENT_LENGTH':
    case 'HPE_INVALID_TRANSFER_ENCODING':
      return 'Content-Length and Transfer-Encoding disagree or are invalid: send exactly one of them';
    default:
      return `malformed HTTP request${code ? ` (${code})` : ''}: check the request line and headers`;
  }
}

/**
 * The HTTP adapter refuses a raw backslash in the path before the app sees the request, with an
 * empty 400. Baton answers it like any other hostile path: JSON `invalid_path`, audited.
 */
function refuseRawBackslash(req: IncomingMessage, res: ServerResponse, core: Core): boolean {
  const url = req.url ?? '';
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  if (!path.includes('\\')) return false;
  const err = new BatonError('invalid_path', 'path contains a backslash');
  void core.recorder.finish(newContext(null, `http.${(req.method ?? 'get').toLowerCase()}`, path.slice(0, 1100)), err);
  const body = JSON.stringify(err.toJSON());
  res.writeHead(err.status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'baton-error-code': err.code });
  res.end(body);
  req.resume();
  return true;
}

/** Start everything `baton serve` runs, in order, and return a handle that stops it in reverse. */
export async function startBaton(settings: Settings, opts: { onAdminToken?: (token: string, file: string) => void } = {}): Promise<RunningBaton> {
  boundHeapGrowth();
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

  const listener = getRequestListener(app.fetch, { hostname: settings.host });
  const server = createServer((req, res) => {
    if (refuseRawBackslash(req, res, core)) return;
    void listener(req, res);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(settings.port, settings.host, () => resolve());
  });
  // Requests Node's parser refuses (a raw backslash, bad header bytes, broken chunking) still get
  // a JSON error, also on a keep-alive connection that has served earlier requests. When an
  // answer is under way on the connection a 400 would corrupt it: the connection is cut instead.
  // The parser reports again for every later chunk of the same bad request: answered once, the
  // rest of what the client sends is read and dropped, so that closing does not reset the
  // connection before the client has read the 400.
  const answered = new WeakSet<Duplex>();
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex & { _httpMessage?: unknown }) => {
    if (answered.has(socket)) return;
    if (err.code !== 'ECONNRESET' && socket.writable && !socket._httpMessage) {
      answered.add(socket);
      const body = JSON.stringify(new BatonError('bad_request', parserMessage(err.code)).toJSON());
      socket.end(`HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nBaton-Error-Code: bad_request\r\nConnection: close\r\n\r\n${body}`);
      socket.resume();
      // A client that keeps its side open does not keep the socket. Not sooner: destroying a
      // socket with unread input sends a reset, and a reset makes a client slow to read (a
      // loaded machine) drop the answer it already received.
      setTimeout(() => socket.destroy(), 5_000).unref();
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
      // Stop accepting. Long-polls and event streams would hold their connections for up to
      // 25 s: end them now. Other requests get a short grace, then their connections are cut.
      const drained = new Promise<void>((resolve) => server.close(() => resolve()));
      core.events.close();
      const reapIdle = setInterval(() => server.closeIdleConnections(), 100);
      const cut = setTimeout(() => server.closeAllConnections(), SHUTDOWN_GRACE_MS);
      server.closeIdleConnections();
      await drained;
      clearInterval(reapIdle);
      clearTimeout(cut);
      // Stopping the workers and loops talks to Redis; with Redis gone each call would wait out
      // its retries. Bounded: what they hold is already durable or retried by another replica.
      const stopped = await Promise.race([closeCore(core).then(() => true), new Promise<false>((r) => setTimeout(() => r(false), CORE_STOP_MS).unref())]);
      if (!stopped) log.warn({ ms: CORE_STOP_MS }, 'background work did not stop in time (is Redis down?); stopping anyway');
      await Promise.race([redis.quit(), new Promise((_, reject) => setTimeout(reject, 1000).unref())]).catch(() => redis.disconnect());
      // Last: everything above may still write to it.
      await privateRedis?.stop();
      log.info('baton stopped');
      log.flush();
    })());

  return { url, core, close };
}
