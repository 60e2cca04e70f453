import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { access, chmod, constants, mkdir, open, readFile, readdir, rename, unlink } from 'node:fs/promises';
import { delimiter, dirname, join } from 'node:path';
import { watch, type FSWatcher } from 'chokidar';

/**
 * Files of the host that are not workspace content: workspace definitions, the admin token,
 * audit segments. Kept beside the local driver so filesystem access stays in one place.
 */

export async function readText(file: string): Promise<string | null> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

/** Write a whole file so a reader sees the old or the new text, never a mix. */
export async function writeTextAtomic(file: string, text: string, mode = 0o644): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  const tmp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
  const fh = await open(tmp, 'wx', mode);
  try {
    await fh.write(text);
    await fh.sync();
  } finally {
    await fh.close();
  }
  try {
    await rename(tmp, file);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
  await chmod(file, mode);
}

/** Lines of a text file, streamed; nothing when the file does not exist. */
export async function* readLines(file: string): AsyncGenerator<string> {
  const stream = createReadStream(file, { encoding: 'utf8' });
  try {
    for await (const line of createInterface({ input: stream, crlfDelay: Infinity })) yield line;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  } finally {
    stream.destroy();
  }
}

/** The first executable called `name` on PATH, or null. */
export async function findExecutable(name: string, path = process.env.PATH ?? ''): Promise<string | null> {
  for (const dir of path.split(delimiter).filter(Boolean)) {
    const candidate = join(dir, name);
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {
      continue;
    }
  }
  return null;
}

export async function ensureDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
}

export async function listDir(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir)).sort();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

/** Whether a folder of the host exists (a missing workspaces folder is a typo worth a warning). */
export async function dirExists(dir: string): Promise<boolean> {
  try {
    await access(dir, constants.F_OK);
    return true;
  } catch {
    return false;
  }
}

export async function removeFile(file: string): Promise<void> {
  await unlink(file).catch((err) => {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  });
}

/** An append-only text file whose appends are made durable in groups (one fsync per batch). */
export class AppendFile {
  private fh: Awaited<ReturnType<typeof open>> | null = null;
  private pending: string[] = [];
  private waiters: Array<{ resolve: () => void; reject: (e: unknown) => void }> = [];
  private flushing: Promise<void> | null = null;

  constructor(readonly path: string) {}

  async open(): Promise<void> {
    await mkdir(dirname(this.path), { recursive: true });
    this.fh = await open(this.path, 'a');
  }

  /** Resolves once the line is on disk. Lines are written in the order append was called. */
  append(line: string): Promise<void> {
    this.pending.push(line);
    const done = new Promise<void>((resolve, reject) => this.waiters.push({ resolve, reject }));
    if (!this.flushing) this.flushing = this.flush();
    return done;
  }

  private async flush(): Promise<void> {
    while (this.pending.length > 0) {
      const lines = this.pending;
      const waiters = this.waiters;
      this.pending = [];
      this.waiters = [];
      try {
        if (!this.fh) throw new Error(`${this.path} is not open`);
        await this.fh.write(lines.join(''));
        await this.fh.datasync();
        for (const w of waiters) w.resolve();
      } catch (err) {
        for (const w of waiters) w.reject(err);
      }
    }
    this.flushing = null;
  }

  async close(): Promise<void> {
    if (this.flushing) await this.flushing;
    await this.fh?.close();
    this.fh = null;
  }
}

export function watchDir(dir: string, onChange: () => void): FSWatcher {
  return watch(dir, { ignoreInitial: true, depth: 0, awaitWriteFinish: { stabilityThreshold: 100, pollInterval: 20 } })
    .on('all', onChange)
    .on('error', () => undefined);
}

