import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Redis } from 'ioredis';
import { createDriver } from '../../src/storage/create-driver.js';
import { startRedis } from '../helpers/redis.js';
import { tempDir } from '../helpers/temp.js';
import { storageContract } from './contract.js';

storageContract('local disk', async () => {
  const server = await startRedis();
  const redis = new Redis(server.url);
  const root = tempDir('baton-contract-local-');
  const workspace = 'contract';
  const driver = createDriver(
    { name: workspace, id: `ws_${workspace}`, storage: { driver: 'local', root }, folders: [], gates: [], subscriptions: [], source: null },
    { redis },
  );
  await driver.init([]);
  return {
    driver,
    workspace,
    folderMoves: true,
    outsideActor: 'fs',
    async dropOutside(rel, bytes) {
      mkdirSync(dirname(join(root, rel)), { recursive: true });
      writeFileSync(join(root, rel), bytes);
    },
    async removeOutside(rel) {
      rmSync(join(root, rel));
    },
    async teardown() {
      await driver.close();
      redis.disconnect();
      await server.stop();
    },
  };
});
