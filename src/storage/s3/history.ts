import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { PathLog } from '../backend.js';
import { formatVersionLog, parseVersionLog, type VersionRecord } from '../version-log.js';
import { isMissing } from './errors.js';
import type { S3Layout } from './keys.js';

/** The version log of each path: one small JSON-lines object under `.baton/versions/`. */
export class S3History {
  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
    private readonly layout: S3Layout,
    private readonly onError: (err: unknown, op: string) => Error,
  ) {}

  /**
   * One path's log for one operation under its lock: read once, then rewritten whole with each
   * append (S3 has no append).
   */
  of(rel: string): PathLog {
    let records: Promise<VersionRecord[]> | null = null;
    const all = () => (records ??= this.read(rel));
    return {
      all: async () => [...(await all())],
      latest: async () => (await all()).at(-1) ?? null,
      append: async (...added) => {
        const next = [...(await all()), ...added];
        await this.write(rel, next);
        records = Promise.resolve(next);
      },
    };
  }

  private async read(rel: string): Promise<VersionRecord[]> {
    let text: string;
    try {
      const out = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.layout.logKey(rel) }));
      text = (await out.Body?.transformToString('utf8')) ?? '';
    } catch (err) {
      if (isMissing(err)) return [];
      throw this.onError(err, 'reading a version log');
    }
    return parseVersionLog(text);
  }

  private async write(rel: string, records: readonly VersionRecord[]): Promise<void> {
    const body = formatVersionLog(records);
    try {
      await this.s3.send(
        new PutObjectCommand({ Bucket: this.bucket, Key: this.layout.logKey(rel), Body: body, ContentType: 'application/x-ndjson' }),
      );
    } catch (err) {
      throw this.onError(err, 'writing a version log');
    }
  }
}
