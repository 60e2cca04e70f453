import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { LuaScript } from '../redis/lua-script.js';
import { AppendFile, ensureDir, listDir, readLines } from '../storage/local/host-files.js';
import { GENESIS, hashEntry, type AuditEntry, type AuditFields } from './entry.js';

const SEQ_KEY = 'baton:audit:seq';

/** Separates the two ends of a move in an entry's path: `FROM -> TO`. */
export const MOVE_ARROW = ' -> ';

/** Whether an entry is about `path` or something under it; a move is about both its ends. */
function namesPath(entryPath: string | null, path: string): boolean {
  if (!entryPath) return false;
  const under = path.endsWith('/') ? path : path + '/';
  return entryPath.split(MOVE_ARROW).some((p) => p === path || p.startsWith(under));
}
const HEADS_KEY = 'baton:audit:heads';
/** Per segment, the last range of numbers it reserved (`first:last`), set in the same script as the reservation. */
const RESERVED_KEY = 'baton:audit:reserved';
const RESERVE = new LuaScript(
  "local last = redis.call('INCRBY', KEYS[1], ARGV[1]) redis.call('HSET', KEYS[2], ARGV[2], (last - tonumber(ARGV[1]) + 1) .. ':' .. last) return last",
);
/** Raises the counter to at least ARGV[1], never lowers it. */
const RAISE_TO = new LuaScript("local c = tonumber(redis.call('GET', KEYS[1]) or '0') if c < tonumber(ARGV[1]) then redis.call('SET', KEYS[1], ARGV[1]) end return 1");
const WITNESS_MS = 50;

export interface AuditQuery {
  path?: string;
  actor?: string;
  action?: string;
  since?: string;
  after?: number;
  limit: number;
  visible?: (e: AuditEntry) => boolean;
}

interface Pending {
  fields: AuditFields;
  /** performance.now() when accepted. */
  at: number;
  resolve: () => void;
  reject: (e: unknown) => void;
}

export type VerifyResult =
  | { ok: true; entries: number; unwritten?: number[] }
  | { ok: false; entries: number; firstBad: Partial<AuditEntry> & { seq: number }; reason: string };

/**
 * The audit trail: append-only, hash-chained, on disk under `<data>/.baton/audit/`. Each
 * process writes its own segment, chained entry to entry, so replicas never contend for a file;
 * Redis hands out one global `seq` so the segments merge into one order, and keeps each
 * segment's head as a witness, so removing entries from the end of a segment shows too.
 */
