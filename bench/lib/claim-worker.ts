/**
 * A ticket claimer run as a separate process by bench/claims.ts:
 *   node --import tsx bench/lib/claim-worker.ts
 * It prints `ready`, then reads one JSON job per stdin line, runs it and prints one JSON report
 * line per job; it exits when stdin closes. So the same 8 processes (started once, their start-up
 * not timed) drain both the floor's folder and Baton's queue.
 *
 * Jobs:
 * - `api`: loop POST /v1/tickets/claim → POST /v1/tickets/complete until the queue answers 204
 *   twice in a row.
 * - `rename`: claim by `fs.renameSync(pending/x, in-progress/x)` (ENOENT = another process won
 *   the race), complete by `renameSync(in-progress/x, done/x)`; until pending/ is empty.
 * Every loop is bounded by `deadlineMs` and by `maxOps` attempts.
 * Times are `process.hrtime.bigint()` (CLOCK_MONOTONIC, comparable across processes on one machine).
 */
import { readdirSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { HttpClient } from './http.js';

export type ClaimJob =
  | { mode: 'api'; url: string; key: string; queue: string; deadlineMs: number; maxOps: number }
  | { mode: 'rename'; dir: string; deadlineMs: number; maxOps: number };

export interface ClaimReport {
  /** Ticket names this worker claimed, in order (a name twice here or across workers = a double claim). */
  claimed: string[];
  /** Ticket names this worker completed. */
  completed: string[];
  /** Fencing tokens given to this worker (api only). */
  tokens: number[];
  /** Claim latency (request sent → answer read, or one rename), ms, for successful claims. */
  claimMs: number[];
  /** Claim + complete, ms. */
  cycleMs: number[];
  /** Attempts that lost a race (rename: ENOENT). */
  lostRaces: number;
  /** Retried transient answers (503). */
  retries: number;
  unexpected: string[];
  timedOut: boolean;
  /** hrtime (ns, as a string) of the first claim sent and of the last completion finished. */
  firstStart: string | null;
  lastEnd: string | null;
}

const now = () => process.hrtime.bigint();
const ms = (a: bigint, b: bigint) => Number(b - a) / 1e6;
const sleep = (t: number) => new Promise<void>((r) => setTimeout(r, t));

function emptyReport(): ClaimReport {
  return { claimed: [], completed: [], tokens: [], claimMs: [], cycleMs: [], lostRaces: 0, retries: 0, unexpected: [], timedOut: false, firstStart: null, lastEnd: null };
}

async function drainApi(job: Extract<ClaimJob, { mode: 'api' }>): Promise<ClaimReport> {
  const r = emptyReport();
  const api = new HttpClient(job.url, job.key, 4);
  const deadline = Date.now() + job.deadlineMs;
  let first: bigint | null = null;
  let last: bigint | null = null;
  let empties = 0;
  try {
    for (let op = 0; empties < 2; op++) {
      if (Date.now() > deadline || op >= job.maxOps) {
        r.timedOut = true;
        break;
      }
      const t0 = now();
      const c = await api.request('POST', '/v1/tickets/claim', JSON.stringify({ queue: job.queue }), { 'content-type': 'application/json' });
      if (c.status === 204) {
        empties++;
        continue;
      }
      if (c.status === 503) {
        r.retries++;
        await sleep(20);
        continue;
      }
      if (c.status !== 200) {
        r.unexpected.push(`claim ${c.status} ${c.body.toString().slice(0, 200)}`);
        await sleep(20);
        continue;
      }
      const t1 = now();
      empties = 0;
      first ??= t0;
      const t = JSON.parse(c.body.toString()) as { path: string; fencingToken: number };
      const name = t.path.split('/').at(-1)!;
      r.claimed.push(name);
      r.tokens.push(t.fencingToken);
      r.claimMs.push(ms(t0, t1));
      for (let attempt = 0; ; attempt++) {
        const d = await api.request('POST', '/v1/tickets/complete', JSON.stringify({ path: t.path, fencingToken: t.fencingToken }), { 'content-type': 'application/json' });
        if (d.status === 200) {
          last = now();
          r.completed.push(name);
          r.cycleMs.push(ms(t0, last));
          break;
        }
        if (d.status === 503 && attempt < 50 && Date.now() < deadline) {
          r.retries++;
          await sleep(20);
          continue;
        }
        r.unexpected.push(`complete ${t.path} token ${t.fencingToken}: ${d.status} ${d.body.toString().slice(0, 200)}`);
        break;
      }
    }
  } finally {
    api.close();
  }
  r.firstStart = first === null ? null : String(first);
  r.lastEnd = last === null ? null : String(last);
  return r;
}

function drainRename(job: Extract<ClaimJob, { mode: 'rename' }>): ClaimReport {
  const r = emptyReport();
  const pending = join(job.dir, 'pending');
  const inProgress = join(job.dir, 'in-progress');
  const done = join(job.dir, 'done');
  const deadline = Date.now() + job.deadlineMs;
  let first: bigint | null = null;
  let last: bigint | null = null;
  let ops = 0;
  outer: for (;;) {
    // Oldest name first, like a queue: every process tries the same order and races for it.
    const names = readdirSync(pending).sort();
    if (names.length === 0) break;
    for (const name of names) {
      if (Date.now() > deadline || ops++ >= job.maxOps) {
        r.timedOut = true;
        break outer;
      }
      const t0 = now();
      try {
        renameSync(join(pending, name), join(inProgress, name));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
          r.lostRaces++;
          continue;
        }
        r.unexpected.push(`rename ${name}: ${String(err)}`);
        continue;
      }
      const t1 = now();
      first ??= t0;
      r.claimed.push(name);
      r.claimMs.push(ms(t0, t1));
      try {
        renameSync(join(inProgress, name), join(done, name));
        last = now();
        r.completed.push(name);
        r.cycleMs.push(ms(t0, last));
      } catch (err) {
        r.unexpected.push(`complete ${name}: ${String(err)}`);
      }
    }
  }
  r.firstStart = first === null ? null : String(first);
  r.lastEnd = last === null ? null : String(last);
  return r;
}

const isMain = process.argv[1] !== undefined && import.meta.url === new URL(`file://${process.argv[1]}`).href;
if (isMain) {
  const rl = createInterface({ input: process.stdin });
  // One job at a time, in order.
  let chain = Promise.resolve();
  rl.on('line', (line) => {
    if (!line.trim()) return;
    chain = chain.then(async () => {
      try {
        const job = JSON.parse(line) as ClaimJob;
        const report = job.mode === 'api' ? await drainApi(job) : drainRename(job);
        process.stdout.write(`${JSON.stringify(report)}\n`);
      } catch (err) {
        process.stdout.write(`${JSON.stringify({ error: String((err as Error).stack ?? err) })}\n`);
      }
    });
  });
  rl.on('close', () => void chain.then(() => process.exit(0)));
  process.stdout.write('ready\n');
}
