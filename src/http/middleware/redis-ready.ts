import type { MiddlewareHandler } from 'hono';
import type { Redis } from 'ioredis';
import { redisUnavailable } from '../../core/errors.js';
import type { AppEnv } from '../env.js';

/**
 * Refuse at once while the Redis connection is down. Keys, event appends and claims all need it;
 * without this check a request would wait out ioredis's reconnect attempts and then fail with
 * an error that reads as a bug. The client is told to retry, and (like S3's 5xx) that nothing
 * was started.
 */
export function redisReady(redis: Redis): MiddlewareHandler<AppEnv> {
  return async (_c, next) => {
    if (redis.status !== 'ready') throw redisUnavailable(null);
    await next();
  };
}
