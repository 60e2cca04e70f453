import { Readable } from 'node:stream';
import { DeleteObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { BatonError } from '../../core/errors.js';

/** A body ready to commit: small ones in memory, large ones already uploaded to a staging key. */
export type UploadBody = { kind: 'buffer'; data: Buffer; size: number } | { kind: 'staged'; key: string; size: number };

export interface SpoolOptions {
  s3: S3Client;
  bucket: string;
  stagingKey: () => string;
  maxBytes: number;
  /** Bodies up to this size are kept in memory and put in one request; larger ones go multipart. */
  partSize: number;
  /** Parts in flight at once: memory is about (queueSize + 1) × partSize per upload. */
  queueSize: number;
  /** Called once it is clear the body is large, before uploading it: a cheap early refusal. */
  beforeLarge?: () => Promise<void>;
  onError: (err: unknown, op: string) => Error;
}

function tooLarge(maxBytes: number): BatonError {
  return new BatonError('payload_too_large', `body is larger than ${maxBytes} bytes`);
}

function asBuffer(chunk: unknown): Buffer {
  if (Buffer.isBuffer(chunk)) return chunk;
  if (typeof chunk === 'string') return Buffer.from(chunk);
  const u = chunk as Uint8Array;
  return Buffer.from(u.buffer, u.byteOffset, u.byteLength);
}

/**
 * Read the body, never holding more than a few parts of it: up to `partSize` bytes stay in
 * memory for a single PUT; past that the bytes stream into a multipart upload of a staging
 * object (lib-storage's Upload), which is copied into place under the path lock. `maxBytes` is
 * enforced while streaming; a body past it aborts the upload and leaves nothing behind.
 */
export async function spool(body: Readable, opts: SpoolOptions): Promise<UploadBody> {
  const it = body[Symbol.asyncIterator]() as AsyncIterator<unknown>;
  const head: Buffer[] = [];
  let size = 0;
  try {
    for (;;) {
      const { value, done } = await it.next();
      if (done) return { kind: 'buffer', data: head.length === 1 ? head[0]! : Buffer.concat(head), size };
      const buf = asBuffer(value);
      size += buf.byteLength;
      if (size > opts.maxBytes) throw tooLarge(opts.maxBytes);
      head.push(buf);
      if (size > opts.partSize) break;
    }
    await opts.beforeLarge?.();
  } catch (err) {
    body.destroy();
    throw err;
  }

  const key = opts.stagingKey();
  let total = size;
  async function* rest(): AsyncGenerator<Buffer> {
    while (head.length > 0) yield head.shift()!;
    for (;;) {
      const { value, done } = await it.next();
      if (done) return;
      const buf = asBuffer(value);
      total += buf.byteLength;
      if (total > opts.maxBytes) throw tooLarge(opts.maxBytes);
      yield buf;
    }
  }
  try {
    const upload = new Upload({
      client: opts.s3,
      params: { Bucket: opts.bucket, Key: key, Body: Readable.from(rest(), { objectMode: false }) },
      partSize: opts.partSize,
      queueSize: opts.queueSize,
      // abort the multipart upload on failure (servers that cannot, like s3rver, keep orphan parts no listing shows)
      leavePartsOnError: false,
    });
    await upload.done();
    return { kind: 'staged', key, size: total };
  } catch (err) {
    body.destroy();
    // A single-part upload that finished before the failure, or one the server kept: remove it.
    await opts.s3.send(new DeleteObjectCommand({ Bucket: opts.bucket, Key: key })).catch(() => undefined);
    // The limit was crossed: whatever the upload's own failure was (an abort the server refused, say), say that.
    if (total > opts.maxBytes) throw tooLarge(opts.maxBytes);
    const cause = findBatonError(err);
    if (cause) throw cause;
    throw opts.onError(err, 'uploading');
  }
}

function findBatonError(err: unknown): BatonError | null {
  let e: unknown = err;
  for (let i = 0; i < 5 && e; i++) {
    if (e instanceof BatonError) return e;
    e = (e as { cause?: unknown }).cause;
  }
  return null;
}

