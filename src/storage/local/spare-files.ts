import { randomBytes } from 'node:crypto';
import { closeSync } from 'node:fs';
import { unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { openFd } from './fsync.js';

/** Empty files kept ready; a burst past this many creates the rest on the spot. */
const SPARES = 8;
/**
 * A spare older than this is dropped, not used: another replica's start-up sweeps temp files a
 * day old, and must never take one this process still means to link into place.
 */
const MAX_AGE_MS = 10 * 60_000;

interface Spare {
  path: string;
  fd: number;
  made: number;
}

/**
 * New, empty, open temp files made ahead of need. Creating a file waits for the filesystem
 * journal, and on a disk busy with fsyncs that wait (most of a millisecond) was the largest
 * single step of a small write; a write now takes a file made while the previous one was in
 * flight. Files are made one at a time, off the request, and stay private to this process.
 */
export class SpareFiles {
  private readonly spares: Spare[] = [];
  private making: Promise<void> | null = null;
  private closed = false;

  constructor(
    private readonly dir: string,
    private readonly tag: string,
  ) {}

  /** A new empty file open for writing, and its path; the caller closes and removes it. */
  async take(): Promise<{ path: string; fd: number }> {
    const now = Date.now();
    let spare = this.spares.pop();
    while (spare && now - spare.made > MAX_AGE_MS) {
      void this.drop(spare);
      spare = this.spares.pop();
    }
    this.fill();
    if (spare) return spare;
    const path = this.newPath();
    return { path, fd: await openFd(path, 'wx') };
  }

  /** Make spares up to the pool's size, in the background. */
  fill(): void {
    if (this.making || this.closed) return;
    this.making = (async () => {
      while (!this.closed && this.spares.length < SPARES) {
        const path = this.newPath();
        const fd = await openFd(path, 'wx');
        if (this.closed) {
          await this.drop({ path, fd, made: 0 });
          return;
        }
        this.spares.push({ path, fd, made: Date.now() });
      }
    })()
      // A disk that refuses new files refuses the write too, which then reports why.
      .catch(() => undefined)
      .finally(() => (this.making = null));
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.making;
    await Promise.all(this.spares.splice(0).map((s) => this.drop(s)));
  }

  private async drop(s: Spare): Promise<void> {
    closeSync(s.fd);
    await unlink(s.path).catch(() => undefined);
  }

  private newPath(): string {
    return join(this.dir, `${this.tag}-${process.pid}-${randomBytes(8).toString('hex')}`);
  }
}
