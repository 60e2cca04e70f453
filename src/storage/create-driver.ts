import type { Redis } from 'ioredis';
import { BatonError } from '../core/errors.js';
import type { WorkspaceDefinition } from '../workspaces/definition.js';
import type { StorageDriver } from './driver.js';
import { LocalDriver } from './local/local-driver.js';

/** What drivers may share with the rest of Baton: Redis, for arbitration where storage has none. */
export interface DriverDeps {
  redis: Redis;
}

export function createDriver(def: WorkspaceDefinition, _deps: DriverDeps): StorageDriver {
  switch (def.storage.driver) {
    case 'local':
      return new LocalDriver(def.name, def.storage.root);
    case 's3':
      throw new BatonError('bad_request', `workspace ${def.name}: the s3 driver is not available in this build`);
  }
}
