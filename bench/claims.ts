/**
 * 4. Claims per second with 8 worker processes through the API. N tickets are written into
 * /demo/tasks/pending/ through the API (PUT /v1/files/…, not timed); then 8 separate Node
 * processes (bench/lib/claim-worker.ts) loop POST /v1/tickets/claim → POST /v1/tickets/complete
 * until the queue is empty. Reported: completed claims/s (first claim sent → last completion),
 * claim latency, double claims (a name claimed or completed twice, a fencing token given twice)
 * and lost tickets (seeded, never completed, or left in pending/ or in-progress/ on disk).
 * Floor: the same 8 processes claim the same number of files by raw `fs.renameSync`
 * pending/ → in-progress/ (ENOENT = lost race) and complete by a rename to done/.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createKey } from '../test/helpers/http.js';
import { REPO } from '../test/helpers/baton.js';
import type { Ctx } from './run.js';
import type { ClaimJob, ClaimReport } from './lib/claim-worker.js';
import { scratchDir } from './lib/floors.js';
import { closedLoop } from './lib/pace.js';
import { lat, type Row, type Section } from './lib/report.js';
import type { Scope } from './lib/scope.js';
import { startStack } from './lib/stack.js';
import { summarize } from './lib/stats.js';

const WORKERS = 8;
const WORKER = join(REPO, 'bench', 'lib', 'claim-worker.ts');

interface Pool {
  /** Run one job in every worker at once; resolves with the 8 reports (bounded by timeoutMs). */
  run(job: ClaimJob, timeoutMs: number): Promise<ClaimReport[]>;
}

/** 8 claimer processes, started once and ready (their start-up is not timed); killed by `scope`. */
async function startPool(scope: Scope, n: number): Promise<Pool> {
  const procs: Array<{ proc: ChildProcess; lines: string[]; wake: (() => void) | null; err: string }> = [];
  scope.defer('claim workers', async () => {
    for (const p of procs) p.proc.stdin?.end();
    await Promise.all(
      procs.map(
        (p) =>
          new Promise<void>((resolve) => {
            if (p.proc.exitCode !== null || p.proc.signalCode !== null) return resolve();
            const t = setTimeout(() => p.proc.kill('SIGKILL'), 3_000);
            p.proc.once('exit', () => (clearTimeout(t), resolve()));
          }),
      ),
    );
  });
  for (let i = 0; i < n; i++) {
    const proc = spawn(process.execPath, ['--import', 'tsx', WORKER], { cwd: REPO, stdio: ['pipe', 'pipe', 'pipe'] });
    const w = { proc, lines: [] as string[], wake: null as (() => void) | null, err: '' };
    let buf = '';
    proc.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      let k: number;
      while ((k = buf.indexOf('\n')) >= 0) {
        w.lines.push(buf.slice(0, k));
        buf = buf.slice(k + 1);
      }
      w.wake?.();
    });
    proc.stderr!.on('data', (d: Buffer) => (w.err = (w.err + d.toString()).slice(-2000)));
    proc.on('exit', () => w.wake?.());
    procs.push(w);
  }
  const nextLine = async (w: (typeof procs)[number], deadline: number): Promise<string> => {
    while (w.lines.length === 0) {
      if (w.proc.exitCode !== null) throw new Error(`claim worker exited (${w.proc.exitCode}): ${w.err}`);
      if (Date.now() > deadline) throw new Error(`claim worker: no answer in time: ${w.err}`);
      await new Promise<void>((r) => ((w.wake = r), setTimeout(r, 100)));
    }
    return w.lines.shift()!;
  };
  const readyBy = Date.now() + 30_000;
  for (const w of procs) {
    const l = await nextLine(w, readyBy);
    if (l !== 'ready') throw new Error(`claim worker said ${l.slice(0, 200)}`);
  }
  return {
    async run(job, timeoutMs) {
      const line = `${JSON.stringify(job)}\n`;
      for (const w of procs) w.proc.stdin!.write(line);
      const deadline = Date.now() + timeoutMs;
      const out: ClaimReport[] = [];
      for (const w of procs) {
        const parsed = JSON.parse(await nextLine(w, deadline)) as ClaimReport | { error: string };
        if ('error' in parsed) throw new Error(`claim worker failed: ${parsed.error}`);
        out.push(parsed);
      }
      return out;
    },
  };
}

