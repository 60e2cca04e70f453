import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

/** One POST that reached the receiver. */
export interface Received {
  /** The `webhook-id` header. */
  id: string;
  timestamp: string;
  /** The parsed JSON body (the event). */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
  raw: string;
  /** Date.now() when it arrived. */
  at: number;
  /** Whether the signature verified with the receiver's secret. */
  verified: boolean;
  /** What the receiver answered. */
  status: number;
  /** The URL path it was posted to. */
  urlPath: string;
}

export interface Answer {
  status: number;
  headers?: Record<string, string>;
  /** Wait this long before answering. */
  delayMs?: number;
}

/** Decides the answer to one request; `nth` counts the requests carrying this webhook-id (1-based). */
export type Responder = (req: { id: string; body: unknown; nth: number; total: number }) => Answer;

/**
 * A webhook receiver on 127.0.0.1: verifies every request with the `standardwebhooks` package,
 * records it, and answers what the test scripts. It can go down (every connection cut, new ones
 * reset on arrival) and come back on the same port.
 */
export class Receiver {
  readonly requests: Received[] = [];
  signatureFailures = 0;
  secret: string | null = null;
  responder: Responder = () => ({ status: 200 });
  port = 0;
  private server: Server | null = null;
  private isDown = false;
  private readonly seen = new Map<string, number>();
  private waiters = new Set<() => void>();

  static async start(secret?: string): Promise<Receiver> {
    const r = new Receiver();
    if (secret) r.secret = secret;
    await r.up();
    return r;
  }

  /** The URL to subscribe; `path` lets several subscriptions share one receiver. */
  url(path = '/hook'): string {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  /** Requests answered with a 2xx whose signature verified. */
  get delivered(): Received[] {
    return this.requests.filter((r) => r.verified && r.status >= 200 && r.status < 300);
  }

  /** Answer `status` to the first `n` requests of each webhook-id, then 200. */
  failFirst(n: number, status = 500, headers?: Record<string, string>): void {
    this.responder = ({ nth }) => (nth <= n ? { status, headers } : { status: 200 });
  }

  always(status: number, headers?: Record<string, string>): void {
    this.responder = () => ({ status, headers });
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (d: Buffer) => chunks.push(d));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers[k] = v;
      let verified = false;
      if (this.secret) {
        try {
          new Webhook(this.secret).verify(raw, headers);
          verified = true;
        } catch {
          verified = false;
        }
      }
      if (!verified) this.signatureFailures++;
      let body: unknown = undefined;
      try {
        body = JSON.parse(raw);
      } catch {
        body = undefined;
      }
      const id = headers['webhook-id'] ?? '';
      const nth = (this.seen.get(id) ?? 0) + 1;
      this.seen.set(id, nth);
      const answer = verified ? this.responder({ id, body, nth, total: this.requests.length + 1 }) : { status: 401 };
      const rec: Received = {
        id,
        timestamp: headers['webhook-timestamp'] ?? '',
        body,
        raw,
        at: Date.now(),
        verified,
        status: answer.status,
        urlPath: req.url ?? '',
      };
      const send = () => {
        this.requests.push(rec);
        res.writeHead(answer.status, { 'content-type': 'text/plain', ...(answer.headers ?? {}) });
        res.end('ok');
        for (const w of [...this.waiters]) w();
      };
      if (answer.delayMs) setTimeout(send, answer.delayMs);
      else send();
    });
  }

  /** Listen, or answer again after `down`. */
  async up(): Promise<void> {
    this.isDown = false;
    if (this.server) return;
    const server = createServer((req, res) => this.handle(req, res));
    server.keepAliveTimeout = 1000;
    server.on('connection', (socket) => {
      if (this.isDown) socket.resetAndDestroy();
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
  }

  /**
   * The receiver is down: open connections are cut and new ones reset as they arrive, so no POST
   * gets an answer. The port stays bound: closed, it could be taken by another test's server
   * before `up`, and the subscriptions name it.
   */
  async down(): Promise<void> {
    this.isDown = true;
    this.server?.closeAllConnections();
  }

  async close(): Promise<void> {
    const s = this.server;
    if (!s) return;
    this.server = null;
    await new Promise<void>((resolve) => {
      s.close(() => resolve());
      s.closeAllConnections();
    });
  }

  /** Resolve once `pred` holds (checked on every request and every 100 ms); reject after `timeoutMs`. */
  async waitFor(pred: (r: this) => boolean, timeoutMs: number, what = 'condition'): Promise<void> {
    if (pred(this)) return;
    await new Promise<void>((resolve, reject) => {
      const check = () => {
        if (pred(this)) done(true);
      };
      const timer = setTimeout(() => done(false), timeoutMs);
      const poll = setInterval(check, 100);
      const done = (ok: boolean) => {
        clearTimeout(timer);
        clearInterval(poll);
        this.waiters.delete(check);
        if (ok) resolve();
        else reject(new Error(`receiver: timed out after ${timeoutMs} ms waiting for ${what} (${this.requests.length} requests, ${this.delivered.length} delivered)`));
      };
      this.waiters.add(check);
    });
  }

  /** Delivered events whose body path satisfies `match`. */
  deliveredFor(match: (path: string) => boolean): Received[] {
    return this.delivered.filter((r) => typeof r.body?.path === 'string' && match(r.body.path));
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Poll `fn` until it returns a truthy value; reject after `timeoutMs`. */
export async function eventually<T>(fn: () => Promise<T | undefined | null | false>, timeoutMs: number, what = 'condition', everyMs = 200): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await sleep(everyMs);
  }
}
