import type { Command } from 'commander';
import { loadSettings, SettingsError, type SettingFlags, type Settings } from '../../config/settings.js';
import { UsageError, report } from './common.js';

/** The longest a shutdown may take, whatever it waits on. */
const HARD_STOP_MS = 8_000;

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('run the Baton coordinator')
    .option('--host <host>', 'address to bind (BATON_HOST, default 127.0.0.1)')
    .option('--port <port>', 'port to listen on, 0 for any free one (BATON_PORT, default 8787)')
    .option('--data <dir>', 'data directory (BATON_DATA_DIR, default ./data)')
    .option('--workspaces <dir>', 'workspace definitions (BATON_WORKSPACES_DIR, default ./workspaces)')
    .option('--redis <url>', 'Redis URL (REDIS_URL; default: start a private redis-server)')
    .option('--max-body-bytes <n>', 'largest accepted body (BATON_MAX_BODY_BYTES, default 104857600)')
    .option('--log-level <level>', 'log level (BATON_LOG_LEVEL, default info)')
    .action(async (flags: SettingFlags) => {
      let settings: Settings;
      try {
        settings = loadSettings(flags);
      } catch (err) {
        if (!(err instanceof SettingsError)) throw err;
        process.exit(report(new UsageError(err.message)));
      }
      // Loaded on demand: client commands should not pay for the server's start-up imports.
      const { startBaton } = await import('../../server/serve.js');
      const baton = await startBaton(settings, {
        onAdminToken: (token, file) =>
          process.stderr.write(`baton: generated an admin token (kept in ${file}; shown only now):\n  ${token}\n`),
      });
      const none = baton.core.workspaces.emptyReason();
      if (none) process.stderr.write(`baton: WARNING: ${none}\n`);
      process.stdout.write(`baton listening on ${baton.url}\n`);
      let stopping = false;
      const stop = (signal: NodeJS.Signals) => {
        // A second Ctrl-C means now; the private Redis still stops, its watchdog sees Baton go.
        if (stopping) {
          process.stderr.write(`baton: second ${signal}, exiting now\n`);
          process.exit(128 + (signal === 'SIGINT' ? 2 : 15));
        }
        stopping = true;
        process.stderr.write(`baton: ${signal} received, finishing in-flight requests\n`);
        // Shutdown waits on Redis and on open connections; neither may keep Baton alive for long.
        setTimeout(() => {
          process.stderr.write(`baton: still stopping after ${HARD_STOP_MS / 1000} s, exiting now\n`);
          process.exit(1);
        }, HARD_STOP_MS).unref();
        baton.close().then(
          () => process.exit(0),
          (err) => {
            process.stderr.write(`baton: shutdown failed: ${err}\n`);
            process.exit(1);
          },
        );
      };
      process.on('SIGTERM', () => stop('SIGTERM'));
      process.on('SIGINT', () => stop('SIGINT'));
    });
}
