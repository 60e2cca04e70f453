import { formatBytes } from './output.js';

/** Transfers above this size show progress on stderr. */
export const PROGRESS_THRESHOLD = 8 * 1024 * 1024;

/**
 * A progress line on stderr for a long transfer, only when stderr is a terminal (or
 * BATON_PROGRESS=1). Silent until the transfer is known, or seen, to pass 8 MiB.
 */
export class Progress {
  private readonly enabled: boolean;
  private readonly tty: boolean;
  private lastDraw = 0;
  private drawn = false;
  private bytes = 0;
  private readonly started = Date.now();

  constructor(
    private readonly label: string,
    private readonly total: number | undefined,
  ) {
    this.tty = process.stderr.isTTY === true;
    this.enabled = this.tty || process.env.BATON_PROGRESS === '1';
  }

  update(bytes: number): void {
    this.bytes = bytes;
    if (!this.enabled) return;
    const big = this.total !== undefined ? this.total > PROGRESS_THRESHOLD : bytes > PROGRESS_THRESHOLD;
    if (!big) return;
    const now = Date.now();
    if (now - this.lastDraw < (this.tty ? 100 : 1000)) return;
    this.lastDraw = now;
    this.draw();
  }

  private draw(): void {
    const secs = Math.max((Date.now() - this.started) / 1000, 0.001);
    const rate = `${formatBytes(Math.round(this.bytes / secs))}/s`;
    const of = this.total !== undefined ? ` / ${formatBytes(this.total)} (${Math.floor((this.bytes / Math.max(this.total, 1)) * 100)}%)` : '';
    const text = `${this.label} ${formatBytes(this.bytes)}${of}  ${rate}`;
    process.stderr.write(this.tty ? `\r\x1b[K${text}` : `${text}\n`);
    this.drawn = true;
  }

  /** Draw the final state and end the line, if anything was drawn. */
  done(): void {
    if (!this.drawn) return;
    this.draw();
    if (this.tty) process.stderr.write('\n');
  }
}
