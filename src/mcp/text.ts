import { StringDecoder } from 'node:string_decoder';
import { BatonError } from '../core/errors.js';
import { BufferedBody } from '../storage/buffered-body.js';
import type { FileStream } from './backend.js';

/** Files larger than this are not returned whole through MCP: use head/tail, or REST. */
export const MAX_MCP_READ_BYTES = 16 * 1024 * 1024;

function tooLarge(path: string, size: number): BatonError {
  return new BatonError(
    'payload_too_large',
    `${path} is ${size} bytes; MCP returns files up to ${MAX_MCP_READ_BYTES} bytes whole: read it with head or tail, or over REST (GET /v1/files${path})`,
  );
}

/** All of a file's bytes, refusing files past the MCP limit before reading them. */
export async function readAll(f: FileStream, max = MAX_MCP_READ_BYTES): Promise<Buffer> {
  if (f.info.size > max) {
    f.close();
    throw tooLarge(f.info.path, f.info.size);
  }
  if (f.body instanceof BufferedBody && f.body.bytes.byteLength <= max) {
    f.close();
    return f.body.bytes;
  }
  const chunks: Buffer[] = [];
  let n = 0;
  try {
    for await (const chunk of f.body) {
      n += chunk.byteLength;
      if (n > max) throw tooLarge(f.info.path, n);
      chunks.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    }
  } finally {
    f.close();
  }
  return Buffer.concat(chunks, n);
}

export function normalizeLineEndings(text: string): string {
  return text.replace(/\r\n/g, '\n');
}

/**
 * The first `n` lines (as the reference server counts them: a final newline does not start
 * another line). Stops reading as soon as it has them.
 */
export async function headLines(f: FileStream, n: number): Promise<string> {
  const lines: string[] = [];
  const decoder = new StringDecoder('utf8');
  let buf = '';
  try {
    for await (const chunk of f.body) {
      buf += decoder.write(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
      const nl = buf.lastIndexOf('\n');
      if (nl < 0) continue;
      for (const line of buf.slice(0, nl).split('\n')) {
        lines.push(line);
        if (lines.length >= n) return lines.join('\n');
      }
      buf = buf.slice(nl + 1);
    }
    buf += decoder.end();
    if (buf.length > 0 && lines.length < n) lines.push(buf);
    return lines.join('\n');
  } finally {
    f.close();
  }
}

/**
 * The last `n` lines, line endings normalized to `\n` (as the reference server does; a final
 * newline counts as ending an empty last line). Streams the file, keeping only `n` lines.
 */
export async function tailLines(f: FileStream, n: number): Promise<string> {
  const decoder = new StringDecoder('utf8');
  const ring: string[] = [];
  let carry = '';
  const push = (line: string) => {
    ring.push(line);
    if (ring.length > n) ring.shift();
  };
  try {
    for await (const chunk of f.body) {
      const parts = (carry + decoder.write(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength))).split('\n');
      carry = parts.pop() ?? '';
      // Each of these ended with \n, so a trailing \r was half of a \r\n pair.
      for (const line of parts) push(line.endsWith('\r') ? line.slice(0, -1) : line);
    }
    push(carry + decoder.end());
    return ring.join('\n');
  } finally {
    f.close();
  }
}

export function formatSize(bytes: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  if (bytes <= 0) return '0 B';
  const i = Math.floor(Math.log(bytes) / Math.log(1024));
  if (i <= 0) return `${bytes} ${units[0]}`;
  const u = Math.min(i, units.length - 1);
  return `${(bytes / Math.pow(1024, u)).toFixed(2)} ${units[u]}`;
}

// ---- edit_file ----------------------------------------------------------------------------

export interface Edit {
  oldText: string;
  newText: string;
}

/** Indentation `delta` columns deeper (or shallower) than `base`. */
function shifted(base: string, delta: number): string {
  return delta >= 0 ? base + ' '.repeat(delta) : base.slice(0, Math.max(0, base.length + delta));
}

const indentOf = (line: string) => /^\s*/.exec(line)?.[0] ?? '';

/**
 * Apply edits in order, as the reference server does: the first exact occurrence of `oldText`
 * is replaced; failing that, a run of lines equal to `oldText`'s lines up to leading and
 * trailing whitespace is replaced. An edit that matches nowhere refuses the whole call.
 *
 * In the whitespace-tolerant case each new line is indented like the file line it stands for,
 * plus how much deeper the new line is than the old one (the reference server measures every
 * line from the first line's indentation, which flattens nested code).
 */
export function applyEdits(original: string, edits: readonly Edit[]): string {
  let content = normalizeLineEndings(original);
  for (const edit of edits) {
    const oldText = normalizeLineEndings(edit.oldText);
    const newText = normalizeLineEndings(edit.newText);
    if (content.includes(oldText)) {
      content = content.replace(oldText, () => newText);
      continue;
    }
    const oldLines = oldText.split('\n');
    const lines = content.split('\n');
    let matched = false;
    for (let i = 0; i + oldLines.length <= lines.length; i++) {
      if (!oldLines.every((l, j) => l.trim() === lines[i + j]!.trim())) continue;
      const replacement = newText.split('\n').map((line, j) => {
        const k = Math.min(j, oldLines.length - 1);
        const fileIndent = indentOf(lines[i + k]!);
        if (line.trim() === '') return '';
        if (j === 0) return fileIndent + line.trimStart();
        return shifted(fileIndent, indentOf(line).length - indentOf(oldLines[k]!).length) + line.trimStart();
      });
      lines.splice(i, oldLines.length, ...replacement);
      content = lines.join('\n');
      matched = true;
      break;
    }
    if (!matched) throw new BatonError('conflict', `Could not find exact match for edit:\n${edit.oldText}`);
  }
  return content;
}

