import { Command, CommanderError } from 'commander';
import { registerServe } from './commands/serve.js';

export async function main(argv: string[]): Promise<void> {
  const program = new Command('baton')
    .description('Baton: agents hand work to each other through files')
    .showHelpAfterError()
    .exitOverride();
  registerServe(program);
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) process.exit(err.exitCode);
    throw err;
  }
}
