import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { parse as parseYaml } from 'yaml';
import type { NewWorkspace, WorkspaceInfo } from '../../client/index.js';
import { dirExists, listDir, readText } from '../../storage/local/host-files.js';
import { checkWorkspaceText } from '../../workspaces/check.js';
import { clientCommand, collect, group, report, run, UsageError } from './common.js';
import { line, printJson, table } from './output.js';

function row(w: WorkspaceInfo): string[] {
  return [w.name, w.id, w.driver, w.folders.join(' ') || '-', w.gates.join(' ') || '-'];
}
const COLUMNS = ['NAME', 'ID', 'DRIVER', 'FOLDERS', 'GATES'];

export function registerWorkspaces(program: Command): void {
  const ws = group(program, 'workspaces', 'list and create workspaces (admin); check workspace files');

  clientCommand(ws, 'list', 'list the workspaces')
    .alias('ls')
    .action(
      run(async ({ json, client }) => {
        const out = await client().workspaces.list();
        if (json) return printJson(out);
        if (out.workspaces.length === 0) return line('no workspaces');
        table(COLUMNS, out.workspaces.map(row));
      }),
    );

  ws.command('check [files...]')
    .description('validate workspace YAML files without starting Baton (default: every *.yaml in --workspaces)')
    .option('--workspaces <dir>', 'workspace definitions (BATON_WORKSPACES_DIR, default ./workspaces)')
    .option('--data <dir>', 'data directory local roots are taken from (BATON_DATA_DIR, default ./data)')
    .action(async (files: string[], flags: { workspaces?: string; data?: string }) => {
      try {
        process.exitCode = await checkFiles(files, flags);
      } catch (err) {
        process.exitCode = report(err);
      }
    });

  clientCommand(ws, 'create [name]', 'create a workspace from flags or a YAML/JSON definition')
    .option('--from <file>', 'a workspace definition (YAML or JSON, the fields of a workspace file)')
    .option('--id <id>', 'the events\' workspaceId (default ws_NAME)')
    .option('--folder <folder>', 'a folder to create (repeatable)', collect)
    .option('--gate <path>', 'a folder only human keys may write into (repeatable)', collect)
    .action(
      run<{ from?: string; id?: string; folder?: string[]; gate?: string[] }>(async ({ args, opts, json, client }) => {
        let def: Record<string, unknown> = {};
        if (opts.from) {
          const doc: unknown = parseYaml(await readFile(opts.from, 'utf8'));
          if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new UsageError(`${opts.from}: not a workspace definition`);
          def = doc as Record<string, unknown>;
        }
        const name = (args[0] as string | undefined) ?? def.name;
        if (typeof name !== 'string' || !name) throw new UsageError('a workspace needs a name (argument or name: in --from)');
        def.name = name;
        if (opts.id) def.id = opts.id;
        if (opts.folder?.length) def.folders = [...((def.folders as string[] | undefined) ?? []), ...opts.folder];
        if (opts.gate?.length) def.gates = [...((def.gates as string[] | undefined) ?? []), ...opts.gate];
        const out = await client().workspaces.create(def as unknown as NewWorkspace);
        if (json) return printJson(out);
        table(COLUMNS, [row(out)]);
      }),
    );
}

/** Check each file; one line per file, `ok` or the error. Exit 1 when any is invalid. */
async function checkFiles(files: string[], flags: { workspaces?: string; data?: string }): Promise<number> {
  const dataDir = resolve(flags.data ?? (process.env.BATON_DATA_DIR || './data'));
  let targets = files;
  if (targets.length === 0) {
    const dir = flags.workspaces ?? (process.env.BATON_WORKSPACES_DIR || './workspaces');
    if (!(await dirExists(dir))) throw new UsageError(`the workspaces folder ${dir} does not exist (pass --workspaces DIR, or FILE...)`);
    targets = (await listDir(dir)).filter((f) => /\.ya?ml$/.test(f)).map((f) => join(dir, f));
    if (targets.length === 0) throw new UsageError(`${dir} holds no *.yaml workspace files`);
  }
  let bad = 0;
  for (const file of targets) {
    const text = await readText(file);
    if (text === null) throw new UsageError(`${file}: no such file`);
    try {
      const def = checkWorkspaceText(text, file, dataDir);
      line(`ok  ${file}: workspace ${def.name} (${def.storage.driver}, ${def.folders.length} folders)`);
    } catch (err) {
      bad++;
      process.stderr.write(`baton: invalid workspace file ${(err as Error).message}\n`);
    }
  }
  return bad > 0 ? 1 : 0;
}
