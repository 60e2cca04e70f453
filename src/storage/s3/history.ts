import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { VersionInfo } from '../driver.js';
import { isMissing } from './errors.js';
import type { S3Layout } from './keys.js';

/** One line of a path's version log. The bytes of version N, once superseded, live in `v<N>`. */
export interface VersionRecord extends VersionInfo {
  /** Where the bytes went when a move took them, so a restore can say why it cannot. */
  movedTo?: string;
}

/**
 * The version log of each path: one small JSON-lines object under `.baton/versions/`, read
 * and rewritten whole, always under the path's lock (S3 has no append).
 */
export class S3History {
  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
    private readonly layout: S3Layout,
    private readonly onError: (err: unknown, op: string) => Error,
  ) {}

  async read(rel: string): Promise<VersionRecord[]> {
    let text: string;
    try {
      const out = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.layout.logKey(rel) }));
      text = (await out.Body?.transformToString('utf8')) ?? '';
    } catch (err) {
      if (isMissing(err)) return [];
      throw this.onError(err, 'reading a version log');
    }
    const out: VersionRecord[] = [];
    for (const line of text.split('\n')) {
      if (!line) continue;
      try {
        out.push(JSON.parse(line) as VersionRecord);
      } catch {
        // not a record: ignore rather than lose the whole history
      }
    }
    return out;
  }

  async write(rel: string, records: readonly VersionRecord[]): Promise<void> {
    const body = records.map((r) => JSON.stringify(r)).join('\n') + '\n';
    try {
      await this.s3.send(
        new PutObjectCommand({ Bucket: this.bucket, Key: this.layout.logKey(rel), Body: body, ContentType: 'application/x-ndjson' }),
      );
    } catch (err) {
      throw this.onError(err, 'writing a version log');
    }
  }
}
