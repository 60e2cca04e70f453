import http from 'node:http';
import { now } from './stats.js';

export interface HttpReply {
  status: number;
  body: Buffer;
  /** When the request was handed to the socket layer, and when the whole reply was read. */
  t0: bigint;
  t1: bigint;
}

/**
 * A keep-alive node:http client bound to one base URL and bearer token. Loopback only:
 * the constructor refuses any other host, so no load ever leaves the machine.
 */
export class HttpClient {
  readonly agent: http.Agent;
  private readonly host: string;
  private readonly port: number;

  constructor(
    base: string,
    private readonly token: string | null,
    maxSockets = 256,
  ) {
    const u = new URL(base);
    if (u.hostname !== '127.0.0.1') throw new Error(`bench targets only 127.0.0.1, not ${u.hostname}`);
    this.host = u.hostname;
    this.port = Number(u.port);
    this.agent = new http.Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets });
  }

  request(method: string, path: string, body?: Buffer | string, headers: Record<string, string> = {}, timeoutMs = 60_000): Promise<HttpReply> {
    return new Promise((resolve, reject) => {
      const h: Record<string, string | number> = { ...headers };
      if (this.token) h.authorization = `Bearer ${this.token}`;
      if (body !== undefined) h['content-length'] = Buffer.byteLength(body);
      const t0 = now();
      const req = http.request({ host: this.host, port: this.port, method, path, headers: h, agent: this.agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks), t0, t1: now() }));
        res.on('error', reject);
      });
      req.setTimeout(timeoutMs, () => req.destroy(new Error(`${method} ${path}: no reply within ${timeoutMs} ms`)));
      req.on('error', reject);
      req.end(body);
    });
  }

  async json<T = unknown>(method: string, path: string, payload?: unknown): Promise<{ status: number; json: T }> {
    const r = await this.request(method, path, payload === undefined ? undefined : JSON.stringify(payload), payload === undefined ? {} : { 'content-type': 'application/json' });
    const text = r.body.toString();
    return { status: r.status, json: (text ? JSON.parse(text) : undefined) as T };
  }

  close(): void {
    this.agent.destroy();
  }
}
