import { createHash } from 'node:crypto';
import { lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import type { Reply } from './http.js';

export interface RawOptions {
  method?: string;
  token?: string;
  headers?: Record<string, string>;
  body?: string | Uint8Array;
  /** Send the body with Transfer-Encoding: chunked (no Content-Length), in chunks of this size. */
  chunked?: number;
  timeoutMs?: number;
}

/**
 * One HTTP request with the request target sent byte for byte as given: fetch() and URL would
 * resolve `..` and re-encode escapes before the server ever saw them.
 */
export function rawRequest(base: string, target: string, opts: RawOptions = {}): Promise<Reply> {
  const u = new URL(base);
  const method = opts.method ?? 'GET';
  const headers: Record<string, string> = { ...(opts.headers ?? {}) };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  const body = opts.body === undefined ? undefined : typeof opts.body === 'string' ? Buffer.from(opts.body) : Buffer.from(opts.body);
  if (body && !opts.chunked) headers['content-length'] = String(body.length);
  if (body && opts.chunked) headers['transfer-encoding'] = 'chunked';
  return new Promise<Reply>((resolve, reject) => {
    const req = request({ host: u.hostname, port: u.port, method, path: target, headers, insecureHTTPParser: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      res.on('error', reject);
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json: unknown;
        try {
          json = text ? JSON.parse(text) : undefined;
        } catch {
          json = undefined;
        }
        const h = new Headers();
        for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) h.set(k, Array.isArray(v) ? v.join(', ') : v);
        resolve({ status: res.statusCode ?? 0, headers: h, text, json });
      });
    });
    req.setTimeout(opts.timeoutMs ?? 10_000, () => req.destroy(new Error(`request ${method} ${target} timed out`)));
    req.on('error', reject);
    if (body && opts.chunked) {
      for (let i = 0; i < body.length; i += opts.chunked) req.write(body.subarray(i, i + opts.chunked));
      req.end();
    } else {
      req.end(body);
    }
  });
}

export interface TreeEntry {
  type: 'file' | 'dir' | 'symlink' | 'other';
  size: number;
  mtimeMs: number;
  sha?: string;
  target?: string;
}

/**
 * Everything under `dir` (not following symlinks): type, size, mtime and a hash of file bytes.
 * `skip(relPath)` prunes subtrees (e.g. Baton's own `.baton` metadata, which legitimately changes).
 */
export function snapshotTree(dir: string, skip: (rel: string) => boolean = () => false): Record<string, TreeEntry> {
  const out: Record<string, TreeEntry> = {};
  const walk = (abs: string, rel: string) => {
    let names: string[];
    try {
      names = readdirSync(abs).sort();
    } catch {
      return;
    }
    for (const name of names) {
      const r = rel ? `${rel}/${name}` : name;
      if (skip(r)) continue;
      const a = join(abs, name);
      let st;
      try {
        st = lstatSync(a);
      } catch {
        continue;
      }
      if (st.isSymbolicLink()) {
        out[r] = { type: 'symlink', size: 0, mtimeMs: st.mtimeMs, target: readlinkSync(a) };
      } else if (st.isDirectory()) {
        out[r] = { type: 'dir', size: 0, mtimeMs: st.mtimeMs };
        walk(a, r);
      } else if (st.isFile()) {
        out[r] = { type: 'file', size: st.size, mtimeMs: st.mtimeMs, sha: createHash('sha256').update(readFileSync(a)).digest('hex') };
      } else {
        out[r] = { type: 'other', size: st.size, mtimeMs: st.mtimeMs };
      }
    }
  };
  walk(dir, '');
  return out;
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Poll `fn` until it returns a truthy value or the deadline passes; returns the last value. */
export async function poll<T>(fn: () => Promise<T>, timeoutMs: number, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last = await fn();
  while (!last && Date.now() < deadline) {
    await sleep(everyMs);
    last = await fn();
  }
  return last;
}
