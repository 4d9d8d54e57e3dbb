import { promQuery } from './prometheus';
import { usd } from './roi';

/** One row of a spend table: a label value and its figures. */
type Row = string[];

function table(title: string, header: Row, rows: Row[]): string[] {
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  return [
    '',
    title,
    ...all.map(
      (r) =>
        '  ' +
        r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('   '),
    ),
  ];
}

/**
 * Spend by feature (with calls and cost per successful outcome), by model and tier, and the top
 * users, from Prometheus at `time`: the lines to print.
 */
export async function spendBreakdown(url: string, time: number): Promise<string[]> {
  const byLabels = async (expr: string, labels: string[]) => {
    const out = new Map<string, number>();
    for (const s of await promQuery(url, expr, time))
      out.set(labels.map((l) => s.metric[l] ?? '').join(' '), s.value);
    return out;
  };
  const [cost, calls, outcomes, models, users] = await Promise.all([
    byLabels('sum by (feature) (llm_cost_usd_total)', ['feature']),
    byLabels('sum by (feature) (llm_requests_total{status="ok"})', ['feature']),
    byLabels('sum by (feature) (llm_outcomes_total{outcome="success"})', ['feature']),
    byLabels('sum by (model, tier) (llm_cost_usd_total)', ['model', 'tier']),
    byLabels('topk(5, sum by (user) (llm_user_cost_usd_total))', ['user']),
  ]);
  const desc = (m: Map<string, number>) => [...m].sort((a, b) => b[1] - a[1]);
  return [
    ...table(
      'Spend by feature',
      ['feature', 'LLM calls', 'cost', 'per success'],
      desc(cost).map(([f, c]) => {
        const ok = outcomes.get(f) ?? 0;
        return [f, String(calls.get(f) ?? 0), usd(c), ok ? usd(c / ok) : '-'];
      }),
    ),
    ...table(
      'Spend by model',
      ['model', 'tier', 'cost'],
      desc(models).map(([k, c]) => [...k.split(' '), usd(c)]),
    ),
    ...table(
      'Top users',
      ['user', 'cost'],
      desc(users).map(([u, c]) => [u, usd(c)]),
    ),
  ];
}
