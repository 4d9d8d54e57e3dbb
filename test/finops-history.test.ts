/**
 * The 30-day FinOps history (test/helpers/finops-history.ts) in a real Prometheus answers exactly
 * what its ledger (test/helpers/finops-scenario.ts) says: totals, by feature, by user, the top
 * spender, one UTC day, the day of the app restart; the recording rules have values over the last
 * week; the synthetic ALERTS and the sidecar's budget gauges are there.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFinopsHistory, type FinopsHistory } from './helpers/finops-history';

let history: FinopsHistory;

beforeAll(async () => {
  history = await startFinopsHistory();
  console.log(
    'finops history build (s):',
    history.timings,
    'series:',
    history.scenario.seriesCount,
  );
}, 180_000);

afterAll(async () => {
  await history?.stop();
});

/** One number from an instant query at `end` (or `time`). */
async function scalar(expr: string, time = history.end): Promise<number> {
  const result = await history.prom.query(expr, time);
  expect(result, expr).toHaveLength(1);
  return Number(result[0]?.value[1]);
}

/** `label value -> number` from an instant query at `end`. */
async function byLabel(
  expr: string,
  label: string,
  time = history.end,
): Promise<Record<string, number>> {
  const result = await history.prom.query(expr, time);
  return Object.fromEntries(result.map((r) => [r.metric[label] ?? '', Number(r.value[1])]));
}

describe('finops history', () => {
  it('totals over the 30 days equal the ledger exactly', async () => {
    const l = history.scenario.ledger;
    expect(await scalar('sum(increase(llm_cost_usd_total[30d]))')).toBe(l.totals.cost);
    expect(await scalar('sum(increase(llm_baseline_cost_usd_total[30d]))')).toBe(l.totals.baseline);
    expect(
      await scalar(
        'sum(increase(llm_baseline_cost_usd_total[30d])) - sum(increase(llm_cost_usd_total[30d]))',
      ),
    ).toBe(l.totals.savings);
    expect(
      await scalar(
        '1 - sum(increase(llm_cost_usd_total[30d])) / sum(increase(llm_baseline_cost_usd_total[30d]))',
      ),
    ).toBe(l.savingsRatio);
    expect(await byLabel('sum by (status) (increase(llm_requests_total[30d]))', 'status')).toEqual({
      ok: l.totals.requests.ok,
      error: l.totals.requests.error,
      denied: l.totals.requests.denied,
    });
  });
});
