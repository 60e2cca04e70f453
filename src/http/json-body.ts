import type { Context } from 'hono';
import type { z } from 'zod';
import type { Readable } from 'node:stream';
import { BatonError } from '../core/errors.js';
import { requestBody } from './request-body.js';

const MAX_JSON_BYTES = 1024 * 1024;
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

/** Parse and validate a JSON request body; anything off is `bad_request` with the reason. */
export async function readJson<S extends z.ZodType>(c: Context, schema: S): Promise<z.infer<S>> {
  const declared = Number(c.req.header('content-length') ?? 0);
  if (declared > MAX_JSON_BYTES) throw new BatonError('payload_too_large', `JSON bodies are limited to ${MAX_JSON_BYTES} bytes`);
  const bytes = await readCapped(requestBody(c), MAX_JSON_BYTES, `JSON bodies are limited to ${MAX_JSON_BYTES} bytes`);
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
 * and must not be buffered whole before its size is judged. A refused body is left flowing to
 * nobody, so the rest of it is discarded as it arrives and the connection stays usable.
 */
export function readCapped(body: Readable, max: number, tooLarge: string): Promise<Buffer> {
  if (body.errored) return Promise.reject(bodyCutOff());
  if (body.readableEnded) return Promise.resolve(Buffer.alloc(0));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const stop = () => {
      body.off('data', onData);
      body.off('end', onEnd);
      body.off('error', onError);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= max) return void chunks.push(chunk);
      stop();
      reject(new BatonError('payload_too_large', tooLarge));
    };
    const onEnd = () => {
      stop();
      resolve(Buffer.concat(chunks));
    };
    const onError = () => {
      stop();
      reject(bodyCutOff());
    };
    body.on('data', onData);
    body.on('end', onEnd);
    body.on('error', onError);
  });
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
