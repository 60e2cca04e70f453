import { join } from 'node:path';
import type { Command } from 'commander';
import { stringify as toYaml } from 'yaml';
import { BatonClient } from '../../client/index.js';
import { loadSettings, SettingsError, type Settings } from '../../config/settings.js';
import { resolveAdminToken } from '../../server/admin-token.js';
import { readText, writeTextAtomic } from '../../storage/local/host-files.js';
import { DEFAULT_URL, report, UsageError } from './common.js';
import { line } from './output.js';

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;
const FIRST_KEY_ACTIONS = ['read', 'write', 'delete', 'claim', 'subscribe'];

/** The starter workspace: an inbox to drop files into, and a ticket queue. */
function starterYaml(name: string): string {
  return `# Written by baton init. Folders are created when Baton loads this file.\n${toYaml({
    name,
    folders: ['inbox', 'outbox', 'tasks/pending', 'tasks/in-progress', 'tasks/done', 'tasks/failed'],
  })}`;
}

/**
 * The first key needs the key store, which lives in Redis: ask the running server when one
 * answers at --url, else start this data directory's Baton for the moment it takes.
 */
async function createFirstKey(settings: Settings, url: string, adminToken: string, agent: string, grants: string[]) {
  const up = await fetch(new URL('/healthz', url), { signal: AbortSignal.timeout(1000) }).then((r) => r.ok, () => false);
  if (up) return new BatonClient({ url, key: adminToken }).keys.create({ agent, grants });
  const { startBaton } = await import('../../server/serve.js');
  const baton = await startBaton({ ...settings, host: '127.0.0.1', port: 0, logLevel: 'error' });
  try {
    const { record, key } = await baton.core.keys.create({ agent, grants });
    return { ...record, key };
  } finally {
    await baton.close();
  }
}

export function registerInit(program: Command): void {
  program
    .command('init [name]')
    .description('write a starter workspace (default "main"), then print the admin token and a first key for it')
    .option('--agent <name>', 'the agent the first key belongs to (default: agent)')
    .option('--data <dir>', 'data directory (BATON_DATA_DIR, default ./data)')
    .option('--workspaces <dir>', 'workspace definitions (BATON_WORKSPACES_DIR, default ./workspaces)')
    .option('--redis <url>', 'Redis URL (REDIS_URL; default: the private redis-server of the data directory)')
    .option('--url <url>', `a running server to create the key on (env BATON_URL, default ${DEFAULT_URL})`)
    .action(async (name: string | undefined, flags: { agent?: string; data?: string; workspaces?: string; redis?: string; url?: string }) => {
      try {
        const ws = name ?? 'main';
        if (!NAME.test(ws)) throw new UsageError(`${ws}: a workspace name is letters, digits, . _ - (at most 63)`);
        const agent = flags.agent ?? 'agent';
        let settings: Settings;
        try {
          settings = loadSettings({ data: flags.data, workspaces: flags.workspaces, redis: flags.redis });
        } catch (err) {
          throw err instanceof SettingsError ? new UsageError(err.message) : err;
        }
        const file = join(settings.workspacesDir, `${ws}.yaml`);
        if ((await readText(file)) === null) {
          await writeTextAtomic(file, starterYaml(ws));
          line(`wrote ${file}`);
        } else {
          line(`kept ${file} (it exists)`);
        }
        const admin = await resolveAdminToken(settings.adminToken, join(settings.dataDir, '.baton'));
        const grants = FIRST_KEY_ACTIONS.map((a) => `${a}:/${ws}/**`);
        const url = flags.url ?? (process.env.BATON_URL || DEFAULT_URL);
        const created = await createFirstKey(settings, url, admin.token, agent, grants);
        line(`admin token (kept in ${admin.file}):`);
        line(`  ${admin.token}`);
        line(`first key ${created.id} for agent ${agent} (${grants.join(' ')}), shown only now:`);
        line(`  ${created.key}`);
        line('next: start the server with "baton serve", then');
        line(`  export BATON_KEY=${created.key}`);
        line(`  echo hello | baton put - /${ws}/inbox/hello.txt`);
      } catch (err) {
        process.exitCode = report(err);
      }
    });
}
