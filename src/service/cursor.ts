import { BatonError } from '../core/errors.js';
import { isWithin, parsePath, ROOT, type BatonPath } from '../core/paths.js';

export const DEFAULT_LIMIT = 100;
export const MAX_LIMIT = 1000;

export function pageLimit(limit: number | undefined): number {
  if (limit === undefined) return DEFAULT_LIMIT;
  if (!Number.isInteger(limit) || limit < 1) throw new BatonError('bad_request', 'limit must be a whole number of at least 1');
  return Math.min(limit, MAX_LIMIT);
}

/** Cursors are opaque to clients: the last path a page covered, so a walk can resume after it. */
export function encodeCursor(last: BatonPath): string {
  return Buffer.from(last.full, 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string | undefined, within: BatonPath): BatonPath | null {
  if (!cursor) return null;
  let p: BatonPath;
  try {
    p = parsePath(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw new BatonError('bad_request', 'cursor is not one this listing returned');
  }
  if (within !== ROOT && (!isWithin(p, within) || p.full === within.full)) {
    throw new BatonError('bad_request', 'cursor is not one this listing returned');
  }
  return p;
}
