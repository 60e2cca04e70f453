import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { S3Client } from '@aws-sdk/client-s3';

export interface S3Endpoint {
  endpoint?: string;
  region: string;
  forcePathStyle: boolean;
}

/**
 * One client per S3 workspace. Credentials come from the standard AWS chain (environment
 * variables first). Throttling, 5xx, timeouts and refused connections are retried by the
 * client with jittered exponential backoff; checksums are only sent when an operation needs
 * them, so S3 look-alikes that predate the flexible-checksum headers keep working.
 */
export function createS3Client(cfg: S3Endpoint): S3Client {
  // The SDK's notice that its releases from 2027 on need Node 22 is for whoever upgrades the
  // package (see package.json engines), not for operators: keep it out of the server's log.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const agentOpts = { keepAlive: true, maxSockets: 128 };
  return new S3Client({
    region: cfg.region,
    ...(cfg.endpoint ? { endpoint: cfg.endpoint } : {}),
    forcePathStyle: cfg.forcePathStyle,
    maxAttempts: 3,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    requestHandler: {
      connectionTimeout: 3_000,
      socketTimeout: 60_000,
      httpAgent: new HttpAgent(agentOpts),
      httpsAgent: new HttpsAgent(agentOpts),
    },
  });
}
