/**
 * A ticket worker run as a child process by the ticket tests (`node --import tsx worker.ts '<json>'`).
 *
 * Modes:
 * - `drain`: loop claim → complete (alternating between the given Baton URLs on every request)
 *   until the queue answers 204 twice in a row; then print one JSON report line on stdout.
 * - `hold`: claim one ticket, print the claim as one JSON line, then hold the lease (no
 *   heartbeat) until killed.
 */

export interface WorkerConfig {
  mode: 'drain' | 'hold';
  urls: string[];
  key: string;
  queue: string;
  leaseSeconds?: number;
  /** Give up (and report) after this long. */
  deadlineMs?: number;
}

export interface DrainReport {
  /** Ticket names this worker completed (200 from /complete). */
  completed: string[];
  /** Every fencing token this worker was given by a claim. */
  tokens: number[];
  claims: number;
  /** Anything other than the expected answers, e.g. `complete 409 …`. */
  unexpected: string[];
  /** Retried transient answers (503 unavailable). */
  retries: number;
  timedOut: boolean;
}

const cfg = JSON.parse(process.argv[2] ?? '{}') as WorkerConfig;
let turn = 0;
const nextUrl = () => cfg.urls[turn++ % cfg.urls.length]!;

async function post(path: string, body: unknown): Promise<{ status: number; json: any; text: string }> {
  const res = await fetch(nextUrl() + path, {
    method: 'POST',
    headers: { authorization: `Bearer ${cfg.key}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  let json: any;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: res.status, json, text };
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

async function drain(): Promise<DrainReport> {
  const report: DrainReport = { completed: [], tokens: [], claims: 0, unexpected: [], retries: 0, timedOut: false };
  const deadline = Date.now() + (cfg.deadlineMs ?? 120_000);
  let empties = 0;
  while (empties < 2) {
    if (Date.now() > deadline) {
      report.timedOut = true;
      break;
    }
    const c = await post('/v1/tickets/claim', { queue: cfg.queue, ...(cfg.leaseSeconds ? { leaseSeconds: cfg.leaseSeconds } : {}) });
    if (c.status === 204) {
      empties++;
      continue;
    }
    if (c.status === 503) {
      report.retries++;
      await sleep(20);
      continue;
    }
    if (c.status !== 200) {
      report.unexpected.push(`claim ${c.status} ${c.text}`);
      await sleep(20);
      continue;
    }
    empties = 0;
    report.claims++;
    report.tokens.push(c.json.fencingToken);
    const name = String(c.json.path).split('/').at(-1)!;
    if (c.json.content !== name) report.unexpected.push(`claim of ${c.json.path} returned content ${JSON.stringify(c.json.content)}`);
    for (let attempt = 0; ; attempt++) {
      const d = await post('/v1/tickets/complete', { path: c.json.path, fencingToken: c.json.fencingToken });
      if (d.status === 200) {
        report.completed.push(name);
        break;
      }
      if (d.status === 503 && attempt < 50) {
        report.retries++;
        await sleep(20);
        continue;
      }
      report.unexpected.push(`complete ${c.json.path} token ${c.json.fencingToken}: ${d.status} ${d.text}`);
      break;
    }
  }
  return report;
}

async function hold(): Promise<void> {
  const c = await post('/v1/tickets/claim', { queue: cfg.queue, ...(cfg.leaseSeconds ? { leaseSeconds: cfg.leaseSeconds } : {}) });
  process.stdout.write(JSON.stringify({ status: c.status, claim: c.json ?? null }) + '\n');
  // Hold the lease, never heartbeating, until the test kills this process.
  setInterval(() => undefined, 1_000);
}

if (cfg.mode === 'drain') {
  drain().then(
    (r) => process.stdout.write(JSON.stringify(r) + '\n'),
    (err) => {
      process.stderr.write(String(err?.stack ?? err) + '\n');
      process.exit(1);
    },
  );
} else if (cfg.mode === 'hold') {
  void hold();
} else {
  process.stderr.write(`unknown mode ${String(cfg.mode)}\n`);
  process.exit(2);
}
