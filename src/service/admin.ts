import type { CreatedKey, KeyRecord, NewKey, WorkspaceInfo } from '../api/schemas.js';
import { authorizeAdmin } from '../auth/authorize.js';
import { grantWarnings, parseGrant } from '../auth/grants.js';
import type { KeyStore } from '../auth/key-store.js';
import { requirePrincipal, type OperationContext } from '../core/context.js';
import type { WorkspaceDefinition } from '../workspaces/definition.js';
import type { WorkspaceRegistry } from '../workspaces/registry.js';

function workspaceInfo(def: WorkspaceDefinition): WorkspaceInfo {
  return { name: def.name, id: def.id, driver: def.storage.driver, folders: def.folders, gates: def.gates };
}

/** Keys and workspaces: operator work, open to the admin token and keys with an admin grant. */
export class AdminService {
  constructor(
    private readonly keys: KeyStore,
    private readonly workspaces: WorkspaceRegistry,
  ) {}

  private admin(ctx: OperationContext, action: string, path: string | null = null): void {
    ctx.audit.action = action;
    if (path !== null) ctx.audit.path = path;
    authorizeAdmin(requirePrincipal(ctx));
  }

  /** `input` is read only once the caller is known to be an admin: a refused body is never parsed. */
  async createKey(ctx: OperationContext, input: () => Promise<NewKey>): Promise<CreatedKey> {
    this.admin(ctx, 'key.create');
    const { record, key } = await this.keys.create(await input());
    ctx.audit.path = `key:${record.id}`;
    const warnings = grantWarnings(record.grants.map(parseGrant), this.workspaces.list().map((w) => w.def.name));
    return { ...record, key, ...(warnings.length ? { warnings } : {}) };
  }

  async listKeys(ctx: OperationContext): Promise<KeyRecord[]> {
    this.admin(ctx, 'key.list');
    return this.keys.list();
  }

  async revokeKey(ctx: OperationContext, id: string): Promise<KeyRecord> {
    this.admin(ctx, 'key.revoke', `key:${id}`);
    return this.keys.revoke(id);
  }

  listWorkspaces(ctx: OperationContext): WorkspaceInfo[] {
    this.admin(ctx, 'workspace.list');
    return this.workspaces.list().map(({ def }) => workspaceInfo(def));
  }

  async createWorkspace(ctx: OperationContext, raw: () => Promise<Record<string, unknown>>): Promise<WorkspaceInfo> {
    this.admin(ctx, 'workspace.create');
    const def = await this.workspaces.create(await raw());
    ctx.audit.path = `/${def.name}`;
    return workspaceInfo(def);
  }
}