interface Outcome {
  claims: number;
  completed: number;
  rate: number;
  spanMs: number;
  claim: ReturnType<typeof summarize>;
  cycle: ReturnType<typeof summarize>;
  doubleClaims: number;
  doubleCompletions: number;
  reusedTokens: number;
  lost: number;
  lostRaces: number;
  retries: number;
  unexpected: string[];
  timedOut: boolean;
  perWorker: number[];
}

function judge(reports: ClaimReport[], names: string[]): Outcome {
  const claimed = reports.flatMap((r) => r.claimed);
  const completed = reports.flatMap((r) => r.completed);
  const tokens = reports.flatMap((r) => r.tokens);
  const starts = reports.map((r) => r.firstStart).filter((x): x is string => x !== null).map(BigInt);
  const ends = reports.map((r) => r.lastEnd).filter((x): x is string => x !== null).map(BigInt);
  const spanMs = starts.length && ends.length ? Number(ends.reduce((a, b) => (b > a ? b : a)) - starts.reduce((a, b) => (b < a ? b : a))) / 1e6 : 0;
  const done = new Set(completed);
  return {
    claims: claimed.length,
    completed: completed.length,
    rate: spanMs > 0 ? (completed.length / spanMs) * 1000 : 0,
    spanMs,
    claim: summarize(reports.flatMap((r) => r.claimMs)),
    cycle: summarize(reports.flatMap((r) => r.cycleMs)),
    doubleClaims: claimed.length - new Set(claimed).size,
    doubleCompletions: completed.length - done.size,
    reusedTokens: tokens.length - new Set(tokens).size,
    lost: names.filter((n) => !done.has(n)).length,
    lostRaces: reports.reduce((a, r) => a + r.lostRaces, 0),
    retries: reports.reduce((a, r) => a + r.retries, 0),
    unexpected: reports.flatMap((r) => r.unexpected).slice(0, 10),
    timedOut: reports.some((r) => r.timedOut),
    perWorker: reports.map((r) => r.completed.length),
  };
}

/** Files left in a queue folder on disk (pending/ and in-progress/ must end empty). */
function leftIn(dir: string): number {
  return existsSync(dir) ? readdirSync(dir).length : 0;
}

