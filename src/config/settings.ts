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
  webhook: {
    /** Seconds before each retry; its length + 1 is the number of attempts. */
    retrySchedule: number[];
    timeoutMs: number;
    deny: string[];
    allow: string[];
  };
  eventRetentionHours: number;
  rescanSeconds: number;
  maxCausationDepth: number;
  leaseSeconds: number;
  maxAttempts: number;
}

/** Link-local (which holds most clouds' metadata address) plus the metadata addresses outside it. */
export const DEFAULT_WEBHOOK_DENY = ['169.254.0.0/16', 'fe80::/10', 'fd00:ec2::254/128', '100.100.100.200/32'];

function list(v: string | undefined): string[] | undefined {
  if (v === undefined) return undefined;
  return v.split(',').map((x) => x.trim()).filter((x) => x !== '');
}

export type SettingFlags = Partial<Record<'host' | 'port' | 'data' | 'workspaces' | 'redis' | 'maxBodyBytes' | 'logLevel', string>>;

/** A setting that cannot be used, told as `NAME: why` (exit 2 from the CLI, like any usage error). */
export class SettingsError extends Error {}

/** Parse one setting; a bad value names the setting and the value instead of dumping the schema's issue list. */
function value<T>(schema: z.ZodType<T>, name: string, raw: unknown): T {
  const r = schema.safeParse(raw);
  if (r.success) return r.data;
  throw new SettingsError(`${name}${name.startsWith('--') ? ' ' : '='}${String(raw)}: ${r.error.issues[0]?.message ?? 'invalid'}`);
}

/** Redis URLs need their scheme: `localhost:6379` would otherwise be read as host `localhost:` and quietly miss. */
function redisUrl(raw: string | undefined): string | null {
  if (raw === undefined) return null;
  let url: URL | null = null;
  try {
    url = new URL(raw);
  } catch {
    url = null;
  }
  if (!url || !['redis:', 'rediss:'].includes(url.protocol) || !url.hostname) {
    throw new SettingsError(`REDIS_URL=${raw}: expected redis://HOST:PORT (or rediss:// for TLS), e.g. redis://${raw.replace(/^[a-z]+:\/\//, '')}`);
  }
  return raw;
}

const int = (name: string) =>
  z.coerce.number({ error: `${name} must be a number` }).int(`${name} must be a whole number`).nonnegative(`${name} must not be negative`);

export function loadSettings(flags: SettingFlags = {}, env: NodeJS.ProcessEnv = process.env): Settings {
  const pick = (flag: keyof SettingFlags, envName: string): string | undefined => {
    const v = flags[flag] ?? env[envName];
    return v === '' ? undefined : v;
  };
  return {
    host: pick('host', 'BATON_HOST') ?? '127.0.0.1',
    port: value(int('BATON_PORT').max(65535, 'BATON_PORT must be at most 65535'), '--port', pick('port', 'BATON_PORT') ?? 8787),
    dataDir: resolve(pick('data', 'BATON_DATA_DIR') ?? './data'),
    workspacesDir: resolve(pick('workspaces', 'BATON_WORKSPACES_DIR') ?? './workspaces'),
    redisUrl: redisUrl(pick('redis', 'REDIS_URL')),
    adminToken: env.BATON_ADMIN_TOKEN || null,
    maxBodyBytes: value(int('BATON_MAX_BODY_BYTES'), '--max-body-bytes', pick('maxBodyBytes', 'BATON_MAX_BODY_BYTES') ?? 104_857_600),
    logLevel: pick('logLevel', 'BATON_LOG_LEVEL') ?? 'info',
    webhook: {
      retrySchedule: value(
        z.array(z.coerce.number({ error: 'each retry delay must be a number of seconds' }).nonnegative('a retry delay must not be negative')),
        'BATON_WEBHOOK_RETRY_SCHEDULE',
        list(env.BATON_WEBHOOK_RETRY_SCHEDULE) ?? [5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400],
      ),
      timeoutMs: value(int('BATON_WEBHOOK_TIMEOUT_MS').min(1), 'BATON_WEBHOOK_TIMEOUT_MS', env.BATON_WEBHOOK_TIMEOUT_MS || 15_000),
      deny: list(env.BATON_WEBHOOK_DENY) ?? DEFAULT_WEBHOOK_DENY,
      allow: list(env.BATON_WEBHOOK_ALLOW) ?? [],
    },
    eventRetentionHours: value(z.coerce.number({ error: 'BATON_EVENT_RETENTION_HOURS must be a number' }).positive('BATON_EVENT_RETENTION_HOURS must be above 0'), 'BATON_EVENT_RETENTION_HOURS', env.BATON_EVENT_RETENTION_HOURS || 168),
    rescanSeconds: value(z.coerce.number({ error: 'BATON_RESCAN_SECONDS must be a number' }).positive('BATON_RESCAN_SECONDS must be above 0'), 'BATON_RESCAN_SECONDS', env.BATON_RESCAN_SECONDS || 30),
    maxCausationDepth: value(int('BATON_MAX_CAUSATION_DEPTH'), 'BATON_MAX_CAUSATION_DEPTH', env.BATON_MAX_CAUSATION_DEPTH || 16),
    leaseSeconds: value(z.coerce.number({ error: 'BATON_LEASE_SECONDS must be a number' }).positive('BATON_LEASE_SECONDS must be above 0'), 'BATON_LEASE_SECONDS', env.BATON_LEASE_SECONDS || 300),
    maxAttempts: value(int('BATON_MAX_ATTEMPTS').min(1, 'BATON_MAX_ATTEMPTS must be at least 1'), 'BATON_MAX_ATTEMPTS', env.BATON_MAX_ATTEMPTS || 5),
  };
}
