import { isAbsolute, resolve } from 'node:path';
import { z } from 'zod';
import { defineDriver } from '../registry.js';
import { LocalBackend } from './local-backend.js';

/** Workspaces on local disk; the root defaults to `<dataDir>/<workspace>`, relative roots are under the data directory. */
export const localDriver = defineDriver({
  name: 'local',
  configSchema: z.object({ root: z.string().min(1).optional() }),
  resolve: (config, { workspace, dataDir }) => ({
    root: !config.root ? resolve(dataDir, workspace) : isAbsolute(config.root) ? config.root : resolve(dataDir, config.root),
  }),
  createBackend: (workspace, config, deps) => new LocalBackend(config.root!, workspace, deps.redis),
});
