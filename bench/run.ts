/**
 * Baton's benchmark suite. `npm run bench` (full, ~10 min on 2 cores) or
 * `npm run bench -- --quick` (under a minute, for CI smoke). Starts its own redis-server and
 * `baton serve` per measurement, loads them over 127.0.0.1 only, prints a table and writes
 * docs/benchmarks.md and docs/benchmarks.json. Every number stands next to a physical floor
 * measured in the same run. Sections 1–7 are the issue's list (#7), 8 is extra. Flags: --quick,
 * --only=4,5 (subset), --no-write (print only), --wait-idle[=SECONDS].
 */
import { execSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { claims } from './claims.js';
import { dropToWebhook } from './drop.js';
import { mcpLatency } from './mcp-latency.js';
import { memoryAndStartup } from './memory-startup.js';
import { putGet } from './put-get.js';
import { s3PutGet } from './s3.js';
import { markdownTable, rowRatios, textTable, type Row, type Section } from './lib/report.js';
import { Scope } from './lib/scope.js';
import { killOwnChildren } from './lib/stack.js';
import { msSince, now } from './lib/stats.js';
import { sustainedWrites } from './throughput.js';
import { writeToWebhook } from './write-webhook.js';

export interface Ctx {
  quick: boolean;
  scope: Scope;
  log(msg: string): void;
}

const REPO = resolve(import.meta.dirname, '..');
const args = process.argv.slice(2);
const quick = args.includes('--quick');
const write = !args.includes('--no-write');
const only = args.find((a) => a.startsWith('--only='))?.slice('--only='.length).split(',').map(Number);
const waitIdleArg = args.find((a) => a === '--wait-idle' || a.startsWith('--wait-idle='));
const waitIdleS = waitIdleArg ? Number(waitIdleArg.split('=')[1] ?? 300) : 0;
const unknown = args.filter((a) => a !== '--quick' && a !== '--no-write' && !a.startsWith('--only=') && a !== waitIdleArg);
if (only?.some((n) => !Number.isInteger(n) || n < 1 || n > 8)) unknown.push(`--only=${only.join(',')} (sections are 1 to 8)`);
if (unknown.length > 0) {
  process.stderr.write(`bench: unknown argument(s) ${unknown.join(' ')}\nusage: npm run bench [-- --quick] [--only=1,2,...,8] [--no-write] [--wait-idle[=SECONDS]]\n`);
  process.exit(2);
}

const root = new Scope();
const log = (msg: string) => process.stderr.write(`${msg}\n`);
const ctx: Ctx = { quick, scope: root, log };

let exiting = false;
async function shutdown(code: number, why?: string): Promise<never> {
  if (!exiting) {
    exiting = true;
    if (why) log(`bench: ${why}`);
    await root.close();
    const stray = await killOwnChildren();
    if (stray.length > 0) log(`bench: killed leftover child process(es): ${stray.join('; ')}`);
  }
  process.exit(code);
}
process.on('SIGINT', () => void shutdown(130, 'interrupted'));
process.on('SIGTERM', () => void shutdown(143, 'terminated'));
// E.g. a helper's child process that fails to spawn: still clean up and exit non-zero.
process.on('uncaughtException', (err) => void shutdown(1, `uncaught: ${String(err.stack ?? err)}`));
process.on('unhandledRejection', (err) => void shutdown(1, `unhandled rejection: ${String((err as Error)?.stack ?? err)}`));
// A hard bound on the whole run, whatever happens inside it.
const watchdog = setTimeout(() => void shutdown(3, 'run took too long; stopped by the watchdog'), (quick ? 300 : 25 * 60) * 1000 + waitIdleS * 1000);
watchdog.unref();

const MEASUREMENTS: Array<{ n: number; title: string; fn: (c: Ctx) => Promise<Section> }> = [
  { n: 1, title: '1. Write → webhook', fn: writeToWebhook },
  { n: 2, title: '2. Sustained writes', fn: sustainedWrites },
  { n: 3, title: '3. Drop → webhook', fn: dropToWebhook },
  { n: 4, title: '4. Claims', fn: claims },
  { n: 5, title: '5. MCP per-call latency', fn: mcpLatency },
  { n: 6, title: '6. S3 PUT / GET', fn: s3PutGet },
  { n: 7, title: '7. Memory and start-up', fn: memoryAndStartup },
  { n: 8, title: '8. PUT / GET (extra)', fn: putGet },
];

/** Share of all CPUs busy over `ms`, from /proc/stat: taken while the bench is idle, it is other work on the machine. */
async function cpuBusy(ms: number): Promise<number | null> {
  const read = () => {
    const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    const idle = f[3]! + (f[4] ?? 0);
    return { idle, total: f.reduce((a, b) => a + b, 0) };
  };
  try {
    const a = read();
    await new Promise((r) => setTimeout(r, ms));
    const b = read();
    return b.total === a.total ? null : Math.round((1 - (b.idle - a.idle) / (b.total - a.total)) * 100);
  } catch {
    return null;
  }
}

function gitRev(): string {
  try {
    const rev = execSync('git rev-parse --short HEAD', { cwd: REPO, stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
    const dirty = execSync('git status --porcelain -- src', { cwd: REPO, stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim() !== '';
    return dirty ? `${rev} (src/ modified)` : rev;
  } catch {
    return 'unknown';
  }
}

/** The row furthest from its floor: largest Baton/floor for times and sizes, smallest for rates. */
function worst(sections: Section[]): { row: Row; factor: number } | null {
  let best: { row: Row; factor: number } | null = null;
  for (const s of sections)
    for (const r of s.rows) {
      if (r.pending || !r.floor) continue;
      const rr = rowRatios(r);
      const vals = [rr.p50, rr.p99].filter((x): x is number => x !== null && x > 0);
      if (vals.length === 0) continue;
      const factor = r.unit === '/s' ? 1 / Math.min(...vals) : Math.max(...vals);
      if (!best || factor > best.factor) best = { row: r, factor };
    }
  return best;
}

async function main(): Promise<void> {
  // Other work on the machine skews every number: sample it while the bench is idle, before and after.
  let busyBefore = await cpuBusy(quick ? 500 : 2_000);
  // --wait-idle: wait (bounded) until other work leaves the CPUs mostly free.
  const idleDeadline = Date.now() + waitIdleS * 1000;
  while (busyBefore !== null && busyBefore > 20 && Date.now() < idleDeadline) {
    log(`bench: waiting for the machine to be idle (${busyBefore}% busy)`);
    await new Promise((r) => setTimeout(r, 10_000));
    busyBefore = await cpuBusy(quick ? 500 : 2_000);
  }
  if (busyBefore !== null && busyBefore > 20) log(`bench: warning: ${busyBefore}% of the CPUs busy with other work before start; the numbers will be pessimistic`);
  const t0 = now();
  const started = new Date();
  const sections: Section[] = [];
  for (const m of MEASUREMENTS) {
    if (only && !only.includes(m.n)) continue;
    log(`${m.title} ...`);
    const ts = now();
    try {
      const s = await m.fn(ctx);
      s.elapsedMs = msSince(ts);
      sections.push(s);
    } catch (err) {
      log(`  FAILED: ${(err as Error).stack ?? String(err)}`);
      sections.push({ id: `m${m.n}`, title: m.title, rows: [], details: {}, error: String((err as Error).message ?? err).split('\n')[0]!.slice(0, 300), elapsedMs: msSince(ts) });
    }
    log(`  (${(msSince(ts) / 1000).toFixed(1)} s)`);
  }
  const wallMs = msSince(t0);
  const busyAfter = await cpuBusy(quick ? 500 : 2_000);

  const cpus = os.cpus();
  const machine = {
    cores: cpus.length,
    cpu: cpus[0]?.model ?? 'unknown',
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    otherCpuBusyBeforePct: busyBefore,
    otherCpuBusyAfterPct: busyAfter,
  };
  const command = `npm run bench${quick ? ' -- --quick' : ''}${only ? ` --only=${only.join(',')}` : ''}`;
  const w = worst(sections);
  const failed = sections.filter((s) => s.error);

  process.stdout.write(`\n${textTable(sections)}\n\n`);
  if (w) process.stdout.write(`furthest from its floor: ${w.row.metric} (${w.factor.toFixed(1)}× the floor)\n`);
  process.stdout.write(`wall time ${(wallMs / 1000).toFixed(1)} s\n`);

  // Rendered with or without --no-write, so the quick run in CI exercises the generator too.
  const json = `${JSON.stringify({ date: started.toISOString(), command, mode: quick ? 'quick' : 'full', commit: gitRev(), machine, wallMs, sections }, null, 2)}\n`;
  const md = markdown({ started, command, machine, wallMs, sections, worstRow: w });
  if (write) {
    const docs = join(REPO, 'docs');
    mkdirSync(docs, { recursive: true });
    writeFileSync(join(docs, 'benchmarks.json'), json);
    writeFileSync(join(docs, 'benchmarks.md'), md);
    log(`wrote docs/benchmarks.md and docs/benchmarks.json`);
  }
  if (failed.length > 0) throw new Error(`${failed.length} measurement(s) failed: ${failed.map((s) => s.title).join(', ')}`);
}

/** Where the CPU goes per operation: measured by hand with bench/profile.ts, kept beside the generated tables. */
const PROFILE_NOTES = readFileSync(join(REPO, 'bench', 'profile.md'), 'utf8').trim() + '\n';

function markdown(o: { started: Date; command: string; machine: Record<string, unknown>; wallMs: number; sections: Section[]; worstRow: { row: Row; factor: number } | null }): string {
  const m = o.machine as { cores: number; cpu: string; memoryGiB: number; node: string; os: string; otherCpuBusyBeforePct: number | null; otherCpuBusyAfterPct: number | null };
  const busy = (m.otherCpuBusyBeforePct ?? 0) > 20 || (m.otherCpuBusyAfterPct ?? 0) > 20;
  return `# Baton benchmarks

Generated by \`${o.command}\` on ${o.started.toISOString().slice(0, 16).replace('T', ' ')} UTC (commit ${gitRev()}, ${quick ? '**quick mode: small counts, a CI smoke test, not for quoting**' : 'full mode'}; the run took ${(o.wallMs / 1000).toFixed(0)} s).

**Machine:** ${m.cores} cores (${m.cpu}), ${m.memoryGiB} GiB memory, Node ${m.node}, ${m.os}. The bench process, \`redis-server\` and \`baton serve\` all share these cores. Other work on the machine, sampled while the bench was idle: ${m.otherCpuBusyBeforePct ?? '?'}% of the CPUs busy before the run, ${m.otherCpuBusyAfterPct ?? '?'}% after${busy ? ' — **the machine was shared with other work; treat these numbers as pessimistic**' : ''}.

Every Baton number stands next to a **floor**: the same physical work done with nothing in between (a bare fsync, a bare BullMQ queue on the same Redis, a bare loopback POST, a bare chokidar watcher, bare renames, the MCP reference filesystem server, raw AWS SDK calls to the same s3rver, a bare Node process), measured in the same run on the same machine. *Baton/floor* is how many times the floor Baton takes; for rates (/s) below 1 means Baton does less per second than the floor. p50 is the median, p99 the 99th percentile (nearest rank). ✅/❌ mark stated targets.

${markdownTable(o.sections)}

${o.worstRow ? `Furthest from its floor in this run: **${o.worstRow.row.metric}**, ${o.worstRow.factor.toFixed(1)}× the floor.\n` : ''}
${PROFILE_NOTES}
## How each number is made

1. **Write → webhook.** One \`baton serve\` with one subscription (\`POST /v1/subscriptions\`, \`file.created\`) to a loopback receiver. New 1 KiB files are \`PUT /v1/files\` at a steady 200/s, **open loop**: each request leaves when due, never waiting for earlier ones (the largest lateness of a send is in the notes). A delivery is matched to its write by path; latency = receiver sees the request − PUT sent (taken before the request is handed to the HTTP agent, so time queued in the client counts too, as it must in an open loop). After a short warm-up. All writes go into one folder, which grows during the run; the notes compare the first and last tenth. Floor = the sum of three steps measured alone at the same 200/s: open+write 1 KiB+fsync+close; BullMQ \`Queue.add\` → own \`Worker\` starts the job, on the same Redis; a keep-alive POST of a webhook-sized JSON body, send → receiver sees it. (The floor's p99 is the sum of the three p99s.)
2. **Sustained writes.** 32 clients in a closed loop (each sends its next PUT when the last is acknowledged) create new 1 KiB files for a fixed time, with 1 and then 10 subscriptions on the folder; then the bench waits for every delivery (bounded) and reports how long after the load the last one arrived, and any lost or duplicated. Floor: 32 concurrent open+write+fsync+close of new files from one Node process.
3. **Drop → webhook.** Files are written with \`fs.writeFileSync\` straight into \`<dataDir>/demo/inbox/…\` (Baton started with \`BATON_RESCAN_SECONDS=5\`, so its periodic rescan backs chokidar). Single files one at a time, each after the previous was delivered; then bursts (10,000 and 50,000 files; quick mode one of 200) written as fast as one process can. Lost = never delivered within the limit; duplicates = deliveries of a path beyond the first (same \`webhook-id\` = redelivery, new id = a second event). Floor: a bare chokidar@5 watcher on a scratch folder, the same options as Baton's watcher, \`awaitWriteFinish\` off and on (Baton's setting: stability 150 ms, poll 25 ms); chokidar has no rescan, so what it misses in a burst stays missed.
4. **Claims.** N tickets (2,000; quick mode 200) are written into \`/demo/tasks/pending/\` through \`PUT /v1/files\` (not timed). 8 separate Node processes (\`bench/lib/claim-worker.ts\`, started and ready before the clock starts), each with its own keep-alive connection, loop \`POST /v1/tickets/claim\` → \`POST /v1/tickets/complete\` until the queue answers 204 twice. Claims/s = completed tickets ÷ (first claim sent → last completion), across all processes (\`process.hrtime\` is the same monotonic clock in every process). Claim latency = claim request sent → answer read. Double claims = names claimed or completed more than once plus fencing tokens given out more than once; lost = seeded names never completed, or anything left in \`pending/\` or \`in-progress/\` on disk. Floor: the same 8 processes claim the same number of files in a scratch folder by \`fs.renameSync(pending/x, in-progress/x)\` (oldest name first, every process racing for it; ENOENT = lost race, try the next) and complete by a rename to \`done/\`.
5. **MCP per-call latency.** A folder of 1,000 small files plus a 4 KiB \`read.txt\` (quick mode: 200 files) is made on disk before \`baton serve\` starts; the bench waits for the start-up reconcile to report them. The same \`@modelcontextprotocol/sdk\` \`Client\` code calls, one call at a time after a warm-up, Baton through \`baton mcp\` (stdio; it relays each call to the server's \`/mcp\`) and through Streamable HTTP \`/mcp\`, and — the floor — the reference \`@modelcontextprotocol/server-filesystem\` over stdio with a copy of the same folder as its allowed directory (its own, so its writes are not outside changes Baton records): \`read_text_file\` of the 4 KiB file, \`write_file\` of a new 1 KiB file, \`list_directory\` and \`search_files\` (\`*42*\`) of the big folder. Latency = \`callTool\` called → result. Each transport has its own floor, measured by the same client code in the same run: an MCP server of the same SDK whose four tools have the same names and arguments but touch no file and answer at once with a text of the same size (the 4 KiB text, \`Successfully wrote to <path>\`, one \`[FILE]\` line per entry of the folder, the matching paths), over stdio (\`bench/lib/mcp-noop-server.ts\`, a child process) and over Streamable HTTP (a \`node:http\` server in the bench process on 127.0.0.1, one server per session on the SDK's \`StreamableHTTPServerTransport\` with JSON answers, like Baton's \`/mcp\`); their p50 · p99 are in each tool's notes. Under each Baton row, a *transport floor* sub-row sets the same Baton numbers against them: Baton HTTP against the no-op tool over HTTP, and Baton stdio — stdio → \`baton mcp\` → \`/mcp\` over HTTP → server, two hops — against the no-op tool over stdio plus the no-op tool over HTTP (p50s added, p99s added). \`node --import tsx bench/mcp.ts\` runs the full-size comparison alone and writes [mcp-benchmark.md](mcp-benchmark.md).
6. **S3 PUT / GET.** s3rver (a fake S3 on local disk, on 127.0.0.1, under \`--openssl-legacy-provider\`) with one bucket, and \`baton serve\` with one S3 workspace on it (prefix \`s3ws/\`, \`reconcileSeconds: 15\`). One client, sequential, after a warm-up: \`PUT /v1/files\` of a new 1 KiB file, then \`GET\` of each file written (500 each; quick mode 50). Floor: the raw \`@aws-sdk/client-s3\` \`PutObject\` of a new key and \`GetObject\`, against the same s3rver and bucket under another prefix.
7. **Memory and start-up.** Files are made directly on disk before \`baton serve\` starts (100,000 in 100 folders; quick mode 2,000). Start-up = spawn → the \`baton listening\` line (floor: spawn → first line of \`node -e\`). Peak RSS = \`VmHWM\` of \`/proc/<pid>/status\`, reset through \`/proc/<pid>/clear_refs\` before each phase; listing pages through \`GET /v1/list/demo?recursive=1&limit=1000\`, searching through \`GET /v1/search?root=/demo&glob=**/*.txt&limit=1000\`. Baton's start-up reconcile, which reports every pre-existing file as an \`fs\` event, runs at the same time and is included. Floors: the peak RSS of an idle bare Node http server; an \`opendir\` walk with a \`stat\` of every file from one process.
8. **PUT / GET** (extra, beyond the issue's list). Closed loop at each concurrency level (1, 8, 32; quick mode 16 only); PUTs create new 1 KiB files, GETs read files those PUTs wrote. Floor: the same concurrency in one Node process, open+write+fsync+close of a new file, and \`readFile\` of a 1 KiB file. In full mode one more row: single-client PUTs into a folder that already holds 2,000 files (made on disk before start; the bench waits for the start-up reconcile to report them first), against fsync writes into a folder of the same size.

Set-up common to all: a fresh \`redis-server\` (\`appendfsync always\`, as the test helpers start it) and a fresh \`baton serve\` per measurement, a key with \`read\`/\`write\`/\`subscribe\` on \`/demo/**\` (4 adds a \`claim\` key, 6 uses its own S3 workspace), requests through \`node:http\` with keep-alive, times from \`process.hrtime.bigint()\`. All traffic is on 127.0.0.1; every load loop is bounded in count and time.

Raw numbers (all percentiles, counts, timings): [benchmarks.json](benchmarks.json).
`;
}

main().then(
  () => shutdown(0),
  (err) => shutdown(1, String((err as Error).message ?? err)),
);
