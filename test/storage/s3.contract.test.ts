import { DeleteObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { Redis } from 'ioredis';
import { createDriver } from '../../src/storage/create-driver.js';
import { startRedis } from '../helpers/redis.js';
import { S3RVER_ENV, startS3rver } from '../helpers/s3rver.js';
import { storageContract } from './contract.js';

storageContract('s3 (s3rver)', async () => {
  Object.assign(process.env, S3RVER_ENV);
  const [server, s3] = await Promise.all([startRedis(), startS3rver()]);
  const redis = new Redis(server.url);
  const client = s3.client();
  const workspace = 'contract';
  const prefix = `${workspace}/`;
  const driver = createDriver(
    {
      name: workspace,
      id: `ws_${workspace}`,
      storage: { driver: 's3', bucket: s3.bucket, prefix, endpoint: s3.endpoint, region: 'us-east-1', forcePathStyle: true, reconcileSeconds: 1 },
      folders: [],
      gates: [],
      subscriptions: [],
      source: null,
    },
    { redis },
  );
  await driver.init([]);
  return {
    driver,
    workspace,
    folderMoves: false,
    outsideActor: 's3',
    async dropOutside(rel, bytes) {
      await client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: prefix + rel, Body: bytes }));
    },
    async removeOutside(rel) {
      await client.send(new DeleteObjectCommand({ Bucket: s3.bucket, Key: prefix + rel }));
    },
    async teardown() {
      await driver.close();
      client.destroy();
      redis.disconnect();
      await Promise.all([server.stop(), s3.destroy()]);
    },
  };
});
