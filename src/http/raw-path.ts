import type { Context } from 'hono';
import { BatonError } from '../core/errors.js';

type NodeBindings = { incoming?: { url?: string } };

/**
 * The request path exactly as the client sent it. The URL parser behind `c.req.path` resolves
 * `..` and `%2e%2e` segments before routing, which would turn `/v1/files/ws/../../x` into
 * another request entirely; Baton judges the path the client actually wrote.
 */
export function rawPath(c: Context): string {
  const raw = (c.env as NodeBindings | undefined)?.incoming?.url ?? new URL(c.req.url).pathname;
  const q = raw.indexOf('?');
  return q < 0 ? raw : raw.slice(0, q);
}

const DOT_SEGMENT = /(^|\/)(\.|%2e){1,2}(\/|$)/i;

/** Refuse dot segments anywhere in the raw path, before the router sees a normalized one. */
export function assertNoDotSegments(c: Context): void {
  if (DOT_SEGMENT.test(rawPath(c))) throw new BatonError('invalid_path', 'path has a . or .. segment');
}

/** The raw, still percent-encoded remainder of the path after a route prefix like `/v1/files`. */
export function rawSuffix(c: Context, prefix: string): string {
  const raw = rawPath(c);
  if (!raw.startsWith(prefix)) throw new BatonError('invalid_path', 'unexpected request path');
  return raw.slice(prefix.length) || '/';
}
