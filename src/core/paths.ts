import { BatonError } from './errors.js';

/**
 * A validated location in the namespace. `workspace` is the first segment, `rel` the path inside
 * the workspace ('' for the workspace root), `full` the canonical absolute form.
 */
export interface BatonPath {
  readonly full: string;
  readonly workspace: string;
  readonly rel: string;
  readonly segments: readonly string[];
}

export const ROOT: BatonPath = Object.freeze({ full: '/', workspace: '', rel: '', segments: [] });

const MAX_PATH_BYTES = 1024;
const MAX_SEGMENT_BYTES = 255;
// Leftover escapes after the one decoding we do: a second decoder (a proxy, a shell script, a
// careless client) would turn them into '.', '/' or '\' and so into traversal.
const ENCODED_SEPARATOR = /%(2e|2f|5c)/i;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

function invalid(message: string): BatonError {
  return new BatonError('invalid_path', message);
}

/** Reserved names hold Baton's own metadata; no client path may name them. */
export function isReservedName(name: string): boolean {
  return name.startsWith('.baton');
}

/**
 * Parse an already percent-decoded namespace path. `allowRoot` admits '/' (listing the
 * namespace); a single trailing slash is tolerated so '/ws/dir/' names the folder '/ws/dir'.
 */
export function parsePath(input: string, opts: { allowRoot?: boolean } = {}): BatonPath {
  if (typeof input !== 'string' || input.length === 0) throw invalid('path is empty');
  if (!input.startsWith('/')) throw invalid('path must be absolute (start with /)');
  if (input.includes('\u0000')) throw invalid('path contains NUL');
  if (input.includes('\\')) throw invalid('path contains a backslash');
  if (CONTROL.test(input)) throw invalid('path contains a control character');
  if (ENCODED_SEPARATOR.test(input)) throw invalid('path contains an encoded dot, slash or backslash');
  const nfc = input.normalize('NFC');
  if (Buffer.byteLength(nfc, 'utf8') > MAX_PATH_BYTES) throw invalid(`path is longer than ${MAX_PATH_BYTES} bytes`);
  let body = nfc.slice(1);
  if (body.endsWith('/')) body = body.slice(0, -1);
  if (body === '') {
    if (opts.allowRoot) return ROOT;
    throw invalid('path names no workspace');
  }
  const segments = body.split('/');
  for (const seg of segments) {
    if (seg === '') throw invalid('path has an empty segment');
    if (seg === '.' || seg === '..') throw invalid('path has a . or .. segment');
    if (Buffer.byteLength(seg, 'utf8') > MAX_SEGMENT_BYTES) throw invalid(`a path segment is longer than ${MAX_SEGMENT_BYTES} bytes`);
    if (isReservedName(seg)) throw invalid('names starting with .baton are reserved');
  }
  return {
    full: '/' + segments.join('/'),
    workspace: segments[0]!,
    rel: segments.slice(1).join('/'),
    segments,
  };
}

/** Decode a raw URL path component exactly once, then validate it. */
export function parseUrlPath(raw: string, opts: { allowRoot?: boolean } = {}): BatonPath {
  let decoded: string;
  try {
    decoded = decodeURIComponent(raw);
  } catch {
    throw invalid('path is not valid percent-encoded UTF-8');
  }
  return parsePath(decoded, opts);
}

// A plain ASCII name: nothing in it that parsePath would change or refuse, apart from the
// reserved prefix and the dot names, checked beside it.
const PLAIN_NAME = /^[A-Za-z0-9 _.,+=@~()[\]{}#&!$'-]{1,255}$/;

/**
 * `parent` plus one name read from storage (a folder entry), exactly as parsePath would make
 * it, but without re-validating the parent: a listing makes thousands of these.
 */
export function childPath(parent: BatonPath, name: string): BatonPath {
  const full = parent.full === '/' ? `/${name}` : `${parent.full}/${name}`;
  const plain = parent.full !== '/' && PLAIN_NAME.test(name) && name !== '.' && name !== '..' && !isReservedName(name);
  if (!plain || Buffer.byteLength(full, 'utf8') > MAX_PATH_BYTES) return parsePath(full);
  return { full, workspace: parent.workspace, rel: parent.rel === '' ? name : `${parent.rel}/${name}`, segments: [...parent.segments, name] };
}

export function joinPath(parent: BatonPath, name: string): BatonPath {
  return parsePath(parent.full === '/' ? `/${name}` : `${parent.full}/${name}`);
}

export function workspaceRoot(workspace: string): BatonPath {
  return parsePath(`/${workspace}`);
}

export function basename(p: BatonPath): string {
  return p.segments[p.segments.length - 1] ?? '';
}

export function dirname(p: BatonPath): BatonPath {
  if (p.segments.length <= 1) return ROOT;
  return parsePath('/' + p.segments.slice(0, -1).join('/'));
}

/** True when `inner` is `outer` or lies below it (segment-wise, so /a is not above /ab). */
export function isWithin(inner: BatonPath, outer: BatonPath): boolean {
  if (outer.segments.length > inner.segments.length) return false;
  return outer.segments.every((s, i) => inner.segments[i] === s);
}
