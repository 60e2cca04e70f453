import http from 'node:http';
import https from 'node:https';

export interface PostReply {
  status: number;
  retryAfter: string | null;
}

/**
 * POSTs to receivers over keep-alive connection pools, one per scheme: a delivery reuses a warm
 * socket instead of a new TCP (and TLS) handshake. node:http rather than fetch: a webhook needs
 * only the status and one header, and fetch's web streams cost more CPU than the POST itself.
 * Redirects are not followed; the answer's body is read and thrown away so its socket goes back
 * to the pool.
 */
export class WebhookPoster {
  private readonly agents = {
    'http:': new http.Agent({ keepAlive: true, keepAliveMsecs: 1000, maxSockets: 256, maxFreeSockets: 64, scheduling: 'lifo' }),
    'https:': new https.Agent({ keepAlive: true, keepAliveMsecs: 1000, maxSockets: 256, maxFreeSockets: 64, scheduling: 'lifo' }),
  };

  post(url: string, headers: Record<string, string>, body: string, timeoutMs: number): Promise<PostReply> {
    const u = new URL(url);
    const mod = u.protocol === 'https:' ? https : u.protocol === 'http:' ? http : null;
    if (!mod) return Promise.reject(new Error(`unsupported URL scheme ${u.protocol}`));
    const payload = Buffer.from(body);
    return new Promise((resolve, reject) => {
      const req = mod.request(
        u,
        { method: 'POST', agent: this.agents[u.protocol as 'http:' | 'https:'], headers: { ...headers, 'content-length': payload.length }, signal: AbortSignal.timeout(timeoutMs) },
        (res) => {
          const retryAfter = res.headers['retry-after'];
          res.on('error', () => undefined);
          res.resume();
          resolve({ status: res.statusCode ?? 0, retryAfter: Array.isArray(retryAfter) ? (retryAfter[0] ?? null) : (retryAfter ?? null) });
        },
      );
      req.on('error', reject);
      req.end(payload);
    });
  }

  close(): void {
    this.agents['http:'].destroy();
    this.agents['https:'].destroy();
  }
}