export async function claims(ctx: Ctx): Promise<Section> {
  const n = ctx.quick ? 200 : 2_000;
  const deadlineMs = ctx.quick ? 30_000 : 300_000;
  const names = Array.from({ length: n }, (_, i) => `t${String(i).padStart(5, '0')}`);
  const scope = ctx.scope.child();
  try {
    ctx.log(`  claims: starting baton and ${WORKERS} worker processes`);
    // Both at once; allSettled so neither is still starting when the scope closes on a failure.
    const [stackR, poolR] = await Promise.allSettled([startStack(scope), startPool(scope, WORKERS)]);
    if (stackR.status === 'rejected') throw stackR.reason;
    if (poolR.status === 'rejected') throw poolR.reason;
    const stack = stackR.value;
    const pool = poolR.value;

    // Floor first: raw renames across the same 8 processes.
    ctx.log(`  claims: floor, ${n} files claimed by rename from ${WORKERS} processes`);
    const dir = scratchDir(scope, 'claims');
    for (const d of ['pending', 'in-progress', 'done']) mkdirSync(join(dir, d));
    for (const name of names) writeFileSync(join(dir, 'pending', name), name);
    const floorReports = await pool.run({ mode: 'rename', dir, deadlineMs, maxOps: n * WORKERS * 4 }, deadlineMs + 10_000);
    const floor = judge(floorReports, names);
    const floorLeft = leftIn(join(dir, 'pending')) + leftIn(join(dir, 'in-progress'));

    // Seed the queue through the API (not timed), 16 at a time.
    ctx.log(`  claims: seeding ${n} tickets through the API`);
    let seedErr = '';
    const seed = await closedLoop(16, 120_000, n, async (i) => {
      const r = await stack.api.request('PUT', `/v1/files/demo/tasks/pending/${names[i]}`, names[i], { 'content-type': 'text/plain' });
      if (r.status !== 201) seedErr ||= `${r.status} ${r.body.toString().slice(0, 200)}`;
      return r.status === 201;
    });
    if (seed.ops !== n) throw new Error(`seeding tickets: ${seed.ops}/${n} created; first error ${seedErr || seed.firstError}`);
    const { key } = await createKey(stack.baton.url, stack.baton.adminToken, { agent: 'bench-claimer', grants: ['claim:/demo/tasks/**', 'read:/demo/tasks/**'] });

    ctx.log(`  claims: ${WORKERS} processes draining ${n} tickets through the API`);
    const reports = await pool.run({ mode: 'api', url: stack.baton.url, key, queue: '/demo/tasks', deadlineMs, maxOps: n * 4 }, deadlineMs + 10_000);
    const baton = judge(reports, names);
    const root = join(stack.baton.dataDir, 'demo', 'tasks');
    const batonLeft = leftIn(join(root, 'pending')) + leftIn(join(root, 'in-progress'));
    const double = baton.doubleClaims + baton.doubleCompletions + baton.reusedTokens;
    const floorDouble = floor.doubleClaims + floor.doubleCompletions;
    ctx.log(`    ${Math.round(baton.rate)} claims/s (floor ${Math.round(floor.rate)}/s); double ${double}, lost ${baton.lost}`);
    if (baton.unexpected.length) ctx.log(`    unexpected answers: ${baton.unexpected.slice(0, 3).join(' | ')}`);

    const sizeNote = `${n.toLocaleString('en-US')} tickets${ctx.quick ? ' (quick mode; full run: 2,000)' : ''}`;
    const rows: Row[] = [
      {
        group: '4',
        metric: `claims/s, ${WORKERS} processes, claim → complete, ${sizeNote}`,
        unit: '/s',
        baton: { p50: baton.rate },
        floor: { p50: floor.rate, what: `rename → in-progress/ → done/, ${WORKERS} processes` },
        target: '≥ 1,000/s',
        met: baton.completed > 0 ? baton.rate >= 1000 : null,
        note: `${baton.completed.toLocaleString('en-US')} completed in ${(baton.spanMs / 1000).toFixed(1)} s; per worker ${Math.min(...baton.perWorker)}–${Math.max(...baton.perWorker)}${baton.retries ? `; ${baton.retries} retried 503s` : ''}${baton.timedOut ? '; a worker hit its time limit' : ''}`,
      },
      {
        group: '4',
        metric: '↳ claim latency (POST /v1/tickets/claim under that contention)',
        unit: 'ms',
        baton: lat(baton.claim),
        floor: { ...lat(floor.claim), what: 'one rename, same contention' },
        target: 'p50 ≤ 5 ms',
        met: baton.claim.n ? baton.claim.p50 <= 5 : null,
        note: `claim + complete: ${baton.cycle.p50.toFixed(1)} · ${baton.cycle.p99.toFixed(1)} ms (floor ${floor.cycle.p50.toFixed(2)} · ${floor.cycle.p99.toFixed(2)} ms); floor lost ${floor.lostRaces.toLocaleString('en-US')} rename races`,
      },
      {
        group: '4',
        metric: '↳ double claims (name claimed/completed twice, fencing token reused)',
        unit: '',
        baton: { p50: double },
        floor: { p50: floorDouble, what: 'rename' },
        target: '0',
        met: double === 0,
        note: `claimed twice ${baton.doubleClaims}, completed twice ${baton.doubleCompletions}, tokens reused ${baton.reusedTokens}`,
      },
      {
        group: '4',
        metric: '↳ lost tickets (never completed, or left in pending/ or in-progress/)',
        unit: '',
        baton: { p50: Math.max(baton.lost, batonLeft) },
        floor: { p50: Math.max(floor.lost, floorLeft), what: 'rename' },
        target: '0',
        met: Math.max(baton.lost, batonLeft) === 0,
        note: baton.unexpected.length ? `unexpected answers, e.g. ${baton.unexpected[0]!.slice(0, 160)}` : undefined,
      },
    ];
    const strip = (o: Outcome) => ({ ...o });
    return { id: 'claims', title: `4. Claims, ${WORKERS} worker processes through the API`, rows, details: { tickets: n, workers: WORKERS, baton: strip(baton), batonLeftOnDisk: batonLeft, floor: strip(floor), floorLeftOnDisk: floorLeft } };
  } finally {
    await scope.close();
  }
}
