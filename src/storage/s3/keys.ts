import { createHash, randomBytes } from 'node:crypto';
import type { BatonPath } from '../../core/paths.js';

/** Baton's own objects live under `<prefix>.baton/`; no client path may name a `.baton*` segment. */
export const META_DIR = '.baton';

/**
 * A key that sorts after every key that starts with a given prefix: U+10FFFF is the largest
 * code point, so `prefix + MAX_CHAR` is past `prefix + anything` in S3's UTF-8 byte order.
 */
export const MAX_CHAR = '\u{10FFFF}';

/** S3 lists keys in UTF-8 byte order; JavaScript compares UTF-16 units. Compare as S3 does. */
export function compareKeys(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/** A workspace prefix always ends with `/` (or is empty: the whole bucket). */
export function normalizePrefix(prefix: string): string {
  let p = prefix.replace(/^\/+/, '');
  if (p !== '' && !p.endsWith('/')) p += '/';
  return p;
}

export function pathHash(rel: string): string {
  return createHash('sha256').update(rel).digest('hex');
}

/**
 * Where everything of one workspace lives in its bucket:
 *   <prefix><rel>                          the file at `rel`, as other tools see it
 *   <prefix><rel>/                         an empty marker: the folder `rel` exists
 *   <prefix>.baton/versions/<hh>/<sha>/log.jsonl   the version log of `rel`
 *   <prefix>.baton/versions/<hh>/<sha>/v<N>        the bytes of version N, once superseded
 *   <prefix>.baton/tmp/<random>            large uploads before they are committed
 */
export class S3Layout {
  readonly prefix: string;
  readonly metaPrefix: string;

  constructor(prefix: string) {
    this.prefix = normalizePrefix(prefix);
    this.metaPrefix = `${this.prefix}${META_DIR}/`;
  }

  /** The object key of a file (a workspace root has none). */
  fileKey(p: BatonPath): string {
    return this.prefix + p.rel;
  }

  /** The prefix every key below folder `p` starts with (the workspace root: the prefix). */
  dirPrefix(p: BatonPath): string {
    return p.rel === '' ? this.prefix : `${this.prefix}${p.rel}/`;
  }

  /** Where a walk positions an entry: a folder sorts where its contents start. */
  orderKey(p: BatonPath, type: 'file' | 'directory'): string {
    return type === 'directory' ? this.dirPrefix(p) : this.fileKey(p);
  }

  /** The path inside the workspace of a key under the prefix, or null for keys elsewhere. */
  relOf(key: string): string | null {
    return key.startsWith(this.prefix) ? key.slice(this.prefix.length) : null;
  }

  private historyDir(rel: string): string {
    const h = pathHash(rel);
    return `${this.metaPrefix}versions/${h.slice(0, 2)}/${h}/`;
  }

  logKey(rel: string): string {
    return `${this.historyDir(rel)}log.jsonl`;
  }

  blobKey(rel: string, version: number): string {
    return `${this.historyDir(rel)}v${version}`;
  }

  stagingPrefix(): string {
    return `${this.metaPrefix}tmp/`;
  }

  stagingKey(): string {
    return `${this.stagingPrefix()}${Date.now().toString(36)}-${process.pid}-${randomBytes(8).toString('hex')}`;
  }
}

/**
 * `CopySource` is `bucket/key`, URL-encoded. Encode each segment on its own: some servers
 * (s3rver) do not decode an encoded `/`.
 */
export function copySource(bucket: string, key: string): string {
  return `${bucket}/${key.split('/').map(encodeURIComponent).join('/')}`;
}

/** S3 user metadata must be ASCII: actors and times are stored percent-encoded. */
export function encodeMeta(value: string): string {
  return encodeURIComponent(value);
}

export function decodeMeta(value: string | undefined): string | null {
  if (value === undefined) return null;
  try {
    return decodeURIComponent(value);
  } catch {
    return null;
  }
}
