/**
 * The 30-day FinOps history (test/helpers/finops-history.ts) in a real Prometheus answers exactly
 * what its ledger (test/helpers/finops-scenario.ts) says.
 *
 * Proven here: whole-history totals (requests by status, cost, baseline, savings, savings ratio),
 * by feature, model, tier and user, the top spender (topk), cache savings and lookups, outcomes
 * and cost per successful outcome, unpriced calls, budget decisions; every UTC day with
 * `increase(x[1d])` evaluated at the next midnight (the sample at 00:00 closes a day: a sample
 * carries the 5 minutes before it), one day in detail by model and feature (the FOCUS rows), and
 * the day of the app restart; the recording rules have values over the last week and equal their
 * expressions; the designed anomalies are in the data (the alert expressions of
 * prometheus/rules/alerts.yaml hold during the synthetic ALERTS windows) and ALERTS is written
 * there and not before; the sidecar's budget gauges equal the ledger.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ROOT } from './helpers/child';
import { startFinopsHistory, type FinopsHistory } from './helpers/finops-history';
import { loadPriceBook } from '../src/pricing';
import { generateFinopsScenario, type FinopsLedger } from './helpers/finops-scenario';

let history: FinopsHistory;
let ledger: FinopsLedger;

beforeAll(async () => {
  history = await startFinopsHistory();
  ledger = history.scenario.ledger;
  console.log(
    'finops history build (s, 0 = cached):',
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

/** `label value -> number` from an instant query at `end` (or `time`). */
async function byLabel(
  expr: string,
  label: string,
  time = history.end,
): Promise<Record<string, number>> {
  const result = await history.prom.query(expr, time);
  return Object.fromEntries(result.map((r) => [r.metric[label] ?? '', Number(r.value[1])]));
}

const pick = <T, K extends keyof T>(rec: Record<string, T>, key: K): Record<string, T[K]> =>
  Object.fromEntries(Object.entries(rec).map(([k, v]) => [k, v[key]]));

