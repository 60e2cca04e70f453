import type { Redis } from 'ioredis';
import { LuaScript } from '../redis/lua-script.js';
import { newEventId, type BatonEvent, type NewEvent } from './event.js';

const NOTIFY_CHANNEL = 'baton:events:notify';

const k = {
  seq: (ws: string) => `baton:ev:${ws}:seq`,
  stream: (ws: string) => `baton:ev:${ws}:log`,
  index: (ws: string) => `baton:ev:${ws}:index`,
  ids: (ws: string) => `baton:ev:${ws}:ids`,
};

/**
 * Numbering, appending, index update and notification happen in one Lua script, so an event
 * is either wholly in the log with its `seq` or not at all. The index maps each live path to
 * the etag its last event reported; with `onlyIfChanged`, an event whose state the index
 * already holds is dropped — that is how a change seen twice (watcher and rescan, or two
 * replicas) is reported once.
 *
 * It takes any number of events of one workspace (8 arguments each), judged and appended in
 * turn, and returns each event's seq, 0 when `onlyIfChanged` dropped it: one round trip and one
 * notification for a burst of changes.
 */
const APPEND_MANY = new LuaScript(`
local seqs = {}
local last = 0
for i = 0, #ARGV / 8 - 1 do
  local b = i * 8
  local path, etag, mode, json, from, onlyIfChanged, id = ARGV[b+1], ARGV[b+2], ARGV[b+3], ARGV[b+4], ARGV[b+5], ARGV[b+6], ARGV[b+7]
  local skip = false
  if onlyIfChanged == '1' then
    local cur = redis.call('HGET', KEYS[3], path)
    if mode == 'set' and cur == etag then skip = true end
    if mode == 'del' and not cur then skip = true end
  end
  if skip then
    seqs[i + 1] = 0
  else
    local seq = redis.call('INCR', KEYS[1])
    local body = string.sub(json, 1, -2) .. ',"seq":' .. seq .. '}'
    redis.call('XADD', KEYS[2], seq .. '-0', 'e', body)
    if mode == 'set' then redis.call('HSET', KEYS[3], path, etag) elseif mode == 'del' then redis.call('HDEL', KEYS[3], path) end
    if from ~= '' then redis.call('HDEL', KEYS[3], from) end
    redis.call('HSET', KEYS[4], id, seq)
    seqs[i + 1] = seq
    last = seq
  end
end
if last > 0 then redis.call('PUBLISH', '${NOTIFY_CHANNEL}', ARGV[8] .. ':' .. last) end
return seqs
`);

export interface AppendOptions {
  /** How the event changes the index: 'set' the path's etag, 'del' it, or leave it. */
  index: 'set' | 'del' | 'none';
  onlyIfChanged?: boolean;
}

/** The durable, ordered, per-workspace event log (Redis streams with IDs `<seq>-0`). */
export class EventLog {
  private listeners = new Set<(ws: string, seq: number) => void>();
  private subscriber: Redis | null = null;

  constructor(private readonly redis: Redis) {}

  /** One subscriber connection per process wakes every long-poll and SSE stream. */
  async start(): Promise<void> {
    this.subscriber = this.redis.duplicate();
    this.subscriber.on('error', () => undefined);
    await this.subscriber.subscribe(NOTIFY_CHANNEL);
    this.subscriber.on('message', (_ch: string, msg: string) => {
      const i = msg.lastIndexOf(':');
      const ws = msg.slice(0, i);
      const seq = Number(msg.slice(i + 1));
      for (const l of this.listeners) l(ws, seq);
    });
  }

  async stop(): Promise<void> {
    this.listeners.clear();
    await this.subscriber?.quit().catch(() => undefined);
  }

