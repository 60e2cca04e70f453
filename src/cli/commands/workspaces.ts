import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { parse as parseYaml } from 'yaml';
import type { NewWorkspace, WorkspaceInfo } from '../../client/index.js';
import { clientCommand, collect, group, run, UsageError } from './common.js';
import { line, printJson, table } from './output.js';

function row(w: WorkspaceInfo): string[] {
  return [w.name, w.id, w.driver, w.folders.join(' ') || '-', w.gates.join(' ') || '-'];
}
const COLUMNS = ['NAME', 'ID', 'DRIVER', 'FOLDERS', 'GATES'];

export function registerWorkspaces(program: Command): void {
  const ws = group(program, 'workspaces', 'list and create workspaces (admin)');

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
