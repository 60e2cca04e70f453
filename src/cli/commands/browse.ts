import type { Command } from 'commander';
import type { ListEntry, SearchResult } from '../../client/index.js';
import { clientCommand, collect, positiveInt, run, UsageError } from './common.js';
import { dash, formatBytes, formatTime, line, printJson, table } from './output.js';

export function registerBrowse(program: Command): void {
  clientCommand(program, 'ls [path]', 'list a folder (default /: the workspaces), following cursors')
    .option('-r, --recursive', 'everything below, not just the folder itself')
    .action(
      run<{ recursive?: boolean }>(async ({ args, opts, json, client }) => {
        const dir = (args[0] as string | undefined) ?? '/';
        const entries: ListEntry[] = [];
        for await (const e of client().listAll(dir, { recursive: opts.recursive === true, limit: 1000 })) entries.push(e);
        if (json) return printJson({ entries, cursor: null });
        if (entries.length === 0) return;
        table(
          [{ header: 'SIZE', right: true }, 'MODIFIED', 'PATH'],
          entries.map((e) => (e.type === 'directory' ? ['-', formatTime(e.modifiedAt), `${e.path}/`] : [formatBytes(e.size), formatTime(e.modifiedAt), e.path])),
        );
      }),
    );

  clientCommand(program, 'search <root>', 'find files under ROOT by name glob and/or content')
    .option('--glob <glob>', 'name glob relative to ROOT, e.g. **/*.md')
    .option('-q, --query <text>', 'text the content must contain')
    .option('--exclude <glob>', 'leave out matches of this glob (repeatable)', collect)
    .option('--limit <n>', 'at most this many results (default: all)', positiveInt)
    .action(
      run<{ glob?: string; query?: string; exclude?: string[]; limit?: number }>(async ({ args, opts, json, client }) => {
        if (!opts.glob && !opts.query) throw new UsageError('search needs --glob, -q, or both');
        const results: SearchResult[] = [];
        const all = client().searchAll({ root: args[0] as string, glob: opts.glob, q: opts.query, exclude: opts.exclude });
        for await (const r of all) {
          results.push(r);
          if (opts.limit !== undefined && results.length >= opts.limit) break;
        }
        if (json) return printJson({ results, cursor: null });
        if (opts.query) {
          // grep style: one line per match
          for (const r of results) for (const m of r.matches ?? []) line(`${r.path}:${m.line}:${m.text}`);
          return;
        }
        if (results.length === 0) return;
        table([{ header: 'SIZE', right: true }, 'MODIFIED', 'PATH'], results.map((r) => [formatBytes(r.size), formatTime(r.modifiedAt), r.path]));
      }),
    );

  clientCommand(program, 'versions <path>', 'list the versions of a file, newest first').action(
    run(async ({ args, json, client }) => {
      const out = await client().versions(args[0] as string);
      if (json) return printJson(out);
      table(
        [{ header: 'VERSION', right: true }, { header: 'SIZE', right: true }, 'TIME', 'ACTOR', 'ETAG', 'NOTE'],
        out.versions.map((v) => [String(v.version), formatBytes(v.size), formatTime(v.time), v.actor, dash(v.etag), v.deleted ? 'deleted' : '']),
      );
    }),
  );

  clientCommand(program, 'restore <path> <version>', 'make an old version current (as a new version)').action(
    run(async ({ args, json, client }) => {
      const [path, version] = args as [string, string];
      if (!/^\d+$/.test(version) || Number(version) < 1) throw new UsageError(`version must be a whole number of at least 1, not ${version}`);
      const out = await client().restore(path, Number(version));
      if (json) return printJson(out);
      line(`restored ${out.path} from version ${out.restoredFrom}: now version ${out.version}`);
    }),
  );
}
