import type { Report } from '../types';
import { dailyCostChart, esc, featureChart } from './charts';
import { reportTables, type Table } from './tables';

const STYLE = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:2rem auto;max-width:820px;color:#1d2430;padding:0 1rem}
h1{font-size:1.5rem;margin:0}.period{color:#5b6576;margin:.2rem 0 1.2rem}
.roi{font-size:1.25rem;font-weight:600;background:#eef6ee;border-left:4px solid #2e7d32;padding:.8rem 1rem;margin:0 0 1.5rem}
h2{font-size:1.1rem;margin:1.8rem 0 .5rem}table{border-collapse:collapse;width:100%}
th,td{padding:.25rem .5rem;border-bottom:1px solid #e3e6eb;text-align:left}td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
svg{max-width:100%;height:auto}.cost{fill:#3f6fd8}.baseline{fill:none;stroke:#9aa3b2;stroke-width:2;stroke-dasharray:4 3}
.flag{fill:#d32f2f}.feature{fill:#3f6fd8}.axis,.value{font-size:11px;fill:#5b6576}.legend{color:#5b6576;font-size:12px}
`;

/** The report as one self-contained HTML page: the ROI statement, two charts, then the tables. */
export function renderHtml(r: Report): string {
  const tables = reportTables(r).map(table).join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>LLM FinOps report ${esc(r.period.from.slice(0, 10))} – ${esc(r.period.to.slice(0, 10))}</title>
<style>${STYLE}</style></head>
<body>
<h1>LLM FinOps report</h1>
<p class="period">${esc(r.period.from)} – ${esc(r.period.to)} (${esc(r.period.timezone)})</p>
<p class="roi" id="roi">${esc(r.roi)}</p>
<h2>Daily cost</h2>
${dailyCostChart(r)}
<p class="legend">Bars: actual cost per day. Dashed line: the same tokens at ${esc(r.baseline_model)} rates. Red dots: days with alerts (hover for names).</p>
<h2>Spend by feature</h2>
${featureChart(r)}
${tables}
</body></html>
`;
}

function table(t: Table): string {
  const cls = (i: number) => (t.numeric[i] ? ' class="n"' : '');
  const body =
    t.rows.length === 0
      ? '<p>None.</p>'
      : `<table><thead><tr>${t.head.map((h, i) => `<th${cls(i)}>${esc(h)}</th>`).join('')}</tr></thead><tbody>${t.rows
          .map((row) => `<tr>${row.map((c, i) => `<td${cls(i)}>${esc(c)}</td>`).join('')}</tr>`)
          .join('')}</tbody></table>`;
  return `<h2>${esc(t.title)}</h2>\n${body}`;
}