describe('finops history: whole month', () => {
  it('totals equal the ledger exactly', async () => {
    expect(await scalar('sum(increase(llm_cost_usd_total[30d]))')).toBe(ledger.totals.cost);
    expect(await scalar('sum(increase(llm_baseline_cost_usd_total[30d]))')).toBe(
      ledger.totals.baseline,
    );
    expect(
      await scalar(
        'sum(increase(llm_baseline_cost_usd_total[30d])) - sum(increase(llm_cost_usd_total[30d]))',
      ),
    ).toBe(ledger.totals.savings);
    expect(
      await scalar(
        '1 - sum(increase(llm_cost_usd_total[30d])) / sum(increase(llm_baseline_cost_usd_total[30d]))',
      ),
    ).toBe(ledger.savingsRatio);
    const { ok, error, denied, total } = ledger.totals.requests;
    expect(await byLabel('sum by (status) (increase(llm_requests_total[30d]))', 'status')).toEqual({
      ok,
      error,
      denied,
    });
    expect(await scalar('sum(increase(llm_requests_total[30d]))')).toBe(total);
    expect(ok * error * denied).toBeGreaterThan(0);
    expect(ledger.savingsRatio).toBeGreaterThan(0.5);
  });

  it('by feature, model and tier', async () => {
    const features = ledger.byFeature;
    expect(Object.keys(features).sort()).toEqual(['agent', 'chat', 'search', 'summarise']);
    expect(
      await byLabel('sum by (feature) (increase(llm_cost_usd_total[30d]))', 'feature'),
    ).toEqual(pick(features, 'cost'));
    expect(
      await byLabel('sum by (feature) (increase(llm_baseline_cost_usd_total[30d]))', 'feature'),
    ).toEqual(pick(features, 'baseline'));
    expect(
      await byLabel('sum by (feature) (increase(llm_requests_total{status="ok"}[30d]))', 'feature'),
    ).toEqual(Object.fromEntries(Object.entries(features).map(([f, v]) => [f, v.requests.ok])));

    const models = await history.prom.query(
      'sum by (provider, model, tier) (increase(llm_cost_usd_total[30d]))',
      history.end,
    );
    const priced = Object.values(ledger.byModel).filter((m) => m.tier !== 'unknown');
    expect(
      Object.fromEntries(
        models.map((r) => [
          `${r.metric.provider}/${r.metric.model}/${r.metric.tier}`,
          Number(r.value[1]),
        ]),
      ),
    ).toEqual(
      Object.fromEntries(priced.map((m) => [`${m.provider}/${m.model}/${m.tier}`, m.cost])),
    );
    expect(new Set(priced.map((m) => m.tier))).toEqual(new Set(['economy', 'standard', 'premium']));

    expect(await byLabel('sum by (tier) (increase(llm_cost_usd_total[30d]))', 'tier')).toEqual(
      Object.fromEntries(
        Object.entries(ledger.byTier)
          .filter(([t]) => t !== 'unknown')
          .map(([t, v]) => [t, v.cost]),
      ),
    );
    expect(await byLabel('sum by (tier) (increase(llm_requests_total[30d]))', 'tier')).toEqual(
      pick(pick(ledger.byTier, 'requests'), 'total'),
    );
  });

  it('by user and the top spender', async () => {
    expect(await byLabel('sum by (user) (increase(llm_user_cost_usd_total[30d]))', 'user')).toEqual(
      ledger.userCost,
    );
    expect(await byLabel('sum by (user) (increase(llm_user_requests_total[30d]))', 'user')).toEqual(
      ledger.userRequests,
    );
    expect(Object.keys(ledger.userCost)).toHaveLength(40);
    const top = await history.prom.query(
      'topk(1, sum by (user) (increase(llm_user_cost_usd_total[30d])))',
      history.end,
    );
    expect(top.map((r) => [r.metric.user, Number(r.value[1])])).toEqual([
      [ledger.topSpender.user, ledger.topSpender.cost],
    ]);
    // Heavy tail: the top spender alone spends more than the 30 smallest users together.
    const costs = Object.values(ledger.userCost).sort((a, b) => a - b);
    expect(ledger.topSpender.cost).toBeGreaterThan(costs.slice(0, 30).reduce((a, b) => a + b));
    // Every priced call has a user: per-user spend adds up to the total.
    expect(await scalar('sum(increase(llm_user_cost_usd_total[30d]))')).toBe(ledger.totals.cost);
  });

  it('cache, outcomes, cost per successful outcome, unpriced calls, budget decisions', async () => {
    expect(
      await byLabel('sum by (cache) (increase(llm_cache_savings_usd_total[30d]))', 'cache'),
    ).toEqual(ledger.cacheSavings);
    expect(
      await byLabel('sum by (result) (increase(llm_cache_lookups_total[30d]))', 'result'),
    ).toEqual(ledger.cacheLookups);
    const outcomes = await history.prom.query(
      'sum by (feature, outcome) (increase(llm_outcomes_total[30d]))',
      history.end,
    );
    const got: Record<string, Record<string, number>> = {};
    for (const r of outcomes)
      (got[r.metric.feature ?? ''] ??= {})[r.metric.outcome ?? ''] = Number(r.value[1]);
    expect(got).toEqual(ledger.outcomes);
    expect(
      await byLabel(
        'sum by (feature) (increase(llm_cost_usd_total[30d])) / sum by (feature) (increase(llm_outcomes_total{outcome="success"}[30d]))',
        'feature',
      ),
    ).toEqual(ledger.costPerSuccess);
    const unpriced = await history.prom.query(
      'sum by (provider, model) (increase(llm_unpriced_requests_total[30d]))',
      history.end,
    );
    expect(
      Object.fromEntries(
        unpriced.map((r) => [`${r.metric.provider}/${r.metric.model}`, Number(r.value[1])]),
      ),
    ).toEqual(ledger.unpriced);
    expect(
      await byLabel('sum by (decision) (increase(llm_budget_decisions_total[30d]))', 'decision'),
    ).toEqual(ledger.decisions);
    expect(ledger.decisions.deny).toBe(ledger.totals.requests.denied);
    expect(await byLabel('sum by (type) (increase(llm_tokens_total[30d]))', 'type')).toEqual(
      ledger.tokens,
    );
  });

  it('the ledger is deterministic and adds up: days to the month, features to the total', () => {
    const again = generateFinopsScenario(loadPriceBook());
    expect(again.hash).toBe(history.scenario.hash);
    // userCostIn is a query over the series, not data: compared by its answers.
    const { userCostIn: againCostIn, ...againData } = again.ledger;
    const { userCostIn: costIn, ...data } = ledger;
    expect(againData).toEqual(data);
    for (const user of history.scenario.users) {
      const cost = costIn(user, ledger.start, ledger.end);
      expect(againCostIn(user, ledger.start, ledger.end)).toBe(cost);
      // Over the whole history the query is the user's month: the two ledger paths agree.
      expect(cost).toBe(ledger.userCost[user]);
    }
    const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
    // Amounts are multiples of 2^-30 USD: sums are exact in any order.
    expect(sum(ledger.daily.map((d) => d.cost))).toBe(ledger.totals.cost);
    expect(sum(ledger.daily.map((d) => d.baseline))).toBe(ledger.totals.baseline);
    expect(sum(ledger.daily.map((d) => d.requests.total))).toBe(ledger.totals.requests.total);
    expect(sum(Object.values(ledger.byFeature).map((f) => f.cost))).toBe(ledger.totals.cost);
    expect(sum(Object.values(ledger.userCost))).toBe(ledger.totals.cost);
    expect(sum(ledger.daily.flatMap((d) => d.rows.map((r) => r.cost)))).toBe(ledger.totals.cost);
  });
});

