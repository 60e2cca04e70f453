import type { Command } from 'commander';
import type { BatonEvent, EventIterator } from '../../client/index.js';
import { clientCommand, run } from './common.js';
import { formatTime, line } from './output.js';

/** `TIME  EVENT  PATH  ACTOR  #SEQ`; a move shows `FROM -> PATH`. */
function eventLine(e: BatonEvent): string {
  const path = e.from === undefined ? e.path : `${e.from} -> ${e.path}`;
  return [formatTime(e.time), e.event.padEnd(16), path, e.actor, `#${e.seq}`].join('  ');
}

function note(text: string): void {
  process.stderr.write(`baton: ${text}\n`);
}

function reasonOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * Stop on SIGINT/SIGTERM or when stdout goes away (`baton tail | head`): the controller is
 * aborted and the iteration ends as if the log had; `release()` removes the handlers.
 */
function stopSignals(): { signal: AbortSignal; release(): void } {
  const ac = new AbortController();
  const stop = () => ac.abort();
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  process.stdout.on('error', stop);
  return {
    signal: ac.signal,
    release() {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      process.stdout.off('error', stop);
    },
  };
}

async function print(events: EventIterator, json: boolean, signal: AbortSignal): Promise<void> {
  for await (const e of events) {
    if (signal.aborted) break;
    line(json ? JSON.stringify(e) : eventLine(e));
  }
}

export function registerEvents(program: Command): void {
  clientCommand(program, 'tail [glob]', 'follow events (default every readable one, e.g. /demo/inbox/**) until Ctrl-C')
    .option('--after <cursor>', 'start after this cursor; 0 = the oldest retained event (default: from now)')
    .option('--once', 'print the events there are now and exit (then --after defaults to 0)')
    .addHelpText('after', '\nOne line per event (TIME EVENT PATH ACTOR #SEQ), or one JSON object per line with --json.\nOn exit the cursor to resume from is printed to stderr.')
    .action(
      run<{ after?: string; once?: boolean }>(async ({ args, opts, json, client }) => {
        const glob = (args[0] as string | undefined) ?? undefined;
        const c = client();
        const stop = stopSignals();
        try {
          if (opts.once) {
            const it = c.events.readAll({ path: glob, after: opts.after ?? '0', signal: stop.signal });
            await print(it, json, stop.signal);
            if (it.cursor) note(`resume with --after ${it.cursor}`);
            return;
          }
          // A server that cannot be reached at the start is an error; once connected, a dropped
          // connection is reopened from the last cursor, so nothing is lost.
          const first = new AbortController();
          let connected = false;
          let failure: unknown;
          const it = c.events.stream({
            path: glob,
            after: opts.after,
            signal: AbortSignal.any([stop.signal, first.signal]),
            onReady: (cursor) => {
              note(connected ? 'reconnected' : `following ${glob ?? '/**'} from ${cursor} (Ctrl-C to stop)`);
              connected = true;
            },
            onReconnect: (reason, ms) => {
              if (!connected) {
                failure = reason;
                first.abort();
              } else note(`connection lost (${reasonOf(reason)}); reconnecting in ${Math.round(ms / 1000)}s`);
            },
          });
          await print(it, json, stop.signal);
          if (failure !== undefined) throw failure;
          if (it.cursor) note(`stopped; resume with --after ${it.cursor}`);
        } finally {
          stop.release();
        }
      }),
    );
}
