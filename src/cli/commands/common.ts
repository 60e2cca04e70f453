import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { BatonClient, BatonClientError } from '../../client/index.js';

export const DEFAULT_URL = 'http://127.0.0.1:8787';

/** The options every client command takes. */
export interface ClientFlags {
  url?: string;
  key?: string;
  json?: boolean;
}

/** A mistake in how the command was called: exit code 2, like commander's own. */
export class UsageError extends Error {}

/** Commander reports usage errors with exit code 1; Baton's CLI uses 2 for them. */
function usageExits(cmd: Command): Command {
  return cmd.exitOverride((err) => {
    throw err.exitCode === 0 ? err : new CommanderError(2, err.code, err.message);
  });
}

/** A command that only groups subcommands (`keys`, `workspaces`). */
export function group(parent: Command, name: string, description: string): Command {
  return usageExits(parent.command(name).description(description));
}

/** A command that talks to a Baton server: `--url`, `--key` and `--json` come with it. */
export function clientCommand(parent: Command, nameAndArgs: string, description: string): Command {
  return usageExits(parent.command(nameAndArgs).description(description))
    .option('--url <url>', `server URL (env BATON_URL, default ${DEFAULT_URL})`)
    .option('--key <key>', 'API key or admin token (env BATON_KEY)')
    .option('--json', 'print the API JSON instead of a table');
}

export interface Run<O> {
  /** Options of the command and its parents (`baton audit --json verify` works too). */
  opts: O & ClientFlags;
  /** Positional arguments as commander parsed them. */
  args: unknown[];
  json: boolean;
  /** A client for --url/--key (or BATON_URL/BATON_KEY); a missing key is a usage error. */
  client(): BatonClient;
}

export function makeClient(flags: ClientFlags, env: NodeJS.ProcessEnv = process.env): BatonClient {
  const url = flags.url ?? (env.BATON_URL || DEFAULT_URL);
  const key = flags.key ?? env.BATON_KEY;
  if (!key) throw new UsageError('no key: set BATON_KEY or pass --key');
  try {
    new URL(url);
  } catch {
    throw new UsageError(`not a URL: ${url}`);
  }
  return new BatonClient({ url, key });
}

/**
 * Wrap a command's action: build its context, print failures as `baton: CODE: message`, and
 * set the exit code (the action's own result, 1 for an API error, 2 for a usage error).
 */
export function run<O = object>(fn: (ctx: Run<O>) => Promise<number | void>): (...args: unknown[]) => Promise<void> {
  return async (...actionArgs: unknown[]) => {
    const cmd = actionArgs[actionArgs.length - 1] as Command;
    const opts = cmd.optsWithGlobals() as O & ClientFlags;
    try {
      const code = await fn({ opts, args: cmd.processedArgs, json: opts.json === true, client: () => makeClient(opts) });
      if (code) process.exitCode = code;
    } catch (err) {
      process.exitCode = report(err);
    }
  };
}

/** Print an error the way every command does; returns the exit code. */
export function report(err: unknown): number {
  if (err instanceof BatonClientError) {
    const retry = err.retryAfter !== undefined ? ` (retry after ${err.retryAfter}s)` : '';
    process.stderr.write(`baton: ${err.code}: ${err.message}${retry}\n`);
    return 1;
  }
  if (err instanceof UsageError) {
    process.stderr.write(`baton: usage: ${err.message}\n`);
    return 2;
  }
  const sys = err as NodeJS.ErrnoException;
  if (sys && typeof sys.code === 'string' && typeof sys.message === 'string') {
    process.stderr.write(`baton: io: ${sys.message}\n`);
    return 1;
  }
  process.stderr.write(`baton: internal: ${err instanceof Error ? err.message : String(err)}\n`);
  return 1;
}

/** Commander argument parsers: bad values become usage errors (exit 2). */
export function positiveInt(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1) throw new InvalidArgumentError('expected a whole number of at least 1');
  return Number(value);
}

export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}