describe('finops history: UTC days', () => {
  it('every day: increase(x[1d]) at the next midnight, as a 1d-step range query (the Daily cost panel)', async () => {
    expect(ledger.daily).toHaveLength(30);
    expect(ledger.daily[0]?.date).toBe('2026-11-01');
    expect(ledger.daily[29]?.date).toBe('2026-11-30');
    const [series] = await history.prom.queryRange(
      'sum(increase(llm_cost_usd_total[1d]))',
      ledger.start + 86_400,
      ledger.end,
      86_400,
    );
    expect(series?.values.map(([t, v]) => [t, Number(v)])).toEqual(
      ledger.daily.map((d) => [d.end, d.cost]),
    );
    const [requests] = await history.prom.queryRange(
      'sum(increase(llm_requests_total[1d]))',
      ledger.start + 86_400,
      ledger.end,
      86_400,
    );
    expect(requests?.values.map(([, v]) => Number(v))).toEqual(
      ledger.daily.map((d) => d.requests.total),
    );
    // Weekly seasonality: the weekdays cost more than the weekend days.
    const weekday = (d: { start: number }) => new Date(d.start * 1000).getUTCDay() % 6 !== 0;
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const normal = ledger.daily.slice(0, 21);
    expect(mean(normal.filter(weekday).map((d) => d.cost))).toBeGreaterThan(
      1.5 * mean(normal.filter((d) => !weekday(d)).map((d) => d.cost)),
    );
  });

  it('one day by feature and by model and feature (FOCUS rows)', async () => {
    const day = ledger.daily.find((d) => d.date === '2026-11-17');
    if (!day) throw new Error('no 2026-11-17');
    expect(
      await byLabel('sum by (feature) (increase(llm_cost_usd_total[1d]))', 'feature', day.end),
    ).toEqual(pick(day.byFeature, 'cost'));
    expect(await scalar('sum(increase(llm_baseline_cost_usd_total[1d]))', day.end)).toBe(
      day.baseline,
    );
    const rows = await history.prom.query(
      'sum by (provider, model, tier, feature) (increase(llm_cost_usd_total[1d]))',
      day.end,
    );
    const priced = day.rows.filter((r) => r.tier !== 'unknown');
    expect(
      Object.fromEntries(
        rows.map((r) => [
          `${r.metric.provider}/${r.metric.model}/${r.metric.feature}`,
          Number(r.value[1]),
        ]),
      ),
    ).toEqual(
      Object.fromEntries(priced.map((r) => [`${r.provider}/${r.model}/${r.feature}`, r.cost])),
    );
    const tokens = await history.prom.query(
      'sum by (provider, model, feature) (increase(llm_tokens_total{type="input"}[1d]))',
      day.end,
    );
    expect(
      Object.fromEntries(
        tokens.map((r) => [
          `${r.metric.provider}/${r.metric.model}/${r.metric.feature}`,
          Number(r.value[1]),
        ]),
      ),
    ).toEqual(
      Object.fromEntries(
        day.rows.map((r) => [`${r.provider}/${r.model}/${r.feature}`, r.tokens.input]),
      ),
    );
    // The rows add up to the day.
    expect(day.rows.reduce((a, r) => a + r.requests, 0)).toBe(day.requests.ok);
    expect(day.rows.reduce((a, r) => a + (r.tokens.output ?? 0), 0)).toBe(day.tokens.output);
  });

  it('the day of the app restart: counters drop to 0, increase stays exact', async () => {
    const day = ledger.daily.find((d) => d.start <= ledger.restartAt && ledger.restartAt < d.end);
    if (!day) throw new Error('restart outside the history');
    expect(day.date).toBe('2026-11-12');
    expect(await scalar('sum(llm_cost_usd_total)', ledger.restartAt)).toBe(0);
    expect(await scalar('sum(llm_cost_usd_total)', ledger.restartAt - 300)).toBeGreaterThan(0);
    expect(await scalar('sum(resets(llm_cost_usd_total[1d]) > 0)', day.end)).toBeGreaterThan(0);
    expect(await scalar('sum(increase(llm_cost_usd_total[1d]))', day.end)).toBe(day.cost);
    expect(await scalar('sum(increase(llm_requests_total[1d]))', day.end)).toBe(day.requests.total);
    expect(await scalar('up{job="llm-app"}', ledger.restartAt)).toBe(0);
  });
});

