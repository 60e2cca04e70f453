import type { Command } from 'commander';
import { clientCommand, group, positiveInt, run } from './common.js';
import { formatTime, line, printJson, table } from './output.js';

/** `baton tickets claim|heartbeat|complete|fail`: the supervisor pattern from a shell. */
export function registerTickets(program: Command): void {
  const tickets = group(program, 'tickets', 'claim and finish tickets of a queue (pending/ → in-progress/ → done/ or failed/)');

  clientCommand(tickets, 'claim <queue>', 'claim the oldest pending ticket; prints its path, fencing token and content (exit 3: queue empty)')
    .option('--lease <seconds>', 'lease length in seconds', positiveInt)
    .action(
      run<{ lease?: number }>(async ({ opts, args, json, client }) => {
        const t = await client().tickets.claim(args[0] as string, opts.lease ? { leaseSeconds: opts.lease } : {});
        if (json) return printJson(t ?? { ticket: null });
        if (!t) {
          line('queue is empty');
          return 3;
        }
        table(
          ['PATH', 'TOKEN', 'ATTEMPT', 'LEASE UNTIL'],
          [[t.path, String(t.fencingToken), String(t.attempt), formatTime(t.leaseExpiresAt)]],
        );
        line('');
        line(t.content);
      }),
    );

  clientCommand(tickets, 'heartbeat <path> <token>', 'extend the lease of a claimed ticket')
    .option('--lease <seconds>', 'new lease length in seconds', positiveInt)
    .action(
      run<{ lease?: number }>(async ({ opts, args, json, client }) => {
        const r = await client().tickets.heartbeat(args[0] as string, positiveInt(args[1] as string), opts.lease ? { leaseSeconds: opts.lease } : {});
        if (json) return printJson(r);
        line(`${r.path}: lease until ${formatTime(r.leaseExpiresAt)}`);
      }),
    );

  clientCommand(tickets, 'complete <path> <token>', 'move a claimed ticket to done/')
    .option('--result <text>', 'a result, written beside the ticket as <name>.result')
    .action(
      run<{ result?: string }>(async ({ opts, args, json, client }) => {
        const r = await client().tickets.complete(args[0] as string, positiveInt(args[1] as string), opts.result);
        if (json) return printJson(r);
        line(`${r.path}${r.result ? ` (result: ${r.result})` : ''}`);
      }),
    );

  clientCommand(tickets, 'fail <path> <token>', 'move a claimed ticket to failed/, or back to pending/ with --retry')
    .option('--retry', 'return it to pending/ while attempts remain')
    .option('--reason <text>', 'why; written beside it in failed/')
    .action(
      run<{ retry?: boolean; reason?: string }>(async ({ opts, args, json, client }) => {
        const r = await client().tickets.fail(args[0] as string, positiveInt(args[1] as string), { retry: opts.retry === true, ...(opts.reason ? { reason: opts.reason } : {}) });
        if (json) return printJson(r);
        line(`${r.path}${r.retried ? ' (back in pending/)' : ''}`);
      }),
    );
}
