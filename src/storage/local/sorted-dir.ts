import { opendir } from 'node:fs/promises';
import type { Dirent } from 'node:fs';

/** A scan lets other work run after this many entries, so a huge folder holds no request up for long. */
const YIELD_EVERY = 1024;

/**
 * The first `count` entries of a folder in name order that sort after `after` (or at it, when
 * `inclusive`). Streams the folder and keeps at most ~2×count names, so a folder of 100,000
 * files is never held whole. Entries are taken from the handle's buffer synchronously (the
 * handle refills it with one directory read per 256): an async iteration costs a promise or
 * two per entry, which was half the CPU of a scan.
 */
export async function selectSorted(
  dir: string,
  after: string | null,
  inclusive: boolean,
  count: number,
  skip: (name: string) => boolean,
): Promise<Dirent[]> {
  let kept: Dirent[] = [];
  const handle = await opendir(dir, { bufferSize: 256 });
  try {
    let seen = 0;
    for (let d = handle.readSync(); d !== null; d = handle.readSync()) {
      if (++seen % YIELD_EVERY === 0) await new Promise<void>((resolve) => setImmediate(resolve));
      if (skip(d.name)) continue;
      if (after !== null && (inclusive ? d.name < after : d.name <= after)) continue;
      kept.push(d);
      if (kept.length >= count * 2) kept = trim(kept, count);
    }
  } finally {
    handle.closeSync();
  }
  return trim(kept, count);
}

function trim(list: Dirent[], count: number): Dirent[] {
  list.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return list.length > count ? list.slice(0, count) : list;
}
