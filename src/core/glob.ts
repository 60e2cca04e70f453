import picomatch from 'picomatch';

/**
 * Globs over namespace paths: `*` within one segment, `**` across segments. Dotfiles match like
 * any other name: agents do not expect `**` to skip `.env`.
 */
const OPTIONS: picomatch.PicomatchOptions = { dot: true, nobrace: false, noextglob: true };

const cache = new Map<string, (path: string) => boolean>();

export function globMatcher(glob: string): (path: string) => boolean {
  let m = cache.get(glob);
  if (!m) {
    m = picomatch(glob, OPTIONS);
    if (cache.size > 10_000) cache.clear();
    cache.set(glob, m);
  }
  return m;
}

export function matchesGlob(glob: string, path: string): boolean {
  return globMatcher(glob)(path);
}

/**
 * Could some path at or below `dir` match `glob`? Used to decide whether a folder may be shown
 * in a listing: it is shown when the key may read something under it.
 */
export function globReachesUnder(glob: string, dirSegments: readonly string[]): boolean {
  const g = glob.split('/').filter((s) => s !== '');
  for (let i = 0; i < dirSegments.length; i++) {
    const gs = g[i];
    if (gs === undefined) return false;
    if (gs === '**') return true;
    if (!picomatch.isMatch(dirSegments[i]!, gs, OPTIONS)) return false;
  }
  return true;
}

/**
 * Does `glob` match every path below `dir`? True for a glob of literal segments followed by one
 * final `**` (as in `/ws/a/**`), rooted at `dir` or above it: a listing under such a grant need
 * not match each entry.
 */
export function globCoversUnder(glob: string, dirSegments: readonly string[]): boolean {
  const g = glob.split('/').filter((s) => s !== '');
  if (g.at(-1) !== '**' || g.length - 1 > dirSegments.length) return false;
  for (let i = 0; i < g.length - 1; i++) {
    if (g[i] !== dirSegments[i] || picomatch.scan(g[i]!).isGlob) return false;
  }
  return true;
}

/** The literal folder a glob is rooted at, e.g. '/ws/a' for '/ws/a/*.md'. */
export function globBase(glob: string): string {
  const segs: string[] = [];
  for (const s of glob.split('/').filter((x) => x !== '')) {
    if (picomatch.scan(s).isGlob) break;
    segs.push(s);
  }
  return '/' + segs.join('/');
}
