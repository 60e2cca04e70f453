import type { Redis } from 'ioredis';
import type { WorkspaceDefinition } from '../workspaces/definition.js';
import type { StorageDriver } from './driver.js';
import { LocalDriver } from './local/local-driver.js';
import { S3Driver } from './s3/s3-driver.js';

/** What drivers may share with the rest of Baton: Redis, for arbitration where storage has none. */
export interface DriverDeps {
  redis: Redis;
}

export function createDriver(def: WorkspaceDefinition, deps: DriverDeps): StorageDriver {
  switch (def.storage.driver) {
    case 'local':
      return new LocalDriver(def.name, def.storage.root);
    case 's3':
      return new S3Driver(def.name, def.storage, deps.redis);
  }
}
