import type { Command } from 'commander';
import { clientCommand, group, run, UsageError } from './common.js';
import { formatBytes, formatTime, line, printJson, table } from './output.js';

export function registerGates(program: Command): void {
  const gates = group(program, 'gates', 'human gates: list what waits, approve, reject with a note');

  clientCommand(gates, 'list', 'each gate with a waiting list, and the items waiting that this key may read')
    .alias('ls')
    .action(
      run(async ({ json, client }) => {
        const out = await client().gates.list();
        if (json) return printJson(out);
        if (out.gates.length === 0) return line('no gate with a waiting list (declare one as {path, from} under gates: in a workspace YAML)');
        const rows = out.gates.flatMap((g) =>
          g.waiting.length ? g.waiting.map((w) => [g.gate, w.path, formatBytes(w.size), formatTime(w.modifiedAt)]) : [[g.gate, '(nothing waiting)', '', '']],
        );
        table(['GATE', 'WAITING', { header: 'SIZE', right: true }, 'SINCE'], rows);
      }),
    );

  clientCommand(gates, 'approve <path>', 'move a waiting item into its gate (a human key)')
    .option('--gate <path>', 'the gate, when the item\'s folder waits for several')
    .option('--note <text>', 'a remark kept on the event and the audit entry')
    .action(
      run<{ gate?: string; note?: string }>(async ({ args, opts, json, client }) => {
        const out = await client().gates.approve(args[0] as string, { gate: opts.gate, note: opts.note });
        if (json) return printJson(out);
        line(`approved ${out.from} -> ${out.path}`);
      }),
    );

  clientCommand(gates, 'reject <path>', 'move a waiting item to rejected/ beside it, with a note saying why (a human key)')
    .option('--note <text>', 'why (required): the author reads it on the event')
    .option('--gate <path>', 'the gate, when the item\'s folder waits for several')
    .action(
      run<{ gate?: string; note?: string }>(async ({ args, opts, json, client }) => {
        if (!opts.note?.trim()) throw new UsageError('gates reject needs --note TEXT saying what to fix');
        const out = await client().gates.reject(args[0] as string, opts.note, { gate: opts.gate });
        if (json) return printJson(out);
        line(`rejected ${out.from} -> ${out.path}: ${out.note}`);
      }),
    );
}
