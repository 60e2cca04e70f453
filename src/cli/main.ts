import { createRequire } from 'node:module';
import { Command, CommanderError } from 'commander';
import { registerCompletion } from './commands/completion.js';
import { registerInit } from './commands/init.js';
import { registerAudit } from './commands/audit.js';
import { registerBrowse } from './commands/browse.js';
import { registerEvents } from './commands/events.js';
import { registerFiles } from './commands/files.js';
import { registerKeys } from './commands/keys.js';
import { registerMcp } from './commands/mcp.js';
import { registerServe } from './commands/serve.js';
import { registerTickets } from './commands/tickets.js';
import { registerSubs } from './commands/subs.js';
import { registerGates } from './commands/gates.js';
import { registerWorkspaces } from './commands/workspaces.js';

/** From package.json, two folders up from both src/cli and dist/cli. */
function packageVersion(): string {
  return (createRequire(import.meta.url)('../../package.json') as { version: string }).version;
}

export async function main(argv: string[]): Promise<void> {
  const program = new Command('baton')
    .description('Baton: agents hand work to each other through files')
    .addHelpText('after', '\nbaton --version prints the version.')
    .showHelpAfterError()
    .exitOverride();
  registerServe(program);
  registerKeys(program);
  registerFiles(program);
  registerBrowse(program);
  registerEvents(program);
  registerSubs(program);
  registerAudit(program);
  registerWorkspaces(program);
  registerTickets(program);
  registerGates(program);
  registerMcp(program);
  registerInit(program);
  registerCompletion(program);
  // Only as the whole command line: subcommands have options of their own named --version
  // (`baton get PATH --version 2`), which commander's root version option would take over.
  if (argv.length === 3 && (argv[2] === '--version' || argv[2] === '-V')) {
    process.stdout.write(`${packageVersion()}\n`);
    return;
  }
  try {
    await program.parseAsync(argv);
  } catch (err) {
    // Help and --version exit 0; anything else commander refuses is a usage error.
    if (err instanceof CommanderError) process.exit(err.exitCode === 0 ? 0 : 2);
    throw err;
  }
}