describe('finops history: recording rules, anomalies, budgets', () => {
  const recording = parse(
    readFileSync(join(ROOT, 'prometheus', 'rules', 'recording.yaml'), 'utf8'),
  ) as { groups: { rules: { record: string; expr: string }[] }[] };
  const alerting = parse(
    readFileSync(join(ROOT, 'prometheus', 'rules', 'alerts.yaml'), 'utf8'),
  ) as {
    groups: {
      rules: { alert?: string; expr: string; for?: string; labels?: Record<string, string> }[];
    }[];
  };
  const alertRule = (name: string) => {
    const rule = alerting.groups.flatMap((g) => g.rules).find((r) => r.alert === name);
    if (!rule) throw new Error(`no alert ${name}`);
    return rule;
  };

  it('every recording rule has values every 5m over the last week, equal to its expression', async () => {
    const rules = recording.groups.flatMap((g) => g.rules);
    expect(rules.length).toBeGreaterThan(10);
    for (const rule of rules) {
      const counts = await history.prom.query(`count_over_time(${rule.record}[1w])`, history.end);
      expect(counts.length, rule.record).toBeGreaterThan(0);
      // 2017 samples in a week at 5m. Ratios and rates of sparse series (agent calls at night
      // on a weekend) are absent in some slots: at least one series is near complete, none sparse.
      const n = counts.map((c) => Number(c.value[1]));
      expect(Math.max(...n), rule.record).toBeGreaterThanOrEqual(1900);
      expect(Math.min(...n), rule.record).toBeGreaterThan(500);
      const at = history.end - 3 * 86_400;
      const recorded = await history.prom.query(rule.record, at);
      const direct = await history.prom.query(rule.expr, at);
      const key = (m: Record<string, string>) =>
        JSON.stringify(
          Object.entries(m)
            .filter(([k]) => k !== '__name__')
            .sort(),
        );
      expect(
        Object.fromEntries(recorded.map((r) => [key(r.metric), r.value[1]])),
        rule.record,
      ).toEqual(Object.fromEntries(direct.map((r) => [key(r.metric), r.value[1]])));
    }
  });

  it('each designed anomaly: its alert expression holds exactly over its for and ALERTS window, ALERTS is firing there and not before', async () => {
    const seconds = (d: string | undefined) =>
      d ? Number(d.slice(0, -1)) * { s: 1, m: 60, h: 3600 }[d.slice(-1) as 's' | 'm' | 'h'] : 0;
    for (const a of ledger.anomalies) {
      const { alertname, severity, ...labels } = a.alert;
      const rule = alertRule(alertname ?? '');
      expect(severity).toBe(rule.labels?.severity);
      // The expression holds over the alert's `for` before the window and at every step of it,
      // and not at the step after (unless the window runs to the end).
      const holdsFrom = a.firingFrom - Math.ceil(seconds(rule.for) / 300) * 300;
      const after = Math.min(a.firingTo + 300, history.end);
      const holds = (await history.prom.queryRange(rule.expr, holdsFrom, after, 300)).filter((s) =>
        Object.entries(labels).every(([k, v]) => s.metric[k] === v),
      );
      expect(holds, alertname).toHaveLength(1);
      const times = holds[0]?.values.map(([t]) => t) ?? [];
      const expected: number[] = [];
      for (let t = holdsFrom; t <= a.firingTo; t += 300) expected.push(t);
      expect(times, alertname).toEqual(expected);
      const selector = Object.entries({ ...a.alert, alertstate: 'firing' })
        .map(([k, v]) => `${k}="${v}"`)
        .join(',');
      expect(await scalar(`ALERTS{${selector}}`, a.firingFrom), selector).toBe(1);
      expect(await scalar(`ALERTS{${selector}}`, a.firingTo), selector).toBe(1);
      expect(await history.prom.query(`ALERTS{${selector}}`, a.firingFrom - 600)).toEqual([]);
    }
    const names = ledger.anomalies.map((a) => a.alert.alertname);
    expect(names).toEqual([
      'LlmCostPerRequestAnomaly',
      'LlmTierMixShift',
      'LlmRunawayUser',
      'LlmVolumeSpike',
      'LlmCostPerRequestAnomaly',
      'LlmBudgetExceeded',
    ]);
    // The cost per request spike: several times the same hour a day earlier.
    const spike = ledger.anomalies[0];
    if (!spike) throw new Error('no spike');
    const during = await scalar(
      'feature:llm_cost_per_request_usd:rate1h{feature="summarise"}',
      spike.to,
    );
    const before = await scalar(
      'feature:llm_cost_per_request_usd:rate1h{feature="summarise"}',
      spike.to - 86_400,
    );
    expect(during).toBeGreaterThan(3 * before);
  });

  it('the sidecar budget gauges at the end equal the ledger', async () => {
    const rows = await history.prom.query(
      'llm_budget_spent_usd / on (scope, subject, window) llm_budget_limit_usd',
      history.end,
    );
    expect(
      Object.fromEntries(
        rows.map((r) => [`${r.metric.scope}/${r.metric.subject}`, Number(r.value[1])]),
      ),
    ).toEqual(
      Object.fromEntries(ledger.budgets.map((b) => [`${b.scope}/${b.subject}`, b.spent / b.limit])),
    );
    expect(await byLabel('llm_budget_spent_usd{scope="feature"}', 'subject')).toEqual(
      Object.fromEntries(
        Object.entries(ledger.byFeature)
          .filter(([f]) => ledger.budgets.some((b) => b.scope === 'feature' && b.subject === f))
          .map(([f, v]) => [f, v.cost]),
      ),
    );
    expect(await scalar('llm_budget_spent_usd{scope="global"}')).toBe(ledger.totals.cost);
    const subjects = await history.prom.query('llm_budget_subjects', history.end);
    expect(
      Object.fromEntries(
        subjects.map((r) => [`${r.metric.scope}/${r.metric.state}`, Number(r.value[1])]),
      ),
    ).toEqual(ledger.budgetSubjects);
    expect(ledger.usersOverCap).toEqual(['user-37']);
    expect(ledger.usersAtWarning).toContain(ledger.topSpender.user);
    expect(await scalar('sum(llm_budget_subjects{scope="user",state="exceeded"})')).toBe(1);
    expect(
      await byLabel('llm_budget_spent_usd{scope="user"} >= llm_budget_limit_usd', 'subject'),
    ).toEqual({ 'user-37': ledger.userCost['user-37'] });
  });
});
