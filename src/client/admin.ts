import type { Transport } from './transport.js';
import type { CallOptions, CreatedKey, KeyList, KeyRecord, NewKey, NewWorkspace, WorkspaceInfo, WorkspaceList } from './types.js';

/** `/v1/keys`: needs the admin token or an `admin` grant. */
export class KeysApi {
  constructor(private readonly t: Transport) {}

  /** A new key; the secret (`key`) is shown only in this answer. */
  create(input: NewKey, call?: CallOptions): Promise<CreatedKey> {
    return this.t.json({ method: 'POST', path: '/v1/keys', json: input, call });
  }

  list(call?: CallOptions): Promise<KeyList> {
    return this.t.json({ method: 'GET', path: '/v1/keys', call });
  }

  /** Revoke a key by id; it fails on its next request. Answers the revoked record. */
  revoke(id: string, call?: CallOptions): Promise<KeyRecord> {
    return this.t.json({ method: 'DELETE', path: `/v1/keys/${encodeURIComponent(id)}`, call });
  }
}

/** `/v1/workspaces`: needs the admin token or an `admin` grant. */
export class WorkspacesApi {
  constructor(private readonly t: Transport) {}

  list(call?: CallOptions): Promise<WorkspaceList> {
    return this.t.json({ method: 'GET', path: '/v1/workspaces', call });
  }

  create(def: NewWorkspace, call?: CallOptions): Promise<WorkspaceInfo> {
    return this.t.json({ method: 'POST', path: '/v1/workspaces', json: def, call });
  }
}
