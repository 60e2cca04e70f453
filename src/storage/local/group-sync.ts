import { closeSync, openSync } from 'node:fs';
import { fsyncFd } from './fsync.js';

interface DirState {
  running: Promise<void> | null;
  next: Promise<void> | null;
}

const noop = () => undefined;

/**
 * Group commit for folder entries: a folder's fsync makes every rename and link done in it
 * before the fsync started durable. So a caller whose change came while an fsync of its folder
 * was already running waits for the next one, and every caller waiting meanwhile shares that
 * next fsync: under load, one fsync per folder per round instead of one per write. Nobody is
 * answered before an fsync that started after their change has finished.
 */
export class GroupSync {
  private readonly dirs = new Map<string, DirState>();

  constructor(private readonly fsyncDir: (dir: string) => Promise<void> = syncDir) {}

  sync(dir: string): Promise<void> {
    let s = this.dirs.get(dir);
    if (!s) {
      s = { running: null, next: null };
      this.dirs.set(dir, s);
    }
    const running = s.running;
    if (!running) return this.begin(dir, s);
    if (s.next) return s.next;
    const state = s;
    const next = running.then(noop, noop).then(() => {
      state.next = null;
      return this.begin(dir, state);
    });
    state.next = next;
    return next;
  }

  private begin(dir: string, s: DirState): Promise<void> {
    const p = this.fsyncDir(dir).finally(() => {
      if (s.running !== p) return;
      s.running = null;
      if (!s.next) this.dirs.delete(dir);
    });
    s.running = p;
    return p;
  }
}

async function syncDir(dir: string): Promise<void> {
  const fd = openSync(dir, 'r');
  try {
    await fsyncFd(fd);
  } finally {
    closeSync(fd);
  }
}
