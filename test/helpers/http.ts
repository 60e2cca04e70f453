import { assertMatchesOpenApi } from './openapi.js';

export interface Reply {
  status: number;
  headers: Headers;
  text: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  json: any;
}

/** A tiny fetch wrapper bound to one Baton and one bearer key. */
export function client(base: string, token?: string) {
  async function call(method: string, path: string, init: { body?: BodyInit | null; json?: unknown; headers?: Record<string, string> } = {}): Promise<Reply> {
    const headers: Record<string, string> = { ...(init.headers ?? {}) };
    if (token) headers.authorization = `Bearer ${token}`;
    let body = init.body;
    if (init.json !== undefined) {
      body = JSON.stringify(init.json);
      headers['content-type'] = 'application/json';
    }
    const res = await fetch(base + path, { method, headers, body, duplex: 'half' } as RequestInit);
    const text = method === 'HEAD' ? '' : await res.text();
    let json: unknown = undefined;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    assertMatchesOpenApi(method, res.url || base + path, res.status, res.headers.get('content-type'), json);
    return { status: res.status, headers: res.headers, text, json };
  }
  return {
    call,
    put: (p: string, body: string | Uint8Array, headers?: Record<string, string>) => call('PUT', `/v1/files${p}`, { body: body as BodyInit, headers }),
    get: (p: string, headers?: Record<string, string>) => call('GET', `/v1/files${p}`, { headers }),
    head: (p: string) => call('HEAD', `/v1/files${p}`),
    del: (p: string, headers?: Record<string, string>) => call('DELETE', `/v1/files${p}`, { headers }),
    list: (p: string, query = '') => call('GET', `/v1/list${p}${query}`),
    post: (p: string, json: unknown) => call('POST', p, { json }),
  };
}

/** Create a key with the admin token; returns the secret. */
export async function createKey(base: string, adminToken: string, body: { agent: string; grants: string[]; human?: boolean; expiresAt?: string }): Promise<{ id: string; key: string }> {
  const r = await client(base, adminToken).post('/v1/keys', body);
  if (r.status !== 201) throw new Error(`key create failed: ${r.status} ${r.text}`);
  return { id: r.json.id, key: r.json.key };
}
