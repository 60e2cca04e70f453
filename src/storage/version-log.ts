import type { VersionInfo } from './driver.js';

/**
 * One line of a path's version log, the same for every backend. The bytes of version N, once
 * superseded, live beside the log as `v<N>`.
 */
export interface VersionRecord extends VersionInfo {
  /** Where the bytes went when a move took them, so a restore can say why it cannot. */
  movedTo?: string;
}

/** The log is JSON lines: one record a line, each line ending in a newline. */
export function formatVersionLog(records: readonly VersionRecord[]): string {
  return records.map((r) => JSON.stringify(r) + '\n').join('');
}

/**
 * Parses a log, skipping any line that is not a record: a torn last line from a crash
 * mid-append never took effect, and one bad line must not cost the whole history.
 */
export function parseVersionLog(text: string): VersionRecord[] {
  const out: VersionRecord[] = [];
  for (const line of text.split('\n')) {
    if (!line) continue;
    try {
      out.push(JSON.parse(line) as VersionRecord);
    } catch {
      continue;
    }
  }
  return out;
}
