import { join } from 'node:path';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { AuditLog } from '../audit/audit-log.js';
import { KeyStore } from '../auth/key-store.js';
import type { Settings } from '../config/settings.js';
import { Recorder } from '../core/recorder.js';
import { Metrics } from '../observability/metrics.js';
import { FileService } from '../service/files.js';
import { WorkspaceRegistry } from '../workspaces/registry.js';

/** Everything the interfaces (REST, MCP, CLI) share: one instance per `baton serve` process. */
export interface Core {
  settings: Settings;
  log: Logger;
  redis: Redis;
  workspaces: WorkspaceRegistry;
  keys: KeyStore;
  audit: AuditLog;
  recorder: Recorder;
  files: FileService;
  metrics: Metrics;
  adminToken: string;
}

/** Baton's own files under the data directory; `.baton` can never be a workspace name. */
export function systemDir(settings: Settings): string {
  return join(settings.dataDir, '.baton');
}

export async function createCore(settings: Settings, redis: Redis, log: Logger, adminToken: string): Promise<Core> {
  const workspaces = new WorkspaceRegistry(settings.workspacesDir, settings.dataDir, log);
  await workspaces.start({ watch: true });
  const audit = new AuditLog(join(systemDir(settings), 'audit'), redis);
  await audit.open();
  return {
    settings,
    log,
    redis,
    workspaces,
    keys: new KeyStore(redis),
    audit,
    recorder: new Recorder(audit, log),
    files: new FileService(workspaces, settings.maxBodyBytes),
    metrics: new Metrics(),
    adminToken,
  };
}

export async function closeCore(core: Core): Promise<void> {
  await core.workspaces.close();
  await core.audit.close();
}
