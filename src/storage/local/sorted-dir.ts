import { statSync, type BigIntStats, type Dirent } from 'node:fs';
import { opendir } from 'node:fs/promises';

/** A scan lets other work run after this many entries, so a huge folder holds no request up for long. */
const YIELD_EVERY = 1024;
/**
 * A folder with at most this many entries is returned whole from one scan: a walk through a
 * folder of a few thousand files then reads it once, not once per batch (each scan reads every
 * entry of the folder, whatever the batch). Such a folder's sorted entries are also kept.
 */
const WHOLE_UP_TO = 4096;
/** Entries kept across all folders; the least recently listed folders go first. */
const KEPT_MAX = 16_384;
/**
 * A folder's entries are kept only when its mtime is this much older than the scan. A change
 * made after the scan then always gives a different mtime, even where the file system's clock
 * is coarse (jiffies on Linux, 2 s on FAT): the "racily clean" rule git applies to its index.
 */
const SETTLED_NS = 3_000_000_000n;

interface Kept {
  ino: bigint;
  mtimeNs: bigint;
  ctimeNs: bigint;
  sorted: Dirent[];
}

export interface Selection {
  entries: Dirent[];
  /** Whether entries were left for a later call. */
  rest: boolean;
}

/**
 * Folder entries in name order, read in bounded memory. Polling agents list the same folders
 * over and over, so the sorted entries of a folder that has not changed (same inode, mtime and
 * ctime, checked with one stat per call) are kept and reused: the scan and the sort were most of
 * a listing's CPU.
 */
export class SortedFolders {
  private readonly kept = new Map<string, Kept>();
  private held = 0;

  /**
   * The first `count` entries of a folder in name order that sort after `after` (or at it, when
   * `inclusive`), or all of them when the folder holds no more than WHOLE_UP_TO; `skip` leaves
   * names out.
   */
  async select(dir: string, after: string | null, inclusive: boolean, count: number, skip: (name: string) => boolean): Promise<Selection> {
    let st: BigIntStats | null = null;
    try {
      st = statSync(dir, { bigint: true });
    } catch {
      // Let the scan report what is wrong (ENOENT, ENOTDIR), as it would without the stat.
    }
    const hit = st ? this.kept.get(dir) : undefined;
    if (hit && hit.ino === st!.ino && hit.mtimeNs === st!.mtimeNs && hit.ctimeNs === st!.ctimeNs) {
      this.kept.delete(dir);
      this.kept.set(dir, hit);
      return { entries: entriesAfter(hit.sorted, after, inclusive, skip), rest: false };
    }
    if (hit) this.forget(dir, hit);
    const scan = await scanSorted(dir, after, inclusive, count, skip);
    if (!('whole' in scan)) return scan;
    if (st?.isDirectory() && BigInt(Date.now()) * 1_000_000n - st.mtimeNs > SETTLED_NS && scan.whole.length <= KEPT_MAX) {
      this.keep(dir, { ino: st.ino, mtimeNs: st.mtimeNs, ctimeNs: st.ctimeNs, sorted: scan.whole });
    }
    return { entries: entriesAfter(scan.whole, after, inclusive, skip), rest: false };
  }

  private keep(dir: string, k: Kept): void {
    this.kept.set(dir, k);
    this.held += k.sorted.length;
    for (const [oldest, o] of this.kept) {
      if (this.held <= KEPT_MAX) break;
      this.forget(oldest, o);
    }
  }

  private forget(dir: string, k: Kept): void {
    this.kept.delete(dir);
    this.held -= k.sorted.length;
  }
}

/** The entries of a sorted folder after the resume point, without the skipped names. */
function entriesAfter(sorted: Dirent[], after: string | null, inclusive: boolean, skip: (name: string) => boolean): Dirent[] {
  let lo = 0;
  if (after !== null) {
    let hi = sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const name = sorted[mid]!.name;
      if (inclusive ? name < after : name <= after) lo = mid + 1;
      else hi = mid;
    }
  }
  const out: Dirent[] = [];
  for (let i = lo; i < sorted.length; i++) if (!skip(sorted[i]!.name)) out.push(sorted[i]!);
  return out;
}

/**
 * One scan of a folder: the whole folder sorted when it holds no more than WHOLE_UP_TO entries,
 * else the selection itself, keeping a bounded number of names so a folder of 100,000 files is
 * never held whole. Entries are taken from the handle's buffer synchronously (the handle refills
 * it with one directory read per 256): an async iteration costs a promise or two per entry,
 * which was half the CPU of a scan.
 */
async function scanSorted(dir: string, after: string | null, inclusive: boolean, count: number, skip: (name: string) => boolean): Promise<{ whole: Dirent[] } | Selection> {
  const bound = Math.max(count, WHOLE_UP_TO);
  const wanted = (d: Dirent) => !skip(d.name) && (after === null || (inclusive ? d.name >= after : d.name > after));
  let all: Dirent[] | null = [];
  let kept: Dirent[] = [];
  let rest = false;
  const handle = await opendir(dir, { bufferSize: 256 });
  try {
    let seen = 0;
    for (let d = handle.readSync(); d !== null; d = handle.readSync()) {
      if (++seen % YIELD_EVERY === 0) await new Promise<void>((resolve) => setImmediate(resolve));
      if (all) {
        all.push(d);
        if (all.length <= WHOLE_UP_TO) continue;
        // Too big to hold whole: from here on only the selection is kept.
        kept = all.filter(wanted);
        all = null;
      } else if (wanted(d)) {
        kept.push(d);
      }
      if (kept.length >= bound * 2) {
        kept = trim(kept, count);
        rest = true;
      }
    }
  } finally {
    handle.closeSync();
  }
  if (all) return { whole: trim(all, all.length) };
  if (!rest && kept.length <= bound) return { entries: trim(kept, kept.length), rest: false };
  return { entries: trim(kept, count), rest: true };
}

function trim(list: Dirent[], count: number): Dirent[] {
  list.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return list.length > count ? list.slice(0, count) : list;
}
