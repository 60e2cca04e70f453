import { createReadStream, createWriteStream } from 'node:fs';
import { rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { Readable, Transform, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import type { Command } from 'commander';
import { clientCommand, positiveInt, run, UsageError } from './common.js';
import { formatBytes, line, printJson } from './output.js';
import { Progress } from './progress.js';

/** Counts bytes on their way through, for the progress line. */
function counter(progress: Progress): Transform {
  let n = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      n += chunk.length;
      progress.update(n);
      cb(null, chunk);
    },
  });
}

/** Write to `file` through a temporary sibling, renamed into place only when complete. */
async function writeAtomically(file: string, source: Readable, through: Transform): Promise<void> {
  const dir = dirname(file);
  if (!(await stat(dir).catch(() => null))?.isDirectory()) throw Object.assign(new Error(`no such directory: ${dir}`), { code: 'ENOENT' });
  const tmp = join(dir, `.${basename(file)}.baton-${process.pid}-${Date.now()}.tmp`);
  try {
    await pipeline(source, through, createWriteStream(tmp, { flags: 'wx' }));
    await rename(tmp, file);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
}

async function writeStdout(source: Readable, through: Transform): Promise<void> {
  try {
    await pipeline(source, through, process.stdout as Writable, { end: false });
  } catch (err) {
    // A reader that stops early (`baton get x | head`) is not a failure.
    if ((err as NodeJS.ErrnoException).code !== 'EPIPE') throw err;
  }
}

export function registerFiles(program: Command): void {
  clientCommand(program, 'put <source> <path>', 'write a local file (or - for stdin) to PATH')
    .option('--content-type <type>', 'the mimeType to keep (default: guessed from PATH)')
    .option('--if-match <etag>', 'write only if the current etag is this one')
    .option('--create-only', 'fail with precondition_failed if PATH exists')
    .action(
      run<{ contentType?: string; ifMatch?: string; createOnly?: boolean }>(async ({ args, opts, json, client }) => {
        const [source, target] = args as [string, string];
        // Like cp: a folder target (trailing slash) keeps the local file's name.
        const path = target.endsWith('/') && source !== '-' ? target + basename(source) : target;
        let body: AsyncIterable<Uint8Array>;
        let total: number | undefined;
        if (source === '-') {
          body = process.stdin;
        } else {
          const st = await stat(source);
          if (!st.isFile()) throw new UsageError(`${source} is not a file`);
          total = st.size;
          body = createReadStream(source);
        }
        const progress = new Progress(`put ${path}`, total);
        const out = await client().put(path, body, {
          contentType: opts.contentType,
          ifMatch: opts.ifMatch,
          ifNoneMatch: opts.createOnly === true,
          onProgress: (n) => progress.update(n),
        });
        progress.done();
        if (json) return printJson(out);
        line(`${out.created ? 'created' : 'updated'} ${out.path}  ${formatBytes(out.size)}  version ${out.version}  etag ${out.etag}`);
      }),
    );

  clientCommand(program, 'get <path>', 'read a file to stdout (raw bytes) or to -o FILE')
    .option('-o, --output <file>', 'write to this file instead of stdout')
    .option('--version <n>', 'an older version (see baton versions)', positiveInt)
    .action(
      run<{ output?: string; version?: number }>(async ({ args, opts, json, client }) => {
        const path = args[0] as string;
        if (json && !opts.output) throw new UsageError('--json needs -o FILE (without it the body goes to stdout)');
        const file = await client().getStream(path, { version: opts.version });
        const progress = new Progress(`get ${path}`, file.size >= 0 ? file.size : undefined);
        const source = Readable.fromWeb(file.body as WebReadableStream<Uint8Array>);
        if (opts.output && opts.output !== '-') await writeAtomically(opts.output, source, counter(progress));
        else await writeStdout(source, counter(progress));
        progress.done();
        const { body: _body, ...meta } = file;
        if (json) printJson({ ...meta, file: opts.output });
      }),
    );

  clientCommand(program, 'rm <path>', 'delete a file (its versions stay restorable)')
    .option('--if-match <etag>', 'delete only if the current etag is this one')
    .action(
      run<{ ifMatch?: string }>(async ({ args, opts, json, client }) => {
        const out = await client().delete(args[0] as string, { ifMatch: opts.ifMatch });
        if (json) return printJson(out);
        line(`deleted ${out.path}`);
      }),
    );

  clientCommand(program, 'mv <from> <to>', 'move a file atomically within a workspace')
    .option('--overwrite', 'replace TO if it exists (default: conflict)')
    .action(
      run<{ overwrite?: boolean }>(async ({ args, opts, json, client }) => {
        const [from, to] = args as [string, string];
        const out = await client().move(from, to, { overwrite: opts.overwrite === true });
        if (json) return printJson(out);
        line(`moved ${out.from} -> ${out.path}  version ${out.version}`);
      }),
    );
}
