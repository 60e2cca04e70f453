import type { Command } from 'commander';
import { DEFAULT_URL, UsageError, report } from './common.js';

export function registerMcp(program: Command): void {
  program
    .command('mcp')
    .description('serve MCP on stdio for one key, as a client of a running Baton (env BATON_URL, BATON_KEY)')
    .option('--url <url>', `server URL (env BATON_URL, default ${DEFAULT_URL})`)
    .option('--key <key>', 'API key (env BATON_KEY)')
    .action(async (flags: { url?: string; key?: string }) => {
      try {
        const url = flags.url ?? (process.env.BATON_URL || DEFAULT_URL);
        const key = flags.key ?? process.env.BATON_KEY;
        if (!key) throw new UsageError('no key: set BATON_KEY or pass --key');
        try {
          new URL(url);
        } catch {
          throw new UsageError(`not a URL: ${url}`);
        }
        // Loaded on demand: other commands should not pay for the MCP SDK's imports.
        const { runStdioServer } = await import('../../mcp/stdio.js');
        await runStdioServer({ url, key });
        process.exit(0);
      } catch (err) {
        process.exitCode = report(err);
      }
    });
}
