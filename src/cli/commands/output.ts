/** Human-readable output: aligned tables, sizes and times. `--json` output bypasses all of it. */

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

export function line(text: string): void {
  process.stdout.write(`${text}\n`);
}

function width(s: string): number {
  return [...s].length;
}

export interface Column {
  header: string;
  /** Right-align (numbers). */
  right?: boolean;
}

/** An aligned table with a header row; the last column is not padded. */
export function table(columns: Array<string | Column>, rows: string[][]): void {
  const cols = columns.map((c) => (typeof c === 'string' ? { header: c } : c));
  const widths = cols.map((c, i) => Math.max(width(c.header), ...rows.map((r) => width(r[i] ?? ''))));
  const fmt = (cells: string[]) =>
    cells
      .map((cell, i) => {
        if (i === cells.length - 1 && !cols[i]?.right) return cell;
        const pad = ' '.repeat(Math.max(0, (widths[i] ?? 0) - width(cell)));
        return cols[i]?.right ? pad + cell : cell + pad;
      })
      .join('  ')
      .trimEnd();
  const out = [fmt(cols.map((c) => c.header)), ...rows.map(fmt)];
  process.stdout.write(`${out.join('\n')}\n`);
}

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  let v = n;
  let u = 0;
  while (v >= 1024 && u < UNITS.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v < 10 ? v.toFixed(1) : Math.round(v)} ${UNITS[u]}`;
}

/** ISO times without milliseconds: `2026-11-22 10:00:00Z`. */
export function formatTime(iso: string | null | undefined): string {
  if (!iso) return '-';
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return iso;
  return new Date(t).toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}

export function dash(v: string | number | null | undefined): string {
  return v === null || v === undefined || v === '' ? '-' : String(v);
}
