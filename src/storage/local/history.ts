import { createHash } from 'node:crypto';
import { closeSync, constants as fsc, fstatSync, openSync, readSync, writeSync } from 'node:fs';
import { mkdir, readFile, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { PathLog } from '../backend.js';
import { formatVersionLog, parseVersionLog, type VersionRecord } from '../version-log.js';
import { fdatasyncFd, openFd } from './fsync.js';

/** An empty log in a folder of its own, open for appending, made ahead of need. */
export interface SpareLog {
  dir: string;
  fd: number;
}

/**
 * The version history of one path, kept under `<root>/.baton/history/<hh>/<sha256>/`: an
 * append-only `log.jsonl` and the superseded bytes. Keyed by a hash of the path so any name,
 * however long or odd, maps to a safe location.
 */
export class PathHistory implements PathLog {
  readonly dir: string;
  private readonly logFile: string;
  /** `latest` found no log: the first append creates it without probing for it first. */
  private absent = false;

  static readonly LOG_NAME = 'log.jsonl';

  /** @param spare a made-ahead log to rename into place for a path written the first time, if one is ready */
  constructor(
    historyRoot: string,
    rel: string,
    private readonly spare: () => SpareLog | null = () => null,
  ) {
    const h = createHash('sha256').update(rel).digest('hex');
    this.dir = join(historyRoot, h.slice(0, 2), h);
    this.logFile = join(this.dir, PathHistory.LOG_NAME);
  }

  blob(version: number): string {
    return join(this.dir, `v${version}`);
  }

  async all(): Promise<VersionRecord[]> {
    let text: string;
    try {
      text = await readFile(this.logFile, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    return parseVersionLog(text);
  }

  /** The newest record, reading only the end of the log (synchronously: see fsync.ts). */
  async latest(): Promise<VersionRecord | null> {
    let fd: number;
    try {
      fd = openSync(this.logFile, 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      this.absent = true;
      return null;
    }
    let size: number;
    let tail: string;
    try {
      size = fstatSync(fd).size;
      const len = Math.min(size, 4096);
      const buf = Buffer.alloc(len);
      readSync(fd, buf, 0, len, size - len);
      tail = buf.toString('utf8');
    } finally {
      closeSync(fd);
    }
    // The first line of a 4 KiB tail may be cut: parse skips it, and the newest whole line wins.
    const last = parseVersionLog(tail).at(-1);
    if (last) return last;
    return size > 4096 ? ((await this.all()).at(-1) ?? null) : null;
  }

  /** Appends the records in one write, durably. */
  async append(...recs: VersionRecord[]): Promise<void> {
    const fd = (this.absent ? null : this.openForAppend()) ?? (await this.create());
    try {
      writeSync(fd, formatVersionLog(recs));
      await fdatasyncFd(fd);
    } finally {
      closeSync(fd);
    }
  }

  /** The log opened for appending, or null when there is none yet. */
  private openForAppend(): number | null {
    try {
      return openSync(this.logFile, fsc.O_WRONLY | fsc.O_APPEND);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
  }

  /**
   * Make the log and its folders, off the event loop: creating entries waits on the filesystem
   * journal, which under a stream of fsyncs can take a millisecond. A spare log made ahead is
   * renamed into place instead, which waits less (the folder of the path's hash level nearly
   * always exists).
   */
  private async create(): Promise<number> {
    const spare = this.spare();
    if (spare) {
      try {
        await mkdir(dirname(this.dir), { recursive: true });
        // Refused if the folder is there and holds kept bytes: then the log is made in it.
        await rename(spare.dir, this.dir);
        this.absent = false;
        return spare.fd;
      } catch {
        closeSync(spare.fd);
        void rm(spare.dir, { recursive: true, force: true }).catch(() => undefined);
      }
    }
    await mkdir(this.dir, { recursive: true });
    const fd = await openFd(this.logFile, 'a');
    this.absent = false;
    return fd;
  }
}
