import type { WorkspaceDefinition } from '../workspaces/definition.js';
import type { StorageDriver } from './driver.js';
import { localDriver } from './local/index.js';
import { DriverRegistry, type DriverDeps } from './registry.js';
import { s3Driver } from './s3/index.js';

/** The drivers Baton ships with; a new backend adds its registration here and nowhere else. */
export const drivers = new DriverRegistry([localDriver, s3Driver], 'local');

export function createDriver(def: WorkspaceDefinition, deps: DriverDeps): StorageDriver {
  return drivers.create(def.name, def.storage, deps);
}
