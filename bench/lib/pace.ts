import { msSince, now } from './stats.js';

/**
 * Open-loop pacing: op i is due at start + i/rate and is started when due, whether or not
 * earlier ops have finished (sends are never awaited here). Bounded by `n`.
 * Returns the largest lateness of a send behind its due time, to show the pacing held.
 */
export function openLoop(n: number, ratePerSec: number, send: (i: number) => void): Promise<{ maxLagMs: number; elapsedMs: number }> {
  const intervalNs = BigInt(Math.round(1e9 / ratePerSec));
  const start = now();
  let i = 0;
  let maxLagNs = 0n;
  return new Promise((resolve) => {
    const tick = () => {
      const t = now();
      while (i < n && start + BigInt(i) * intervalNs <= t) {
        const lag = t - (start + BigInt(i) * intervalNs);
        if (lag > maxLagNs) maxLagNs = lag;
        send(i++);
      }
      if (i >= n) return resolve({ maxLagMs: Number(maxLagNs) / 1e6, elapsedMs: msSince(start) });
      const waitMs = Number(start + BigInt(i) * intervalNs - now()) / 1e6;
      setTimeout(tick, Math.max(0, Math.floor(waitMs)));
    };
    tick();
  });
}

export interface ClosedLoopResult {
  ops: number;
  errors: number;
  latencies: number[];
  elapsedMs: number;
  firstError?: string;
}

/**
 * Closed loop: `concurrency` workers each run `op` back to back until `durationMs` has passed
 * or `maxOps` ops were started. `op` resolves true on success.
 */
export async function closedLoop(concurrency: number, durationMs: number, maxOps: number, op: (i: number) => Promise<boolean>): Promise<ClosedLoopResult> {
  const start = now();
  const deadline = start + BigInt(Math.round(durationMs * 1e6));
  let started = 0;
  let ops = 0;
  let errors = 0;
  let firstError: string | undefined;
  const latencies: number[] = [];
  const worker = async () => {
    while (started < maxOps && now() < deadline) {
      const i = started++;
      const t0 = now();
      let ok = false;
      try {
        ok = await op(i);
      } catch (err) {
        firstError ??= String(err);
      }
      if (ok) {
        ops++;
        latencies.push(msSince(t0));
      } else {
        errors++;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { ops, errors, latencies, elapsedMs: msSince(start), firstError };
}
