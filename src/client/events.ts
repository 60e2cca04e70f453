import { BatonClientError } from './errors.js';
import type { Transport } from './transport.js';
import type { BatonEvent, EventCursorInput, EventPage, EventsQuery, EventStreamOptions } from './types.js';

/** One Server-Sent Events frame (WHATWG HTML §9.2): `event` defaults to `message`. */
export interface SseFrame {
  event: string;
  data: string;
  /** The frame's `id:` field, when it had one. */
  id?: string;
  /** The frame's `retry:` field (milliseconds), when it had one. */
  retry?: number;
}

/**
 * Parse a `text/event-stream` body into frames. Lines end with CRLF, LF or CR (a CR at the end
 * of a chunk waits for the next one, in case an LF follows); `:` lines are comments; a blank line
 * ends a frame; an unfinished frame at the end of the body is dropped, as the spec says.
 */
export async function* parseSse(body: ReadableStream<Uint8Array>): AsyncGenerator<SseFrame, void, undefined> {
  const reader = body.getReader();
  const decoder = new TextDecoder(); // drops a leading BOM
  let buf = '';
  let event = '';
  let data: string[] = [];
  let id: string | undefined;
  let retry: number | undefined;
  let seen = false;
  const field = (line: string): SseFrame | undefined => {
    if (line === '') {
      const frame: SseFrame | undefined = seen ? { event: event || 'message', data: data.join('\n'), ...(id === undefined ? {} : { id }), ...(retry === undefined ? {} : { retry }) } : undefined;
      event = '';
      data = [];
      id = undefined;
      retry = undefined;
      seen = false;
      return frame;
    }
    if (line.startsWith(':')) return undefined;
    const c = line.indexOf(':');
    const name = c < 0 ? line : line.slice(0, c);
    const value = c < 0 ? '' : line.slice(line.charCodeAt(c + 1) === 32 ? c + 2 : c + 1);
    if (name === 'event') event = value;
    else if (name === 'data') data.push(value);
    else if (name === 'id' && !value.includes('\0')) id = value;
    else if (name === 'retry' && /^\d+$/.test(value)) retry = Number(value);
    else return undefined;
    seen = true;
    return undefined;
  };
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buf += decoder.decode(value, { stream: true });
      let start = 0;
      for (let i = 0; i < buf.length; i++) {
        const ch = buf.charCodeAt(i);
        if (ch !== 10 && ch !== 13) continue;
        if (ch === 13 && i + 1 === buf.length) break;
        const line = buf.slice(start, i);
        if (ch === 13 && buf.charCodeAt(i + 1) === 10) i++;
        start = i + 1;
        const frame = field(line);
        if (frame) yield frame;
      }
      buf = buf.slice(start);
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
}

const MAX_RETRY_DELAY_MS = 30_000;