  onAppend(listener: (ws: string, seq: number) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Append; returns the event with its seq, or null when `onlyIfChanged` found nothing new. */
  async append(input: NewEvent, opts: AppendOptions): Promise<BatonEvent | null> {
    return (await this.appendMany([{ input, opts }]))[0] ?? null;
  }

  /**
   * Append the events of one workspace in one script call, in order, each with its options.
   * Returns, per input, the event with its seq, or null when `onlyIfChanged` found nothing new.
   */
  async appendMany(items: ReadonlyArray<{ input: NewEvent; opts: AppendOptions }>): Promise<Array<BatonEvent | null>> {
    if (items.length === 0) return [];
    const ws = items[0]!.input.workspace;
    if (items.some((it) => it.input.workspace !== ws)) throw new Error('appendMany: events of one workspace only');
    const time = new Date().toISOString();
    const events = items.map(({ input }) => ({ ...input, id: newEventId(), time: input.time ?? time }));
    const args: string[] = [];
    events.forEach((event, i) => {
      const { input, opts } = items[i]!;
      args.push(input.path, input.etag ?? '', opts.index, JSON.stringify(event), input.from ?? '', opts.onlyIfChanged ? '1' : '0', event.id, ws);
    });
    const seqs = (await APPEND_MANY.run(this.redis, [k.seq(ws), k.stream(ws), k.index(ws), k.ids(ws)], args)) as number[];
    return events.map((event, i) => (seqs[i] ? { ...event, seq: seqs[i] } : null));
  }

  async lastSeq(ws: string): Promise<number> {
    return Number((await this.redis.get(k.seq(ws))) ?? 0);
  }

  /** Events of one workspace with seq > after, oldest first. */
  async read(ws: string, after: number, count: number): Promise<BatonEvent[]> {
    const rows = (await this.redis.xrange(k.stream(ws), `${after + 1}-0`, '+', 'COUNT', count)) as Array<[string, string[]]>;
    return rows.map(([, fields]) => JSON.parse(fields[1]!) as BatonEvent);
  }

  async byId(ws: string, id: string): Promise<BatonEvent | null> {
    const seq = await this.redis.hget(k.ids(ws), id);
    if (!seq) return null;
    const rows = (await this.redis.xrange(k.stream(ws), `${seq}-0`, `${seq}-0`)) as Array<[string, string[]]>;
    return rows[0] ? (JSON.parse(rows[0][1][1]!) as BatonEvent) : null;
  }

  async indexed(ws: string, path: string): Promise<string | null> {
    return this.redis.hget(k.index(ws), path);
  }

  /** The paths the index holds, a chunk at a time (HSCAN: no copy of the whole index in memory). */
  async *indexedPaths(ws: string, chunk: number): AsyncGenerator<string[]> {
    let cursor = '0';
    do {
      const [next, flat] = await this.redis.hscan(k.index(ws), cursor, 'COUNT', chunk);
      cursor = next;
      const paths: string[] = [];
      for (let i = 0; i < flat.length; i += 2) paths.push(flat[i]!);
      if (paths.length > 0) yield paths;
    } while (cursor !== '0');
  }

  /** `indexed` for many paths of one workspace in one round trip, in the same order. */
  async indexedMany(ws: string, paths: readonly string[]): Promise<Array<string | null>> {
    if (paths.length === 0) return [];
    return this.redis.hmget(k.index(ws), ...paths);
  }

  /** Drop events older than the retention, in batches; the index is kept (it describes the present). */
  async trim(ws: string, olderThan: Date): Promise<number> {
    let cut = 0;
    let dropped = 0;
    for (;;) {
      const batch = await this.read(ws, cut, 500);
      const old = batch.filter((e) => Date.parse(e.time) < olderThan.getTime());
      if (old.length > 0) {
        await this.redis.hdel(k.ids(ws), ...old.map((e) => e.id));
        cut = old.at(-1)!.seq;
        dropped += old.length;
      }
      if (old.length === 0 || old.length < batch.length) break;
    }
    if (cut > 0) await this.redis.xtrim(k.stream(ws), 'MINID', `${cut + 1}-0`);
    return dropped;
  }
}
