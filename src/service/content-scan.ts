import type { Readable } from 'node:stream';

export interface LineMatch {
  line: number;
  text: string;
}

const MAX_MATCHES_PER_FILE = 20;
const MAX_LINE_CHARS = 500;
const MAX_SCAN_BYTES = 16 * 1024 * 1024;

/**
 * Lines of a file that contain `needle` (case-sensitive, literal). Streams the body and stops
 * early: after enough matches, past 16 MiB, or at a NUL byte in the first chunk (binary files
 * have no lines worth showing).
 */
export async function scanContent(body: Readable, needle: string): Promise<LineMatch[]> {
  const matches: LineMatch[] = [];
  let carry = '';
  let lineNo = 0;
  let bytes = 0;
  let first = true;
  const check = (line: string) => {
    lineNo++;
    if (line.includes(needle)) matches.push({ line: lineNo, text: line.length > MAX_LINE_CHARS ? line.slice(0, MAX_LINE_CHARS) : line });
  };
  try {
    for await (const chunk of body) {
      const buf = chunk as Buffer;
      if (first && buf.includes(0)) return [];
      first = false;
      bytes += buf.length;
      const lines = (carry + buf.toString('utf8')).split('\n');
      carry = lines.pop() ?? '';
      for (const line of lines) {
        check(line);
        if (matches.length >= MAX_MATCHES_PER_FILE) return matches;
      }
      if (bytes > MAX_SCAN_BYTES) return matches;
    }
    if (carry) check(carry);
    return matches;
  } finally {
    body.destroy();
  }
}