// ---- unified diff -------------------------------------------------------------------------

const CONTEXT = 4;
/** Past this many differing lines the middle of the file is shown as replaced wholesale. */
const MAX_EDIT_DISTANCE = 4000;

/** Lines with their terminator, so a last line without a newline differs from one with. */
function splitLines(text: string): string[] {
  if (text === '') return [];
  const out = text.split(/(?<=\n)/);
  return out;
}

type Op = { kind: ' ' | '-' | '+'; line: string };

/** Myers' O(ND) diff of two line arrays; falls back to replace-all past MAX_EDIT_DISTANCE. */
function diffLines(a: string[], b: string[]): Op[] {
  let pre = 0;
  while (pre < a.length && pre < b.length && a[pre] === b[pre]) pre++;
  let suf = 0;
  while (suf < a.length - pre && suf < b.length - pre && a[a.length - 1 - suf] === b[b.length - 1 - suf]) suf++;
  const A = a.slice(pre, a.length - suf);
  const B = b.slice(pre, b.length - suf);
  const head: Op[] = a.slice(0, pre).map((line) => ({ kind: ' ', line }));
  const tail: Op[] = a.slice(a.length - suf).map((line) => ({ kind: ' ', line }));
  const N = A.length;
  const M = B.length;
  const max = N + M;
  const offset = max + 1;
  const v = new Int32Array(2 * max + 3);
  const trace: Int32Array[] = [];
  let found = -1;
  for (let d = 0; d <= Math.min(max, MAX_EDIT_DISTANCE); d++) {
    trace.push(v.slice());
    for (let k = -d; k <= d; k += 2) {
      let x = k === -d || (k !== d && v[offset + k - 1]! < v[offset + k + 1]!) ? v[offset + k + 1]! : v[offset + k - 1]! + 1;
      let y = x - k;
      while (x < N && y < M && A[x] === B[y]) {
        x++;
        y++;
      }
      v[offset + k] = x;
      if (x >= N && y >= M) {
        found = d;
        break;
      }
    }
    if (found >= 0) break;
  }
  let mid: Op[];
  if (found < 0) {
    mid = [...A.map((line): Op => ({ kind: '-', line })), ...B.map((line): Op => ({ kind: '+', line }))];
  } else {
    mid = [];
    let x = N;
    let y = M;
    for (let d = found; d > 0; d--) {
      const vd = trace[d]!;
      const k = x - y;
      const prevK = k === -d || (k !== d && vd[offset + k - 1]! < vd[offset + k + 1]!) ? k + 1 : k - 1;
      const prevX = vd[offset + prevK]!;
      const prevY = prevX - prevK;
      while (x > prevX && y > prevY) mid.push({ kind: ' ', line: A[--x]! }), y--;
      if (x === prevX) mid.push({ kind: '+', line: B[--y]! });
      else mid.push({ kind: '-', line: A[--x]! });
    }
    while (x > 0 && y > 0) mid.push({ kind: ' ', line: A[--x]! }), y--;
    mid.reverse();
  }
  return [...head, ...mid, ...tail];
}

function renderLine(op: Op): string {
  if (op.line.endsWith('\n')) return `${op.kind}${op.line}`;
  return `${op.kind}${op.line}\n\\ No newline at end of file\n`;
}

/**
 * A git-style unified diff (the layout of jsdiff's createTwoFilesPatch, which the reference
 * server uses): an `Index:` header, `---`/`+++` lines, and hunks with 4 lines of context.
 */
export function unifiedDiff(path: string, before: string, after: string): string {
  const ops = diffLines(splitLines(normalizeLineEndings(before)), splitLines(normalizeLineEndings(after)));
  let out = `Index: ${path}\n===================================================================\n--- ${path}\toriginal\n+++ ${path}\tmodified\n`;
  const changed = ops.map((o, i) => (o.kind === ' ' ? -1 : i)).filter((i) => i >= 0);
  if (changed.length === 0) return out;
  // Group changes whose gap of unchanged lines is at most twice the context.
  const groups: Array<[number, number]> = [];
  for (const i of changed) {
    const last = groups[groups.length - 1];
    if (last && i - last[1] - 1 <= 2 * CONTEXT) last[1] = i;
    else groups.push([i, i]);
  }
  // Line numbers before each op.
  const oldNo: number[] = [];
  const newNo: number[] = [];
  let o = 1;
  let n = 1;
  for (const op of ops) {
    oldNo.push(o);
    newNo.push(n);
    if (op.kind !== '+') o++;
    if (op.kind !== '-') n++;
  }
  for (const [first, last] of groups) {
    const start = Math.max(0, first - CONTEXT);
    const end = Math.min(ops.length - 1, last + CONTEXT);
    const slice = ops.slice(start, end + 1);
    const oldLines = slice.filter((x) => x.kind !== '+').length;
    const newLines = slice.filter((x) => x.kind !== '-').length;
    const oldStart = oldLines === 0 ? oldNo[start]! - 1 : oldNo[start]!;
    const newStart = newLines === 0 ? newNo[start]! - 1 : newNo[start]!;
    out += `@@ -${oldStart},${oldLines} +${newStart},${newLines} @@\n`;
    for (const op of slice) out += renderLine(op);
  }
  return out;
}

/** The diff in a fenced block, with enough backticks that the diff cannot close it early. */
export function fencedDiff(diff: string): string {
  let ticks = 3;
  while (diff.includes('`'.repeat(ticks))) ticks++;
  const fence = '`'.repeat(ticks);
  return `${fence}diff\n${diff}${fence}\n\n`;
}
