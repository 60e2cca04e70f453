import { opendir } from 'node:fs/promises';
import type { Dirent } from 'node:fs';

/** A scan lets other work run after this many entries, so a huge folder holds no request up for long. */
const YIELD_EVERY = 1024;
/**
 * A folder with at most this many entries past the resume point is returned whole from one
 * scan: a walk through a folder of a few thousand files then reads it once, not once per batch
 * (each scan reads every entry of the folder, whatever the batch).
 */
const WHOLE_UP_TO = 4096;

/**
 * The first `count` entries of a folder in name order that sort after `after` (or at it, when
 * `inclusive`), or all of them when there are no more than WHOLE_UP_TO; `rest` says whether
 * entries were left for a later call. Streams the folder and keeps a bounded number of names,
 * so a folder of 100,000 files is never held whole. Entries are taken from the handle's buffer
 * synchronously (the handle refills it with one directory read per 256): an async iteration
 * costs a promise or two per entry, which was half the CPU of a scan.
 */
export async function selectSorted(
  dir: string,
  after: string | null,
  inclusive: boolean,
  count: number,
  skip: (name: string) => boolean,
): Promise<{ entries: Dirent[]; rest: boolean }> {
  const bound = Math.max(count, WHOLE_UP_TO);
  let kept: Dirent[] = [];
  let rest = false;
  const handle = await opendir(dir, { bufferSize: 256 });
  try {
    let seen = 0;
    for (let d = handle.readSync(); d !== null; d = handle.readSync()) {
      if (++seen % YIELD_EVERY === 0) await new Promise<void>((resolve) => setImmediate(resolve));
      if (skip(d.name)) continue;
      if (after !== null && (inclusive ? d.name < after : d.name <= after)) continue;
      kept.push(d);
      if (kept.length >= bound * 2) {
        kept = trim(kept, count);
        rest = true;
      }
    }
  } finally {
    handle.closeSync();
  }
  if (!rest && kept.length <= bound) return { entries: trim(kept, kept.length), rest: false };
  return { entries: trim(kept, count), rest: true };
}

function trim(list: Dirent[], count: number): Dirent[] {
  list.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return list.length > count ? list.slice(0, count) : list;
}
