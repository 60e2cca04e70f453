import type { DeleteResult, MoveResult, RestoreResult, WriteResult } from '../api/schemas.js';
import type { EntryMeta } from '../storage/driver.js';

/**
 * The bodies REST and MCP both answer with, shaped once from what the services return. A file
 * written by Baton always has an etag, a version and a type; a moved folder has none.
 */
export function writeResponse(e: EntryMeta): WriteResult {
  return { path: e.path, size: e.size, etag: e.etag!, version: e.version!, mimeType: e.mimeType! };
}

export function moveResponse(from: string, e: EntryMeta): MoveResult {
  return { from, path: e.path, size: e.size, etag: e.etag, version: e.version, mimeType: e.mimeType };
}

export function restoreResponse(e: EntryMeta, restoredFrom: number): RestoreResult {
  return { ...writeResponse(e), restoredFrom };
}

export function deleteResponse(e: EntryMeta): DeleteResult {
  return { path: e.path, type: e.type, deleted: true, etag: e.etag, version: e.version };
}
