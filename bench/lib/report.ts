import type { Summary } from './stats.js';

export type Unit = 'ms' | 's' | '/s' | 'MiB' | '';

/** One line of the results table. For a rate or a single value, `p50` holds the value. */
export interface Row {
  group: string;
  metric: string;
  unit: Unit;
  baton: { p50: number | null; p99?: number | null };
  floor?: { p50: number | null; p99?: number | null; what: string };
  target?: string;
  /** Whether the target was met; null when there is no target or no number. */
  met?: boolean | null;
  note?: string;
  /** A placeholder row: nothing measured. */
  pending?: boolean;
}

export interface Section {
  id: string;
  title: string;
  rows: Row[];
  details: Record<string, unknown>;
  elapsedMs?: number;
  error?: string;
}

export const lat = (s: Summary) => ({ p50: s.n ? s.p50 : null, p99: s.n ? s.p99 : null });

export function fmt(x: number | null | undefined, unit: Unit): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return '—';
  let v: string;
  if (unit === '/s') v = x >= 100 ? Math.round(x).toLocaleString('en-US') : x.toFixed(1);
  else if (unit === 'MiB') v = x.toFixed(0);
  else if (unit === 's') v = x >= 100 ? x.toFixed(0) : x.toFixed(2);
  else if (unit === 'ms') v = x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2);
  else v = x >= 1000 ? Math.round(x).toLocaleString('en-US') : String(Math.round(x * 100) / 100);
  return unit ? `${v} ${unit}` : v;
}

function pair(v: { p50: number | null; p99?: number | null } | undefined, unit: Unit): string {
  if (!v) return '—';
  if (v.p99 === undefined) return fmt(v.p50, unit);
  return `${fmt(v.p50, unit)} · ${fmt(v.p99, unit)}`;
}

export function ratio(a: number | null | undefined, b: number | null | undefined): number | null {
  if (a === null || a === undefined || b === null || b === undefined || !Number.isFinite(a) || !Number.isFinite(b) || b === 0) return null;
  return a / b;
}

function fmtRatio(r: number | null): string {
  if (r === null) return '—';
  return r >= 100 ? `${Math.round(r)}×` : r >= 10 ? `${r.toFixed(1)}×` : `${r.toFixed(2)}×`;
}

export function rowRatios(r: Row): { p50: number | null; p99: number | null } {
  return { p50: ratio(r.baton.p50, r.floor?.p50), p99: r.baton.p99 === undefined ? null : ratio(r.baton.p99, r.floor?.p99) };
}

const esc = (s: string) => s.replace(/\|/g, '\\|');

export function markdownTable(sections: Section[]): string {
  const out = [
    '| Measurement | Baton p50 · p99 | Floor p50 · p99 | Baton/floor p50 · p99 | Target | Notes |',
    '|---|---|---|---|---|---|',
  ];
  for (const s of sections) {
    out.push(`| **${esc(s.title)}** | | | | | ${s.error ? esc(`FAILED: ${s.error}`) : ''} |`);
    for (const r of s.rows) {
      if (r.pending) {
        out.push(`| ${esc(r.metric)} | not measured yet | | | | ${esc(r.note ?? '')} |`);
        continue;
      }
      const rr = rowRatios(r);
      const ratioCell = r.floor ? (r.baton.p99 === undefined ? fmtRatio(rr.p50) : `${fmtRatio(rr.p50)} · ${fmtRatio(rr.p99)}`) : '—';
      const floorCell = r.floor ? `${pair(r.floor, r.unit)} (${r.floor.what})` : '—';
      const target = r.target ? `${r.target}${r.met === true ? ' ✅' : r.met === false ? ' ❌' : ''}` : '';
      out.push(`| ${esc(r.metric)} | ${pair(r.baton, r.unit)} | ${esc(floorCell)} | ${ratioCell} | ${esc(target)} | ${esc(r.note ?? '')} |`);
    }
  }
  return out.join('\n');
}

/** A plain-text table for the terminal. */
export function textTable(sections: Section[]): string {
  const rows: string[][] = [['measurement', 'baton p50 · p99', 'floor p50 · p99', 'ratio', 'target']];
  for (const s of sections) {
    rows.push([`[${s.title}]${s.error ? ` FAILED: ${s.error}` : ''}`, '', '', '', '']);
    for (const r of s.rows) {
      if (r.pending) {
        rows.push([`  ${r.metric}`, 'not measured yet', '', '', '']);
        continue;
      }
      const rr = rowRatios(r);
      rows.push([
        `  ${r.metric}`,
        pair(r.baton, r.unit),
        r.floor ? pair(r.floor, r.unit) : '—',
        r.floor ? (r.baton.p99 === undefined ? fmtRatio(rr.p50) : `${fmtRatio(rr.p50)} · ${fmtRatio(rr.p99)}`) : '—',
        r.target ? `${r.target}${r.met === true ? ' ok' : r.met === false ? ' MISSED' : ''}` : '',
      ]);
    }
  }
  const widths = rows[0]!.map((_, c) => Math.min(60, Math.max(...rows.map((r) => r[c]!.length))));
  return rows.map((r) => r.map((cell, c) => cell.padEnd(widths[c]!)).join('  ').trimEnd()).join('\n');
}
