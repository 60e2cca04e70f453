import type { Context } from 'hono';
import type { z } from 'zod';
import { BatonError } from '../core/errors.js';

const MAX_JSON_BYTES = 1024 * 1024;
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

/** Parse and validate a JSON request body; anything off is `bad_request` with the reason. */
export async function readJson<S extends z.ZodType>(c: Context, schema: S): Promise<z.infer<S>> {
  const declared = Number(c.req.header('content-length') ?? 0);
  if (declared > MAX_JSON_BYTES) throw new BatonError('payload_too_large', `JSON bodies are limited to ${MAX_JSON_BYTES} bytes`);
  const bytes = await readCapped(c.req.raw.body, MAX_JSON_BYTES);
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

/**
 * The whole body, refused as soon as it passes `max` bytes: a chunked body declares no length,
 * and must not be buffered whole before its size is judged.
 */
async function readCapped(body: ReadableStream<Uint8Array> | null, max: number): Promise<Uint8Array> {
  if (!body) return new Uint8Array(0);
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    let next: ReadableStreamReadResult<Uint8Array>;
    try {
      next = await reader.read();
    } catch {
      throw bodyCutOff();
    }
    if (next.done) break;
    size += next.value.byteLength;
    if (size > max) {
      void reader.cancel().catch(() => {});
      throw new BatonError('payload_too_large', `JSON bodies are limited to ${max} bytes`);
    }
    chunks.push(next.value);
  }
  return Buffer.concat(chunks);
}

/** The client closed the connection or broke the chunked encoding before the body's end. */
export function bodyCutOff(): BatonError {
  return new BatonError('bad_request', 'the request body ended early (connection closed or malformed chunked encoding): nothing was done; send the whole body again');
}

/** Query parameters that must be whole numbers. */
export function intQuery(c: Context, name: string): number | undefined {
  const v = c.req.query(name);
  if (v === undefined || v === '') return undefined;
  if (!/^\d+$/.test(v)) throw new BatonError('bad_request', `${name} must be a whole number`);
  return Number(v);
}
