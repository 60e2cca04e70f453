import { BatonClientError, codeForStatus, parseRetryAfter } from './errors.js';
import type { BatonClientOptions, BodyInput, CallOptions } from './types.js';

export type QueryValue = string | number | boolean | undefined | null | readonly string[];

export interface RequestSpec {
  method: 'GET' | 'HEAD' | 'PUT' | 'POST' | 'DELETE' | 'PATCH';
  /** Path after the base URL, already encoded, e.g. `/v1/files/demo/a%20b.md`. */
  path: string;
  query?: Record<string, QueryValue>;
  /** Sent as a JSON body. */
  json?: unknown;
  /** A raw body (put). */
  body?: BodyInput;
  onProgress?: (bytesSent: number) => void;
  headers?: Record<string, string | undefined>;
  call?: CallOptions;
  /** Non-2xx statuses that are answers rather than errors (e.g. 503 from /readyz). */
  accept?: readonly number[];
}

/**
 * Encode a namespace path for a URL: NFC, one leading slash, each segment percent-encoded
 * (so `#`, `?`, `%` and spaces survive), the slashes kept. A path without a leading `/` is
 * taken from the root, like MCP paths.
 */
export function encodePath(path: string): string {
  const segments = path.normalize('NFC').replace(/^\/*/, '/').split('/');
  // A URL parser would resolve these before sending, turning the request into another one.
  if (segments.some((s) => s === '.' || s === '..')) throw new BatonClientError('invalid_path', `path has a . or .. segment: ${path}`);
  return segments.map(encodeURIComponent).join('/');
}

/** The bare value of an `ETag` header (no quotes, no weak marker). */
export function bareEtag(header: string | null): string | null {
  if (header === null) return null;
  return header.trim().replace(/^W\//, '').replace(/^"(.*)"$/, '$1');
}

/** `If-Match` wants a quoted entity tag; the API's JSON hands out bare ones. */
export function quoteEtag(etag: string): string {
  const t = etag.trim();
  return t === '*' || t.startsWith('"') || t.startsWith('W/') ? t : `"${t}"`;
}

const PROGRESS_CHUNK = 1 << 20;
const encoder = new TextEncoder();

function isAsyncIterable(x: unknown): x is AsyncIterable<Uint8Array | string> {
  return typeof x === 'object' && x !== null && Symbol.asyncIterator in x;
}

/** An async iterable of bytes (a Node stream, a generator) as a web stream, counting as it goes. */
function streamOf(source: AsyncIterable<Uint8Array | string>, onChunk: (n: number) => void, onError: (e: unknown) => void): ReadableStream<Uint8Array> {
  let it: AsyncIterator<Uint8Array | string> | undefined;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        it ??= source[Symbol.asyncIterator]();
        const { value, done } = await it.next();
        if (done) {
          controller.close();
          return;
        }
        const bytes = typeof value === 'string' ? encoder.encode(value) : value;
        onChunk(bytes.byteLength);
        controller.enqueue(bytes);
      } catch (err) {
        onError(err);
        controller.error(err);
      }
    },
    async cancel(reason) {
      await it?.return?.(reason);
    },
  });
}

async function* chunksOf(bytes: Uint8Array): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < bytes.byteLength; i += PROGRESS_CHUNK) yield bytes.subarray(i, i + PROGRESS_CHUNK);
}

/** The fetch body for a put. Strings become bytes so fetch adds no `text/plain` type of its own. */
function toFetchBody(
  body: BodyInput,
  onProgress: ((n: number) => void) | undefined,
  onError: (e: unknown) => void,
): { body: BodyInit; streaming: boolean } {
  let sent = 0;
  const count = (n: number) => {
    sent += n;
    onProgress?.(sent);
  };
  if (typeof body === 'string') body = encoder.encode(body);
  if (body instanceof ArrayBuffer) body = new Uint8Array(body);
  if (body instanceof Uint8Array) {
    if (!onProgress) return { body: body as Uint8Array<ArrayBuffer>, streaming: false };
    return { body: streamOf(chunksOf(body), count, onError), streaming: true };
  }
  if (typeof Blob !== 'undefined' && body instanceof Blob) {
    if (!onProgress) return { body, streaming: false };
    return { body: streamOf(body.stream() as unknown as AsyncIterable<Uint8Array>, count, onError), streaming: true };
  }
  if (body instanceof ReadableStream) {
    const reader = body.getReader();
    const iter: AsyncIterable<Uint8Array> = {
      async *[Symbol.asyncIterator]() {
        try {
          for (;;) {
            const { value, done } = await reader.read();
            if (done) return;
            yield value;
          }
        } finally {
          reader.releaseLock();
        }
      },
    };
    return { body: streamOf(iter, count, onError), streaming: true };
  }
  if (isAsyncIterable(body)) return { body: streamOf(body, count, onError), streaming: true };
  throw new BatonClientError('bad_request', 'unsupported body type: pass a string, Uint8Array, Blob, ReadableStream or async iterable');
}

