import { Readable } from 'node:stream';

/**
 * A file body already read into memory (a small file, read in one call). It streams like any
 * other body; a consumer that wants the whole content takes `bytes` instead and skips the stream
 * machinery, which for a few kilobytes costs more than the read.
 */
export class BufferedBody extends Readable {
  private sent = false;

  constructor(readonly bytes: Buffer) {
    super();
  }

  override _read(): void {
    if (!this.sent && this.bytes.byteLength > 0) this.push(this.bytes);
    this.sent = true;
    this.push(null);
  }
}
