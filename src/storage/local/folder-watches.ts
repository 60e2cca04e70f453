import { lstatSync, watch, type FSWatcher } from 'node:fs';
import { opendir } from 'node:fs/promises';
import { join, sep } from 'node:path';

export interface FolderWatchHandlers {
  /** Something at `abs` changed: created, written, removed or renamed (a file or a folder). */
  change(abs: string): void;
  /** A folder appeared; files may already be in it that no change will announce. */
  folder(abs: string): void;
  /** A watch failed or the kernel dropped events: only a full comparison can tell what changed. */
  lost(err: unknown): void;
}

function errno(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException)?.code;
}

/**
 * One `fs.watch` per folder of a tree (inotify on Linux), each reporting the name of every
 * entry that changes inside it. A change costs one callback, whatever the folder's size, and the
 * tree costs one watch per folder, not per file. (chokidar, which this replaced, re-read and
 * lstat'ed a whole folder after every change in it, and watched every file.) Symlinked folders
 * are not followed.
 */
export class FolderWatches {
  private readonly watches = new Map<string, FSWatcher>();
  private closed = false;

  constructor(
    private readonly root: string,
    private readonly skip: (abs: string) => boolean,
    private readonly on: FolderWatchHandlers,
  ) {}

  async start(): Promise<void> {
    await this.add(this.root);
  }

  close(): void {
    this.closed = true;
    for (const w of this.watches.values()) w.close();
    this.watches.clear();
  }

  private async add(dir: string): Promise<void> {
    if (this.closed || this.watches.has(dir) || (dir !== this.root && this.skip(dir))) return;
    let w: FSWatcher;
    try {
      w = watch(dir, { persistent: false }, (event, name) => this.event(dir, event, name));
    } catch (err) {
      if (errno(err) === 'ENOENT' || errno(err) === 'ENOTDIR') return;
      this.on.lost(err);
      return;
    }
    w.on('error', (err) => {
      this.drop(dir);
      if (!this.closed) this.on.lost(err);
    });
    this.watches.set(dir, w);
    try {
      for await (const d of await opendir(dir)) {
        if (d.isDirectory()) await this.add(join(dir, d.name));
      }
    } catch (err) {
      if (errno(err) !== 'ENOENT' && errno(err) !== 'ENOTDIR') this.on.lost(err);
    }
  }

  private event(dir: string, event: string, name: string | Buffer | null): void {
    if (this.closed) return;
    if (name === null) {
      // inotify says something happened without saying what (e.g. its queue overflowed)
      this.on.lost(new Error(`folder watch on ${dir} reported a change without a name`));
      return;
    }
    const abs = join(dir, name.toString());
    if (this.skip(abs)) return;
    this.on.change(abs);
    // Creations, removals and renames come as 'rename': the only events that can add or remove a folder.
    if (event === 'rename') this.track(abs);
  }

  /**
   * A burst of new files is one 'rename' each: the lstat that tells a new folder from a file is
   * made synchronously (microseconds), not as a thread-pool round trip and a promise per file.
   */
  private track(abs: string): void {
    let st;
    try {
      st = lstatSync(abs, { throwIfNoEntry: false });
    } catch {
      st = undefined;
    }
    if (st?.isDirectory()) {
      if (this.watches.has(abs)) return;
      void this.add(abs).then(
        () => this.on.folder(abs),
        (err: unknown) => this.on.lost(err),
      );
    } else if (this.watches.has(abs)) {
      this.drop(abs);
    }
  }

  /** Stop watching a folder that is gone, and every folder below it. */
  private drop(dir: string): void {
    for (const [d, w] of this.watches) {
      if (d === dir || d.startsWith(dir + sep)) {
        w.close();
        this.watches.delete(d);
      }
    }
  }
}
