import { BatonError, isBatonError } from '../../core/errors.js';

interface SdkError {
  name?: string;
  code?: string;
  Code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
  $retryable?: unknown;
  cause?: unknown;
}

function statusOf(err: unknown): number | undefined {
  return (err as SdkError)?.$metadata?.httpStatusCode;
}

function nameOf(err: unknown): string {
  const e = err as SdkError;
  return e?.name ?? e?.Code ?? e?.code ?? '';
}

/** HEAD answers a bare 404 (`NotFound`); GET and copy answer `NoSuchKey`. A missing bucket is not this. */
export function isMissing(err: unknown): boolean {
  const n = nameOf(err);
  if (n === 'NoSuchBucket') return false;
  return n === 'NoSuchKey' || n === 'NotFound' || (statusOf(err) === 404 && n !== 'NoSuchBucket' && n !== 'NoSuchUpload');
}

export function isPreconditionFailed(err: unknown): boolean {
  return statusOf(err) === 412 || nameOf(err) === 'PreconditionFailed';
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ECONNABORTED',
  'UND_ERR_SOCKET',
]);

function networkCode(err: unknown): string | null {
  let e: unknown = err;
  for (let i = 0; i < 5 && e; i++) {
    const code = (e as SdkError).code;
    if (code && NETWORK_CODES.has(code)) return code;
    const name = (e as SdkError).name;
    if (name === 'TimeoutError') return 'timeout';
    e = (e as SdkError).cause;
  }
  return null;
}

/**
 * Turn what the S3 client threw into the contract's errors. The client has already retried what
 * is safe to retry (throttling, 5xx, timeouts, refused connections) with backoff; whatever is
 * still failing means the bucket cannot be used right now: `unavailable`, with a message that
 * says why. Anything unrecognised is `internal`, keeping the cause for the logs.
 */
export function s3Error(err: unknown, where: { workspace: string; bucket: string; op: string }): BatonError {
  if (isBatonError(err)) return err;
  const what = `workspace ${where.workspace}: S3 bucket ${where.bucket}`;
  const name = nameOf(err);
  const status = statusOf(err);
  const net = networkCode(err);
  if (net) return new BatonError('unavailable', `${what} is unreachable (${net} during ${where.op}); try again later`, { cause: err });
  if (name === 'NoSuchBucket') return new BatonError('unavailable', `${what} does not exist`, { cause: err });
  if (name === 'AccessDenied' || name === 'InvalidAccessKeyId' || name === 'SignatureDoesNotMatch' || name === 'ExpiredToken' || status === 403) {
    return new BatonError('unavailable', `${what} refused Baton's credentials (${name || status} during ${where.op})`, { cause: err });
  }
  if (name === 'CredentialsProviderError') {
    return new BatonError('unavailable', `${what}: no S3 credentials (set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)`, { cause: err });
  }
  if (status !== undefined && (status >= 500 || status === 429 || status === 408)) {
    return new BatonError('unavailable', `${what} is failing (HTTP ${status} ${name} during ${where.op}); try again later`, { cause: err });
  }
  if (/throttl|slowdown|toomanyrequests|timeout/i.test(name)) {
    return new BatonError('unavailable', `${what} is busy (${name} during ${where.op}); try again later`, { cause: err });
  }
  if (name === 'AbortError') return new BatonError('unavailable', `${what} did not answer in time (${where.op})`, { cause: err });
  return new BatonError('internal', `${what}: ${where.op} failed`, { cause: err });
}