/** Connection trouble worth a reconnect: no answer, a 5xx, a rate limit, a cut body. */
function retryable(err: unknown): boolean {
  if (err instanceof BatonClientError) return err.code === 'unavailable' || err.code === 'rate_limited' || err.status >= 500;
  return true;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

function decodeEvent(data: string): BatonEvent {
  let e: unknown;
  try {
    e = JSON.parse(data);
  } catch {
    throw new BatonClientError('internal', `the event stream sent a frame that is not JSON: ${data.slice(0, 200)}`);
  }
  if (!e || typeof e !== 'object' || typeof (e as BatonEvent).id !== 'string') {
    throw new BatonClientError('internal', `the event stream sent a frame that is not an event: ${data.slice(0, 200)}`);
  }
  return e as BatonEvent;
}

function cursorParam(after: EventCursorInput | undefined): string | undefined {
  return after === undefined ? undefined : String(after);
}

/**
 * Events as an async iterator that knows its position: `cursor` is the cursor after the last
 * event handed out (or the starting one), so `after: it.cursor` resumes exactly there.
 * Breaking out of a `for await`, `close()`, or the caller's signal ends it without an error.
 */
export class EventIterator implements AsyncIterableIterator<BatonEvent> {
  private readonly state: { cursor: string | null };
  private readonly ac = new AbortController();
  private readonly gen: AsyncGenerator<BatonEvent, void, undefined>;

  constructor(
    after: EventCursorInput | undefined,
    signal: AbortSignal | undefined,
    body: (state: { cursor: string | null }, signal: AbortSignal) => AsyncGenerator<BatonEvent, void, undefined>,
  ) {
    this.state = { cursor: cursorParam(after) ?? null };
    const stop = () => this.ac.abort();
    if (signal?.aborted) stop();
    else signal?.addEventListener('abort', stop, { once: true });
    const inner = body(this.state, this.ac.signal);
    const ac = this.ac;
    this.gen = (async function* () {
      try {
        yield* inner;
      } finally {
        ac.abort();
        signal?.removeEventListener('abort', stop);
      }
    })();
  }

  /** Where a later read resumes; null until a stream that started "from now" is connected. */
  get cursor(): string | null {
    return this.state.cursor;
  }

  next(): Promise<IteratorResult<BatonEvent, void>> {
    return this.gen.next();
  }

  return(): Promise<IteratorResult<BatonEvent, void>> {
    this.ac.abort();
    return this.gen.return(undefined);
  }

  /** Stop: a pending next() resolves as done. */
  close(): void {
    this.ac.abort();
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}

/** `/v1/events` and `/v1/events/stream`: the ordered events the key may read. */
export class EventsApi {
  constructor(private readonly t: Transport) {}

  /**
   * One page after `after` (absent: from now; `0`: from the oldest retained event), waiting up
   * to `wait` seconds for the first event. Pass the answer's `cursor` back to continue.
   */
  read(q: EventsQuery = {}): Promise<EventPage> {
    const { path, after, wait, limit, ...call } = q;
    return this.t.json({ method: 'GET', path: '/v1/events', query: { path, after: cursorParam(after), wait, limit }, call });
  }

  /**
   * Every event there is now, paging with `wait=0` from `after` until a page adds nothing;
   * then `cursor` is where a later read continues. Without `after` it starts from now.
   */
  readAll(q: Omit<EventsQuery, 'wait'> = {}): EventIterator {
    const { after, signal, ...rest } = q;
    return new EventIterator(after, signal, (state, signal) => this.pages(rest, state, signal));
  }

  private async *pages(q: Omit<EventsQuery, 'wait' | 'after' | 'signal'>, state: { cursor: string | null }, signal: AbortSignal): AsyncGenerator<BatonEvent, void, undefined> {
    while (!signal.aborted) {
      const before = state.cursor;
      let page: EventPage;
      try {
        page = await this.read({ ...q, after: before ?? undefined, wait: 0, signal });
      } catch (err) {
        if (signal.aborted) return;
        throw err;
      }
      state.cursor = page.cursor;
      yield* page.events;
      // An empty page whose cursor moved (past events this key may not see) is not the end.
      if (page.events.length === 0 && page.cursor === before) return;
    }
  }

  /**
   * Follow events over Server-Sent Events. The first frame (`ready`) carries the starting
   * cursor; each event frame's id is the cursor after it. A dropped connection is reopened with
   * `Last-Event-ID`, so nothing is lost or repeated; `cursor` on the iterator is the position.
   *
   *     const ac = new AbortController();
   *     for await (const e of baton.events.stream({ path: '/demo/inbox/**', signal: ac.signal })) console.log(e.path);
   */
  stream(opts: EventStreamOptions = {}): EventIterator {
    return new EventIterator(opts.after, opts.signal, (state, signal) => this.sse(opts, state, signal));
  }

  /**
   * Call `onEvent` for each event (awaited, one at a time) until `signal` aborts; resolves with
   * the cursor to resume from. An error thrown by `onEvent` closes the stream and rejects.
   */
  async follow(onEvent: (event: BatonEvent, cursor: string) => unknown, opts: EventStreamOptions = {}): Promise<string | null> {
    const it = this.stream(opts);
    for await (const e of it) await onEvent(e, it.cursor!);
    return it.cursor;
  }

  private async *sse(opts: EventStreamOptions, state: { cursor: string | null }, signal: AbortSignal): AsyncGenerator<BatonEvent, void, undefined> {
    let base = opts.retryDelayMs ?? 1000;
    let delay = base;
    let attempt = 0;
    while (!signal.aborted) {
      let reason: unknown;
      let waitMs = delay;
      try {
        const resume = attempt++ > 0 ? (state.cursor ?? undefined) : undefined;
        const res = await this.t.request({
          method: 'GET',
          path: '/v1/events/stream',
          query: { path: opts.path, after: resume === undefined ? (state.cursor ?? undefined) : undefined },
          headers: { ...opts.headers, accept: 'text/event-stream', 'cache-control': 'no-cache', 'last-event-id': resume },
          call: { signal },
        });
        if (!res.body) throw new BatonClientError('unavailable', 'the event stream has no body');
        for await (const frame of parseSse(res.body)) {
          if (frame.retry !== undefined) base = delay = frame.retry;
          if (frame.event === 'ready') {
            if (frame.id) state.cursor = frame.id;
            delay = base;
            opts.onReady?.(state.cursor ?? '');
            continue;
          }
          if (frame.event === 'ping' || frame.data === '') {
            if (frame.id) state.cursor = frame.id;
            continue;
          }
          const event = decodeEvent(frame.data);
          if (frame.id) state.cursor = frame.id;
          yield event;
        }
        reason = new BatonClientError('unavailable', 'the server closed the event stream');
      } catch (err) {
        if (signal.aborted) return;
        if (!retryable(err) || opts.reconnect === false) throw err;
        reason = err;
        if (err instanceof BatonClientError && err.retryAfter !== undefined) waitMs = Math.max(waitMs, err.retryAfter * 1000);
      }
      if (opts.reconnect === false) return;
      opts.onReconnect?.(reason, waitMs);
      await sleep(waitMs, signal);
      delay = Math.min(delay * 2, MAX_RETRY_DELAY_MS);
    }
  }
}
