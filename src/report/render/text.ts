import type { Report } from '../types';
import { reportTables, type Table } from './tables';

/** The report as plain text for a terminal: the ROI statement, then aligned tables. */
export function renderText(r: Report): string {
  const lines = [
    `LLM FinOps report ${r.period.from} – ${r.period.to} (${r.period.timezone})`,
    '',
    r.roi,
  ];
  for (const t of reportTables(r)) lines.push('', ...table(t));
  return `${lines.join('\n')}\n`;
}

function table(t: Table): string[] {
  if (t.rows.length === 0) return [t.title, '  (none)'];
  const all = t.head.some((h) => h) ? [t.head, ...t.rows] : t.rows;
  const widths = t.head.map((_, i) => Math.max(...all.map((row) => row[i]!.length)));
  const line = (row: readonly string[]) =>
    `  ${row.map((c, i) => (t.numeric[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ')}`.trimEnd();
  return [t.title, ...all.map(line)];
}
