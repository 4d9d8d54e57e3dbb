import type { Report } from '../types';
import { reportTables, type Table } from './tables';

/** The report as GitHub-flavoured Markdown: the ROI statement as a quote, then tables. */
export function renderMarkdown(r: Report): string {
  const out = [
    `# LLM FinOps report`,
    '',
    `${r.period.from} – ${r.period.to} (${r.period.timezone})`,
    '',
    `> ${r.roi}`,
  ];
  for (const t of reportTables(r)) out.push('', `## ${t.title}`, '', ...table(t));
  return `${out.join('\n')}\n`;
}

function table(t: Table): string[] {
  if (t.rows.length === 0) return ['None.'];
  const cell = (c: string) => c.replace(/\|/g, '\\|');
  return [
    `| ${t.head.map(cell).join(' | ')} |`,
    `| ${t.numeric.map((n) => (n ? '---:' : '---')).join(' | ')} |`,
    ...t.rows.map((row) => `| ${row.map(cell).join(' | ')} |`),
  ];
}
