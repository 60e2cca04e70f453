/** The error codes of the API. A client may also see codes a newer server adds. */
export type BatonErrorCode =
  | 'bad_request'
  | 'invalid_path'
  | 'unauthorized'
  | 'forbidden'
  | 'not_found'
  | 'conflict'
  | 'precondition_failed'
  | 'payload_too_large'
  | 'rate_limited'
  | 'unavailable'
  | 'internal';

const CODE_BY_STATUS: Record<number, BatonErrorCode> = {
  400: 'bad_request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  409: 'conflict',
  412: 'precondition_failed',
  413: 'payload_too_large',
  429: 'rate_limited',
  502: 'unavailable',
  503: 'unavailable',
  504: 'unavailable',
};

/** The code a status implies when the response carries no error body (HEAD, proxies). */
export function codeForStatus(status: number): BatonErrorCode {
  return CODE_BY_STATUS[status] ?? (status >= 500 ? 'internal' : 'bad_request');
}

/**
 * Every failure of a BatonClient call. `code` is the API's error code (`forbidden`,
 * `not_found`, ...), or `unavailable` with `status` 0 when the server could not be reached.
 */
export class BatonClientError extends Error {
  readonly code: BatonErrorCode | (string & {});
  /** The HTTP status, 0 when no response arrived. */
  readonly status: number;
  /** Seconds to wait before retrying, from `Retry-After` (rate_limited, unavailable). */
  readonly retryAfter?: number;

  constructor(code: string, message: string, opts: { status?: number; retryAfter?: number; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'BatonClientError';
    this.code = code;
    this.status = opts.status ?? 0;
    if (opts.retryAfter !== undefined) this.retryAfter = opts.retryAfter;
  }
}

export function isBatonClientError(err: unknown): err is BatonClientError {
  return err instanceof BatonClientError;
}

/** `Retry-After` as seconds: either delta-seconds or an HTTP date. */
export function parseRetryAfter(value: string | null): number | undefined {
  if (value === null || value.trim() === '') return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim());
  const t = Date.parse(value);
  if (Number.isNaN(t)) return undefined;
  return Math.max(0, Math.ceil((t - Date.now()) / 1000));
}
