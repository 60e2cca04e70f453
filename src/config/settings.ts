import { resolve } from 'node:path';
import { z } from 'zod';

/** Every setting of `baton serve`: a flag, else an environment variable, else the default. */
export interface Settings {
  host: string;
  port: number;
  dataDir: string;
  workspacesDir: string;
  redisUrl: string | null;
  adminToken: string | null;
  maxBodyBytes: number;
  logLevel: string;
}

export type SettingFlags = Partial<Record<'host' | 'port' | 'data' | 'workspaces' | 'redis' | 'maxBodyBytes' | 'logLevel', string>>;

const int = (name: string) =>
  z.coerce.number({ error: `${name} must be a number` }).int(`${name} must be a whole number`).nonnegative(`${name} must not be negative`);

export function loadSettings(flags: SettingFlags = {}, env: NodeJS.ProcessEnv = process.env): Settings {
  const pick = (flag: keyof SettingFlags, envName: string): string | undefined => {
    const v = flags[flag] ?? env[envName];
    return v === '' ? undefined : v;
  };
  return {
    host: pick('host', 'BATON_HOST') ?? '127.0.0.1',
    port: int('BATON_PORT').max(65535).parse(pick('port', 'BATON_PORT') ?? 8787),
    dataDir: resolve(pick('data', 'BATON_DATA_DIR') ?? './data'),
    workspacesDir: resolve(pick('workspaces', 'BATON_WORKSPACES_DIR') ?? './workspaces'),
    redisUrl: pick('redis', 'REDIS_URL') ?? null,
    adminToken: env.BATON_ADMIN_TOKEN || null,
    maxBodyBytes: int('BATON_MAX_BODY_BYTES').parse(pick('maxBodyBytes', 'BATON_MAX_BODY_BYTES') ?? 104_857_600),
    logLevel: pick('logLevel', 'BATON_LOG_LEVEL') ?? 'info',
  };
}
