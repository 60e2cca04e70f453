import { z } from 'zod';
import { defineDriver } from '../registry.js';

/** Workspaces in an S3 bucket (AWS, MinIO, or anything that speaks the S3 API). */
export const s3Driver = defineDriver({
  name: 's3',
  configSchema: z.object({
    bucket: z.string().min(1),
    prefix: z.string().default(''),
    endpoint: z.string().url().optional(),
    region: z.string().default('us-east-1'),
    forcePathStyle: z.boolean().default(false),
    reconcileSeconds: z.number().positive().default(15),
  }),
  // The AWS SDK and the MinIO client weigh about 60 MiB: loaded only when a workspace is on S3.
  createBackend: async (workspace, config, deps) => {
    const { S3Backend } = await import('./s3-backend.js');
    return new S3Backend(workspace, config, deps.redis);
  },
});
