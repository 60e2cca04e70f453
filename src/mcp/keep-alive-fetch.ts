import http from 'node:http';
import https from 'node:https';
import { Readable } from 'node:stream';

/** Statuses whose response has no body, which the Response constructor refuses one for. */
const NULL_BODY = new Set([101, 103, 204, 205, 304]);

/**
 * A `fetch` for the `baton mcp` relay's MCP client over node:http keep-alive pools: every call
 * of an agent's session goes out on a warm socket to the same server. node:http rather than the
 * global fetch, whose request machinery costs more CPU than a relayed call's own work; the
 * answer is still a web Response, since the SDK's transport reads JSON and SSE bodies from one.
 */
export function keepAliveFetch(): { fetch: typeof fetch; close(): void } {
  const agents = {
    'http:': new http.Agent({ keepAlive: true, maxSockets: 16, scheduling: 'lifo' }),
    'https:': new https.Agent({ keepAlive: true, maxSockets: 16, scheduling: 'lifo' }),
  };
  const send = (input: string | URL | Request, init: RequestInit = {}): Promise<Response> => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    const scheme = url.protocol;
    if (scheme !== 'http:' && scheme !== 'https:') return Promise.reject(new TypeError(`fetch failed: unsupported URL scheme ${scheme}`));
    const method = init.method ?? 'GET';
    const headers: Record<string, string> = {};
    new Headers(init.headers).forEach((v, k) => (headers[k] = v));
    const body = init.body;
    if (body !== undefined && body !== null && typeof body !== 'string') return Promise.reject(new TypeError('keepAliveFetch sends string bodies only'));
    return new Promise<Response>((resolve, reject) => {
      const req = (scheme === 'https:' ? https : http).request(url, { method, headers, agent: agents[scheme], signal: init.signal ?? undefined }, (res) => {
        const out = new Headers();
        for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) out.set(k, Array.isArray(v) ? v.join(', ') : v);
        const status = res.statusCode ?? 0;
        if (NULL_BODY.has(status) || method === 'HEAD') {
          res.resume();
          resolve(new Response(null, { status, statusText: res.statusMessage, headers: out }));
          return;
        }
        resolve(new Response(Readable.toWeb(res) as ReadableStream<Uint8Array>, { status, statusText: res.statusMessage, headers: out }));
      });
      // Worded like the global fetch's failure, which callers already recognize.
      req.on('error', (err) => reject(init.signal?.aborted ? err : Object.assign(new TypeError(`fetch failed: ${err.message}`), { cause: err })));
      req.end(body ?? undefined);
    });
  };
  return {
    fetch: send as typeof fetch,
    close: () => {
      agents['http:'].destroy();
      agents['https:'].destroy();
    },
  };
}
