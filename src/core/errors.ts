/** The error codes of the product contract; each maps to one HTTP status. */
export const ERROR_STATUS = {
  bad_request: 400,
  invalid_path: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  precondition_failed: 412,
  payload_too_large: 413,
  rate_limited: 429,
  internal: 500,
  unavailable: 503,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

export class BatonError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  /** Extra response headers, e.g. Retry-After for rate_limited. */
  readonly headers: Record<string, string>;

  constructor(code: ErrorCode, message: string, opts: { headers?: Record<string, string>; cause?: unknown } = {}) {
    super(message, { cause: opts.cause });
    this.name = 'BatonError';
    this.code = code;
    this.status = ERROR_STATUS[code];
    this.headers = opts.headers ?? {};
  }

  toJSON(): { error: { code: ErrorCode; message: string } } {
    return { error: { code: this.code, message: this.message } };
  }
}

export function isBatonError(err: unknown): err is BatonError {
  return err instanceof BatonError;
}

/** Seconds a client is asked to wait when Redis is down: reconnects are attempted continuously. */
const REDIS_RETRY_AFTER = '1';

/**
 * Redis unreachable. With `cause` the request was already under way, so (as S3 does with a 5xx)
 * the answer says the change may or may not have happened; without it, nothing was started.
 */
export function redisUnavailable(cause: unknown): BatonError {
  const message =
    cause === null
      ? 'Redis is unreachable, so nothing was done: retry in a moment'
      : 'Redis became unreachable during the request: the change may or may not have been made. Read the path to check, or retry with If-Match / If-None-Match so a retry cannot apply twice';
  return new BatonError('unavailable', message, { headers: { 'retry-after': REDIS_RETRY_AFTER }, cause });
}

/**
 * ioredis's ways of saying the server is gone: retries used up, the socket closed or refused,
 * the offline queue off. Matched by name and message since errors.ts must not import ioredis.
 */
function isRedisOutage(err: unknown): boolean {
  const e = err as { name?: string; message?: string; code?: string } | null;
  if (!e) return false;
  if (e.name === 'MaxRetriesPerRequestError') return true;
  if (/^(Connection is closed|Stream isn't writeable)/.test(e.message ?? '')) return true;
  return false;
}

/** Anything that is not already a BatonError becomes `internal` (Redis outages `unavailable`), keeping the cause for the logs. */
export function toBatonError(err: unknown): BatonError {
  if (isBatonError(err)) return err;
  if (isRedisOutage(err)) return redisUnavailable(err);
  return new BatonError('internal', 'internal error', { cause: err });
}