export class AuditLog {
  private readonly segment: string;
  private file: AppendFile;
  private prev = GENESIS;
  private queue: Pending[] = [];
  /** The batch being numbered and written: accepted, not yet on disk. */
  private writing: Pending[] = [];
  private draining: Promise<void> | null = null;
  private head: string | null = null;
  private witnessTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly dir: string,
    private readonly redis: Redis,
  ) {
    const stamp = new Date().toISOString().replace(/[-:.]/g, '');
    this.segment = `${stamp}-${process.pid}-${randomBytes(3).toString('hex')}`;
    this.file = new AppendFile(join(dir, `${this.segment}.jsonl`));
  }

  async open(): Promise<void> {
    await ensureDir(this.dir);
    await this.file.open();
    // A Redis that lost its data must not hand out numbers already on disk.
    const max = await this.maxSeqOnDisk();
    await RAISE_TO.run(this.redis, [SEQ_KEY], [max]);
  }

  /** Resolves once the entry is durable. Entries are numbered and written in call order. */
  record(fields: AuditFields): Promise<void> {
    const done = new Promise<void>((resolve, reject) => this.queue.push({ fields, at: performance.now(), resolve, reject }));
    if (!this.draining) this.draining = this.drain();
    return done;
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue;
      this.queue = [];
      this.writing = batch;
      try {
        // The range is recorded with the reservation, atomically: if this process dies (or loses
        // Redis's reply) before the lines reach the file, verify can prove those numbers were
        // reserved by this segment and never written, rather than taking the gap for a removal.
        const last = Number(await RESERVE.run(this.redis, [SEQ_KEY, RESERVED_KEY], [batch.length, this.segment]));
        let seq = last - batch.length;
        const lines: Promise<void>[] = [];
        let head = '';
        for (const item of batch) {
          const base = { seq: ++seq, segment: this.segment, ...item.fields, prev: this.prev };
          const entry: AuditEntry = { ...base, hash: hashEntry(base) };
          this.prev = entry.hash;
          head = `${entry.seq}:${entry.hash}`;
          lines.push(this.file.append(JSON.stringify(entry) + '\n'));
        }
        await Promise.all(lines);
        this.witnessSoon(head);
        for (const item of batch) item.resolve();
      } catch (err) {
        for (const item of batch) item.reject(err);
      }
    }
    this.writing = [];
    this.draining = null;
  }

  /** Entries accepted but not yet on disk, and how long the oldest has waited. */
  backlog(): { entries: number; oldestSeconds: number } {
    const oldest = this.writing[0] ?? this.queue[0];
    return { entries: this.writing.length + this.queue.length, oldestSeconds: oldest ? (performance.now() - oldest.at) / 1000 : 0 };
  }

  /**
   * The witness may lag the segment by up to WITNESS_MS (a lagging witness is never mistaken for
   * tampering; only entries missing below it are): one Redis write per burst, not per entry.
   */
  private witnessSoon(head: string): void {
    this.head = head;
    this.witnessTimer ??= setTimeout(() => void this.witness(), WITNESS_MS).unref();
  }

  private async witness(): Promise<void> {
    if (this.witnessTimer) clearTimeout(this.witnessTimer);
    this.witnessTimer = null;
    if (this.head) await this.redis.hset(HEADS_KEY, this.segment, this.head).catch(() => this.witnessSoon(this.head!));
  }

  async flush(): Promise<void> {
    while (this.draining) await this.draining;
    if (this.witnessTimer) await this.witness();
  }

  async close(): Promise<void> {
    await this.flush();
    await this.file.close();
  }

  private async segments(): Promise<string[]> {
    return (await listDir(this.dir)).filter((f) => f.endsWith('.jsonl'));
  }

  private async maxSeqOnDisk(): Promise<number> {
    let max = 0;
    for (const f of await this.segments()) {
      for await (const line of readLines(join(this.dir, f))) {
        try {
          max = Math.max(max, (JSON.parse(line) as AuditEntry).seq);
        } catch {
          // verify reports unreadable lines; numbering only needs the highest readable seq
        }
      }
    }
    return max;
  }

  /** Every entry of every segment, merged into global order. */
  private async readAll(): Promise<AuditEntry[]> {
    const all: AuditEntry[] = [];
    for (const f of await this.segments()) {
      for await (const line of readLines(join(this.dir, f))) {
        if (!line) continue;
        try {
          all.push(JSON.parse(line) as AuditEntry);
        } catch {
          continue;
        }
      }
    }
    return all.sort((a, b) => a.seq - b.seq);
  }

  async query(q: AuditQuery): Promise<{ entries: AuditEntry[]; cursor: string | null }> {
    await this.flush();
    const since = q.since ? Date.parse(q.since) : null;
    const out: AuditEntry[] = [];
    let more = false;
    for (const e of await this.readAll()) {
      if (q.after !== undefined && e.seq <= q.after) continue;
      if (q.actor && e.actor !== q.actor) continue;
      if (q.action && e.action !== q.action) continue;
      if (q.path && !namesPath(e.path, q.path)) continue;
      if (since !== null && Date.parse(e.time) < since) continue;
      if (q.visible && !q.visible(e)) continue;
      if (out.length === q.limit) {
        more = true;
        break;
      }
      out.push(e);
    }
    return { entries: out, cursor: more ? String(out.at(-1)!.seq) : null };
  }

  /**
   * Walk every chain and the global numbering; name the first entry (in seq order) that was
   * changed (its hash no longer matches), removed (a seq is missing, or a segment ends before
   * its witnessed head) or reordered (a segment's entries are out of order).
   */
  async verify(): Promise<VerifyResult> {
    await this.flush();
    const heads = await this.redis.hgetall(HEADS_KEY);
    const reserved = await this.redis.hgetall(RESERVED_KEY);
    const lastOnDisk = new Map<string, number>();
    const problems: Array<{ seq: number; entry: Partial<AuditEntry>; reason: string }> = [];
    const seen: AuditEntry[] = [];
    for (const f of await this.segments()) {
      const segment = f.replace(/\.jsonl$/, '');
      let prev = GENESIS;
      let lastSeq = 0;
      let lineNo = 0;
      for await (const line of readLines(join(this.dir, f))) {
        lineNo++;
        if (!line) continue;
        let e: AuditEntry;
        try {
          e = JSON.parse(line) as AuditEntry;
        } catch {
          problems.push({ seq: lastSeq + 1, entry: { seq: lastSeq + 1, segment }, reason: `unreadable line ${lineNo} in segment ${segment}` });
          continue;
        }
        seen.push(e);
        const { hash, ...rest } = e;
        if (hashEntry(rest) !== hash) {
          problems.push({ seq: e.seq, entry: e, reason: 'entry was changed: its hash does not match its content' });
        } else if (e.seq <= lastSeq) {
          problems.push({ seq: e.seq, entry: e, reason: 'entries were reordered: seq goes backwards in its segment' });
        } else if (e.prev !== prev) {
          problems.push({ seq: e.seq, entry: e, reason: 'chain is broken before this entry: an entry was removed or reordered' });
        }
        prev = hash;
        lastSeq = Math.max(lastSeq, e.seq);
      }
      lastOnDisk.set(segment, lastSeq);
      const head = heads[segment];
      if (head) {
        const [seqText, headHash] = head.split(':');
        const headSeq = Number(seqText);
        const witnessed = seen.find((e) => e.segment === segment && e.seq === headSeq);
        if (headSeq > lastSeq) {
          problems.push({ seq: lastSeq + 1, entry: { seq: lastSeq + 1, segment }, reason: `entries ${lastSeq + 1}..${headSeq} were removed from the end of segment ${segment}` });
        } else if (witnessed && witnessed.hash !== headHash) {
          // A chain can be rewritten from some entry to its end, consistently; the witness cannot.
          problems.push({ seq: headSeq, entry: witnessed, reason: `entry ${headSeq} differs from what Redis witnessed: the end of segment ${segment} was rewritten` });
        }
      }
    }
    // A number a segment reserved in its last batch, past the end of that segment on disk, was
    // never written: the process died (or lost Redis) between numbering and writing. A removal
    // cannot pass for this: entries taken from the middle break the chain, and entries taken
    // from the end were already witnessed (checked above) unless they were the final batch.
    const neverWritten = (n: number) =>
      Object.entries(reserved).some(([segment, range]) => {
        const [first, last] = range.split(':').map(Number) as [number, number];
        return n >= first && n <= last && n > (lastOnDisk.get(segment) ?? 0);
      });
    seen.sort((a, b) => a.seq - b.seq);
    const unwritten: number[] = [];
    let removed: number | null = null;
    let expected = 1;
    for (const e of seen) {
      for (; expected < e.seq && removed === null; expected++) {
        if (neverWritten(expected)) unwritten.push(expected);
        else removed = expected;
      }
      if (removed !== null) break;
      expected = Math.max(expected, e.seq + 1);
    }
    if (removed !== null) problems.push({ seq: removed, entry: { seq: removed }, reason: `entry ${removed} is missing: it was removed` });
    if (problems.length === 0) return { ok: true, entries: seen.length, ...(unwritten.length ? { unwritten } : {}) };
    problems.sort((a, b) => a.seq - b.seq);
    const first = problems[0]!;
    return { ok: false, entries: seen.length, firstBad: { ...first.entry, seq: first.seq }, reason: first.reason };
  }
}