function networkMessage(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } } | null)?.cause;
  return cause?.code ?? cause?.message ?? (err instanceof Error ? err.message : String(err));
}

/** One HTTP exchange with Baton: URL, auth, headers, body, and the error contract. */
export class Transport {
  readonly baseUrl: string;
  private readonly key: string | undefined;
  private readonly fetchImpl: typeof fetch;
  private readonly headers: Record<string, string>;
  private readonly timeoutMs: number | undefined;

  constructor(opts: BatonClientOptions) {
    if (!opts.url) throw new BatonClientError('bad_request', 'BatonClient needs a url');
    this.baseUrl = opts.url.replace(/\/+$/, '');
    this.key = opts.key;
    this.fetchImpl = opts.fetch ?? globalThis.fetch.bind(globalThis);
    this.headers = opts.headers ?? {};
    this.timeoutMs = opts.timeoutMs;
  }

  url(path: string, query?: Record<string, QueryValue>): string {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(query ?? {})) {
      if (v === undefined || v === null || v === false) continue;
      if (Array.isArray(v)) for (const x of v as readonly string[]) params.append(k, x);
      else params.append(k, v === true ? '1' : String(v));
    }
    const qs = params.toString();
    return `${this.baseUrl}${path}${qs ? `?${qs}` : ''}`;
  }

  /** Send a request; a non-2xx answer (not in `accept`) is thrown as a BatonClientError. */
  async request(spec: RequestSpec): Promise<Response> {
    const headers: Record<string, string> = { ...this.headers };
    if (this.key) headers.authorization = `Bearer ${this.key}`;
    const call = spec.call ?? {};
    if (call.causation) headers['baton-causation'] = call.causation;
    if (call.fencing) {
      headers['baton-ticket'] = call.fencing.ticket;
      headers['baton-fencing-token'] = String(call.fencing.token);
    }
    for (const [k, v] of Object.entries({ ...spec.headers, ...call.headers })) {
      if (v !== undefined) headers[k.toLowerCase()] = v;
    }

    let bodyError: unknown;
    const init: RequestInit & { duplex?: 'half' } = { method: spec.method, headers };
    if (spec.json !== undefined) {
      init.body = JSON.stringify(spec.json);
      headers['content-type'] = 'application/json';
    } else if (spec.body !== undefined) {
      const b = toFetchBody(spec.body, spec.onProgress, (e) => (bodyError ??= e));
      init.body = b.body;
      if (b.streaming) init.duplex = 'half';
    }

    const signals: AbortSignal[] = [];
    if (call.signal) signals.push(call.signal);
    const timeout = this.timeoutMs !== undefined ? AbortSignal.timeout(this.timeoutMs) : undefined;
    if (timeout) signals.push(timeout);
    if (signals.length === 1) init.signal = signals[0]!;
    else if (signals.length > 1) init.signal = AbortSignal.any(signals);

    let res: Response;
    try {
      res = await this.fetchImpl(this.url(spec.path, spec.query), init);
    } catch (err) {
      if (bodyError !== undefined) throw bodyError;
      if (call.signal?.aborted) throw err;
      if (timeout?.aborted) {
        throw new BatonClientError('unavailable', `no answer from ${this.baseUrl} within ${this.timeoutMs} ms`, { cause: err });
      }
      throw new BatonClientError('unavailable', `cannot reach ${this.baseUrl}: ${networkMessage(err)}`, { cause: err });
    }
    if (res.ok || spec.accept?.includes(res.status)) return res;
    throw await errorFrom(res, spec.method);
  }

  /** Send a request and parse the JSON answer. */
  async json<T>(spec: RequestSpec): Promise<T> {
    const res = await this.request(spec);
    return (await res.json()) as T;
  }
}

async function errorFrom(res: Response, method: string): Promise<BatonClientError> {
  const retryAfter = parseRetryAfter(res.headers.get('retry-after'));
  let code: string = codeForStatus(res.status);
  let message = `HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}`;
  if (method !== 'HEAD') {
    const text = await res.text().catch(() => '');
    try {
      const parsed = JSON.parse(text) as { error?: { code?: unknown; message?: unknown } };
      if (typeof parsed.error?.code === 'string') code = parsed.error.code;
      if (typeof parsed.error?.message === 'string') message = parsed.error.message;
    } catch {
      if (text.trim()) message = `${message}: ${text.trim().slice(0, 200)}`;
    }
  } else {
    await res.body?.cancel().catch(() => undefined);
  }
  return new BatonClientError(code, message, { status: res.status, ...(retryAfter === undefined ? {} : { retryAfter }) });
}
