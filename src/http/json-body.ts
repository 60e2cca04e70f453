import type { Context } from 'hono';
import type { z } from 'zod';
import { BatonError } from '../core/errors.js';

const MAX_JSON_BYTES = 1024 * 1024;
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

/** Parse and validate a JSON request body; anything off is `bad_request` with the reason. */
export async function readJson<S extends z.ZodType>(c: Context, schema: S): Promise<z.infer<S>> {
  const declared = Number(c.req.header('content-length') ?? 0);
  if (declared > MAX_JSON_BYTES) throw new BatonError('payload_too_large', `JSON bodies are limited to ${MAX_JSON_BYTES} bytes`);
  const bytes = new Uint8Array(await c.req.arrayBuffer());
  if (bytes.byteLength > MAX_JSON_BYTES) throw new BatonError('payload_too_large', `JSON bodies are limited to ${MAX_JSON_BYTES} bytes`);
  let text: string;
  try {
    // Fatal: a lenient decoder would turn invalid bytes into U+FFFD and, say, rename a file to
    // a name nobody sent, where the same bytes in a URL path are refused.
    text = utf8.decode(bytes);
  } catch {
    throw new BatonError('bad_request', 'body is not valid UTF-8: send JSON encoded as UTF-8');
  }
  let raw: unknown;
  try {
    raw = text === '' ? {} : JSON.parse(text);
  } catch {
    throw new BatonError('bad_request', 'body is not valid JSON');
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.length ? `${issue.path.join('.')}: ` : '';
    throw new BatonError('bad_request', `invalid body: ${where}${issue?.message ?? 'does not match the expected shape'}`);
  }
  return parsed.data;
}

/** Query parameters that must be whole numbers. */
export function intQuery(c: Context, name: string): number | undefined {
  const v = c.req.query(name);
  if (v === undefined || v === '') return undefined;
  if (!/^\d+$/.test(v)) throw new BatonError('bad_request', `${name} must be a whole number`);
  return Number(v);
}
