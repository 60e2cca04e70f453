import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parsePath } from '../../src/core/paths.js';
import type { StorageDriver } from '../../src/storage/driver.js';
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

describe('local disk staging', () => {
  let server: Awaited<ReturnType<typeof startRedis>>;
  let redis: Redis;
  let driver: StorageDriver;
  const root = tempDir('baton-staging-local-');
  const put = (rel: string, text: string, opts: { ifNoneMatch?: boolean; ifMatch?: string; maxBytes?: number } = {}) =>
    driver.write(parsePath(`/staging/${rel}`), Readable.from([Buffer.from(text)]), { mimeType: 'text/plain', actor: 'alice', maxBytes: 1024, ...opts });

  beforeAll(async () => {
    server = await startRedis();
    redis = new Redis(server.url);
    driver = createDriver({ name: 'staging', id: 'ws_staging', storage: { driver: 'local', root }, folders: [], gates: [], subscriptions: [], source: null }, { redis });
    await driver.init([]);
  });
  afterAll(async () => {
    redis.disconnect();
    await server.stop();
  });

  it('leaves no temp file behind once closed: a write that landed, one refused by a precondition, one too large, one into a folder that is a file', async () => {
    await put('a.txt', 'one');
    await expect(put('a.txt', 'two', { ifNoneMatch: true })).rejects.toMatchObject({ code: 'precondition_failed' });
    await expect(put('a.txt', 'two', { ifMatch: 'stale' })).rejects.toMatchObject({ code: 'precondition_failed' });
    await expect(put('b.txt', 'x'.repeat(2048))).rejects.toMatchObject({ code: 'payload_too_large' });
    await expect(put('a.txt/inner.txt', 'x')).rejects.toMatchObject({ code: 'conflict' });
    await put('a.txt', 'three');
    const { body } = await driver.read(parsePath('/staging/a.txt'), {});
    const chunks: Buffer[] = [];
    for await (const c of body) chunks.push(Buffer.from(c as Uint8Array));
    expect(Buffer.concat(chunks).toString()).toBe('three');
    // Files made ahead for the next writes are removed on close; nothing else may be left.
    await driver.close();
    expect(readdirSync(join(root, '.baton', 'tmp'))).toEqual([]);
  });
});
