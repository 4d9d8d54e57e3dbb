import { usd } from '../roi';
import type { Report } from '../types';

/**
 * Charts as inline SVG: the HTML page stays one self-contained file that renders without
 * scripts, network or fonts, in a browser or a mail client.
 */

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** Daily cost as bars, the baseline as a line, a red flag above days with alerts. */
export function dailyCostChart(r: Report): string {
  const w = 760;
  const h = 240;
  const pad = { l: 64, r: 12, t: 24, b: 36 };
  const days = r.daily;
  const max = Math.max(1e-9, ...days.map((d) => Math.max(d.cost_usd, d.baseline_cost_usd)));
  const slot = (w - pad.l - pad.r) / Math.max(1, days.length);
  const y = (v: number) => pad.t + (h - pad.t - pad.b) * (1 - v / max);
  const bars = days
    .map((d, i) => {
      const x = pad.l + i * slot + slot * 0.15;
      const top = y(d.cost_usd);
      const flag = d.anomalies.length
        ? `<circle class="flag" cx="${(x + slot * 0.35).toFixed(1)}" cy="${(pad.t - 10).toFixed(1)}" r="5"><title>${esc(`${d.date}: ${d.anomalies.join(', ')}`)}</title></circle>`
        : '';
      return `<rect class="cost" x="${x.toFixed(1)}" y="${top.toFixed(1)}" width="${(slot * 0.7).toFixed(1)}" height="${(h - pad.b - top).toFixed(1)}"><title>${esc(`${d.date}: ${usd(d.cost_usd)} (at baseline ${usd(d.baseline_cost_usd)})`)}</title></rect>${flag}`;
    })
    .join('');
  const line = days
    .map((d, i) => `${(pad.l + (i + 0.5) * slot).toFixed(1)},${y(d.baseline_cost_usd).toFixed(1)}`)
    .join(' ');
  const ticks = [0, 0.5, 1]
    .map(
      (f) =>
        `<text class="axis" x="${pad.l - 6}" y="${(y(max * f) + 4).toFixed(1)}" text-anchor="end">${esc(usd(max * f))}</text>`,
    )
    .join('');
  const labels = days
    .map((d, i) =>
      i % Math.ceil(days.length / 10) === 0
        ? `<text class="axis" x="${(pad.l + (i + 0.5) * slot).toFixed(1)}" y="${h - pad.b + 16}" text-anchor="middle">${esc(d.date.slice(5))}</text>`
        : '',
    )
    .join('');
  return `<svg id="daily-cost" role="img" aria-label="Daily cost with anomaly flags" viewBox="0 0 ${w} ${h}" width="${w}" height="${h}">${ticks}${bars}<polyline class="baseline" points="${line}"/>${labels}</svg>`;
}

/** Spend by feature as horizontal bars with their amounts. */
export function featureChart(r: Report): string {
  const w = 760;
  const row = 26;
  const rows = r.by_feature;
  const h = Math.max(1, rows.length) * row + 8;
  const max = Math.max(1e-9, ...rows.map((f) => f.cost_usd));
  const label = 140;
  const bars = rows
    .map((f, i) => {
      const len = ((w - label - 110) * f.cost_usd) / max;
      const top = 4 + i * row;
      return `<text class="axis" x="${label - 8}" y="${top + 16}" text-anchor="end">${esc(f.feature)}</text><rect class="feature" x="${label}" y="${top + 3}" width="${len.toFixed(1)}" height="${row - 8}"/><text class="value" x="${(label + len + 6).toFixed(1)}" y="${top + 16}">${esc(usd(f.cost_usd))}</text>`;
    })
    .join('');
  return `<svg id="feature-spend" role="img" aria-label="Spend by feature" viewBox="0 0 ${w} ${h}" width="${w}" height="${h}">${bars}</svg>`;
}

export { esc };
