/** The error codes of the product contract (brief §3); each maps to one HTTP status. */
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

/** Anything that is not already a BatonError becomes `internal`, keeping the cause for the logs. */
export function toBatonError(err: unknown): BatonError {
  if (isBatonError(err)) return err;
  return new BatonError('internal', 'internal error', { cause: err });
}
