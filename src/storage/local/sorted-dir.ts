import { opendir } from 'node:fs/promises';
import type { Dirent } from 'node:fs';

/**
 * The first `count` entries of a folder in name order that sort after `after` (or at it, when
 * `inclusive`). Streams the folder and keeps at most ~2×count names, so a folder of 100,000
 * files is never held whole.
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
  for await (const d of handle) {
    if (skip(d.name)) continue;
    if (after !== null && (inclusive ? d.name < after : d.name <= after)) continue;
    kept.push(d);
    if (kept.length >= count * 2) kept = trim(kept, count);
  }
  return trim(kept, count);
}

function trim(list: Dirent[], count: number): Dirent[] {
  list.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return list.length > count ? list.slice(0, count) : list;
}
