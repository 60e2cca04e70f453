import { setFlagsFromString } from 'node:v8';

/** How much the old space may grow past what survived a full collection before the next one. */
const HEAP_GROWING_PERCENT = 50;

/**
 * By default V8 lets the old space grow to up to four times what survived the last full
 * collection before it collects again. Baton's live heap is small (about 25 MiB with a
 * 100,000-file workspace watched, most of it the code and sources of its modules), but its
 * observers and write paths keep batches alive across Redis and disk round trips, so their
 * short-lived objects are promoted at a steady rate (about 4 MB/s while a large workspace is
 * reconciled), and what the old space holds at its peak is mostly that garbage. At most one and
 * a half times the live heap costs more full collections (one every few seconds under that load,
 * each a few ms on the main thread; marking runs concurrently). A `--heap-growing-percent` given
 * to node wins.
 */
export function boundHeapGrowth(): void {
  const given = [...process.execArgv, process.env.NODE_OPTIONS ?? ''].some((a) => /heap[-_]growing[-_]percent/.test(a));
  if (!given) setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
}
