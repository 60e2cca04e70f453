import { ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { compareKeys, MAX_CHAR } from './keys.js';

export interface ListedObject {
  key: string;
  /** The bare ETag. */
  etag: string;
  size: number;
  lastModified: Date;
}

export function bareS3Etag(etag: string | undefined): string {
  if (!etag) return '';
  let v = etag.trim();
  if (v.startsWith('W/')) v = v.slice(2);
  if (v.length >= 2 && v.startsWith('"') && v.endsWith('"')) v = v.slice(1, -1);
  return v;
}

/**
 * The objects under a prefix in S3's key order (UTF-8 bytes), page by page, starting strictly
 * after a key. `skipPast(p)` jumps over every key that starts with `p` without listing it when
 * it can (a folder a walk does not descend into, Baton's own `.baton/` metadata). Each page is
 * sorted again here: some S3 look-alikes (s3rver) answer in their own order.
 */
export class KeyLister {
  private page: ListedObject[] = [];
  private i = 0;
  private cursor: string | undefined;
  private done = false;

  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
    private readonly prefix: string,
    startAfter: string | undefined,
    private readonly onError: (err: unknown) => Error,
    private readonly pageSize = 1000,
  ) {
    this.cursor = startAfter;
  }

  async next(): Promise<ListedObject | null> {
    for (;;) {
      if (this.i < this.page.length) return this.page[this.i++]!;
      if (this.done) return null;
      await this.fetch();
    }
  }

  /** Up to `n` objects that `next()` will return, from the page already fetched. */
  peek(n: number): readonly ListedObject[] {
    return this.page.slice(this.i, this.i + n);
  }

  skipPast(keyPrefix: string): void {
    while (this.i < this.page.length && this.page[this.i]!.key.startsWith(keyPrefix)) this.i++;
    if (this.i >= this.page.length && !this.done) {
      const bound = keyPrefix + MAX_CHAR;
      if (this.cursor === undefined || compareKeys(bound, this.cursor) > 0) this.cursor = bound;
    }
  }

  private async fetch(): Promise<void> {
    let out;
    try {
      out = await this.s3.send(
        new ListObjectsV2Command({ Bucket: this.bucket, Prefix: this.prefix, StartAfter: this.cursor || undefined, MaxKeys: this.pageSize }),
      );
    } catch (err) {
      throw this.onError(err);
    }
    const after = this.cursor;
    const rows: ListedObject[] = [];
    for (const o of out.Contents ?? []) {
      if (!o.Key || !o.Key.startsWith(this.prefix)) continue;
      if (after !== undefined && compareKeys(o.Key, after) <= 0) continue;
      rows.push({ key: o.Key, etag: bareS3Etag(o.ETag), size: Number(o.Size ?? 0), lastModified: o.LastModified ?? new Date(0) });
    }
    rows.sort((a, b) => compareKeys(a.key, b.key));
    this.page = rows;
    this.i = 0;
    const rawLast = (out.Contents ?? []).map((o) => o.Key ?? '').reduce((m, k) => (compareKeys(k, m) > 0 ? k : m), '');
    if (out.IsTruncated && rawLast !== '' && (after === undefined || compareKeys(rawLast, after) > 0)) {
      this.cursor = rawLast;
    } else {
      this.done = true;
    }
  }
}
