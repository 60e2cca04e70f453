import type { client } from './http.js';

type Api = ReturnType<typeof client>;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Ev = any;

/** Every retained event matching `glob` (oldest first), paging `after=0` → cursor → … until an empty page. */
export async function allEvents(api: Api, glob = '/**', limit = 1000): Promise<Ev[]> {
  const out: Ev[] = [];
  let after = '0';
  for (let i = 0; i < 10_000; i++) {
    const r = await api.call('GET', `/v1/events?after=${encodeURIComponent(after)}&limit=${limit}&path=${encodeURIComponent(glob)}`);
    if (r.status !== 200) throw new Error(`GET /v1/events: ${r.status} ${r.text}`);
    out.push(...r.json.events);
    if (r.json.events.length === 0) return out;
    after = r.json.cursor;
  }
  throw new Error('allEvents: too many pages');
}

export interface SseFrame {
  event: string;
  id: string | null;
  data: string;
}

/**
 * An open Server-Sent Events stream: frames are parsed as they arrive; `next()` waits for the
 * next one. `close()` aborts the request.
 */
export async function openSse(url: string, token: string, headers: Record<string, string> = {}) {
  const ac = new AbortController();
  const res = await fetch(url, { headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream', ...headers }, signal: ac.signal });
  const frames: SseFrame[] = [];
  const wake: { fn: (() => void) | null } = { fn: null };
  let ended = false;
  const pump = (async () => {
    if (!res.body) return;
    const reader = res.body.getReader();
    const dec = new TextDecoder();
    let buf = '';
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buf += dec.decode(value, { stream: true }).replace(/\r\n/g, '\n');
        let i: number;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, i);
          buf = buf.slice(i + 2);
          const f: SseFrame = { event: 'message', id: null, data: '' };
          const data: string[] = [];
          for (const line of block.split('\n')) {
            if (line.startsWith(':')) continue;
            const c = line.indexOf(':');
            const field = c < 0 ? line : line.slice(0, c);
            const value = c < 0 ? '' : line.slice(c + 1).replace(/^ /, '');
            if (field === 'event') f.event = value;
            else if (field === 'id') f.id = value;
            else if (field === 'data') data.push(value);
          }
          f.data = data.join('\n');
          frames.push(f);
          wake.fn?.();
        }
      }
    } catch {
      // aborted
    } finally {
      ended = true;
      wake.fn?.();
    }
  })();
  let read = 0;
  return {
    status: res.status,
    frames,
    /** The next frame not yet returned, skipping pings; rejects after `timeoutMs`. */
    async next(timeoutMs = 5000): Promise<SseFrame> {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        while (read < frames.length) {
          const f = frames[read++]!;
          if (f.event !== 'ping') return f;
        }
        if (ended) throw new Error('SSE stream ended');
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`no SSE frame within ${timeoutMs} ms`);
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, left);
          wake.fn = () => {
            clearTimeout(t);
            wake.fn = null;
            resolve();
          };
        });
      }
    },
    async close(): Promise<void> {
      ac.abort();
      await pump;
    },
  };
}
