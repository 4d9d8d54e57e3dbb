import { METRICS } from '../contract/metrics';
import type { PrometheusApi } from '../prometheus/api';
import { readAnomalies } from './anomalies';
import { readBudgets } from './budgets';
import { counterIncreases, type IncreaseRow } from './counter-increases';
import type { Period } from './period';
import { roiStatement } from './roi';
import type { Report, SpendRow } from './types';
import { usersBySpend } from './users';

export interface ReportOptions {
  /** The model named in the ROI statement (the app's LLM_FINOPS_BASELINE_MODEL). */
  readonly baselineModel: string;
  /** How many users `top_users` lists. */
  readonly topUsers: number;
  /** Longest scrape gap bridged when reading counters. */
  readonly gapMs: number;
  /** Now, ms: a running period's budget status is read at this time. */
  readonly now: number;
}

/** Reads the period's figures from Prometheus (a fixed set of queries) and builds the report. */
export async function buildReport(
  api: PrometheusApi,
  period: Period,
  options: ReportOptions,
): Promise<Report> {
  const read = (metric: keyof typeof METRICS, by: string[], daily = false) =>
    counterIncreases(api, METRICS[metric].promName, by, period, { gapMs: options.gapMs, daily });
  const model = ['provider', 'model', 'tier', 'feature'];
  const [requests, cost, baseline, cacheSavings, lookups, outcomes, unpriced, userCost, userReqs] =
    await Promise.all([
      read('requests', [...model, 'status'], true),
      read('cost', model, true),
      read('baselineCost', model, true),
      read('cacheSavings', ['cache']),
      read('cacheLookups', ['result']),
      read('outcomes', ['feature', 'outcome']),
      read('unpricedRequests', ['provider', 'model']),
      read('userCost', ['user', 'feature']),
      read('userRequests', ['user']),
    ]);
  const [anomalies, budgets] = await Promise.all([
    readAnomalies(api, period),
    // Just before the end: at the end itself a calendar window has already reset.
    readBudgets(api, Math.min(period.end, options.now) - 1000),
  ]);

  const ok = requests.filter((r) => r.labels.status === 'ok');
  const total = (rows: readonly IncreaseRow[]) => rows.reduce((a, r) => a + r.total, 0);
  const costUsd = total(cost);
  const baselineUsd = total(baseline);
  const savingsUsd = baselineUsd - costUsd;
  const okCount = total(ok);
  const ratio = (a: number, b: number) => (b > 0 ? a / b : null);

  const spendBy = <K extends string>(keys: readonly K[]) => {
    const rows = new Map<
      string,
      { labels: Record<K, string>; req: number; c: number; b: number }
    >();
    const add = (r: IncreaseRow, field: 'req' | 'c' | 'b') => {
      const id = keys.map((k) => r.labels[k]).join('\u0000');
      const row = rows.get(id) ?? {
        labels: Object.fromEntries(keys.map((k) => [k, r.labels[k] ?? ''])) as Record<K, string>,
        req: 0,
        c: 0,
        b: 0,
      };
      row[field] += r.total;
      rows.set(id, row);
    };
    ok.forEach((r) => add(r, 'req'));
    cost.forEach((r) => add(r, 'c'));
    baseline.forEach((r) => add(r, 'b'));
    return [...rows.values()]
      .filter((r) => r.req !== 0 || r.c !== 0 || r.b !== 0)
      .sort(
        (x, y) =>
          y.c - x.c ||
          keys
            .map((k) => x.labels[k])
            .join()
            .localeCompare(keys.map((k) => y.labels[k]).join()),
      )
      .map((r): Record<K, string> & SpendRow => ({
        ...r.labels,
        requests: r.req,
        cost_usd: r.c,
        baseline_cost_usd: r.b,
        savings_usd: r.b - r.c,
        share: ratio(r.c, costUsd),
      }));
  };

  const byFeature = spendBy(['feature'] as const);
  const costByFeature = new Map(byFeature.map((r) => [r.feature, r.cost_usd]));
  const outcomeRows = new Map<string, Record<string, number>>();
  for (const r of outcomes) {
    const counts = outcomeRows.get(r.labels.feature!) ?? {};
    counts[r.labels.outcome!] = (counts[r.labels.outcome!] ?? 0) + r.total;
    outcomeRows.set(r.labels.feature!, counts);
  }
  const spenders = usersBySpend(userCost, userReqs, byFeature);
  const lookupsBy = (result: string) => total(lookups.filter((r) => r.labels.result === result));
  const hits = lookupsBy('hit');
  const misses = lookupsBy('miss');
  const savedBy = (cache: string) => total(cacheSavings.filter((r) => r.labels.cache === cache));
  const saved = { prompt: savedBy('prompt'), response: savedBy('response') };
  const byStatus = (status: string) => total(requests.filter((r) => r.labels.status === status));
  const requestsByStatus = { ok: okCount, error: byStatus('error'), denied: byStatus('denied') };

  const daily = period.days.map((day, i) => {
    const sumDay = (rows: readonly IncreaseRow[]) =>
      rows.reduce((a, r) => a + (r.daily[i] ?? 0), 0);
    const c = sumDay(cost);
    const b = sumDay(baseline);
    const fired = anomalies
      .filter((a) => Date.parse(a.first_firing) < day.end && Date.parse(a.last_firing) >= day.start)
      .map((a) => a.alert);
    return {
      date: day.date,
      requests: sumDay(ok),
      cost_usd: c,
      baseline_cost_usd: b,
      savings_usd: b - c,
      anomalies: [...new Set(fired)],
    };
  });

  const figures = {
    requests: okCount,
    baselineUsd,
    costUsd,
    savingsRatio: ratio(savingsUsd, baselineUsd),
    baselineModel: options.baselineModel,
  };
  return {
    period: {
      from: new Date(period.start).toISOString(),
      to: new Date(period.end).toISOString(),
      timezone: period.timezone,
    },
    baseline_model: options.baselineModel,
    requests: okCount,
    requests_by_status: requestsByStatus,
    cost_usd: costUsd,
    baseline_cost_usd: baselineUsd,
    savings_usd: savingsUsd,
    savings_ratio: figures.savingsRatio,
    roi: roiStatement(figures),
    cache_savings_usd: saved.prompt + saved.response,
    cache: {
      savings_usd: saved,
      lookups: { hit: hits, miss: misses },
      hit_ratio: ratio(hits, hits + misses),
    },
    by_feature: byFeature,
    by_model: spendBy(['provider', 'model', 'tier'] as const),
    by_tier: spendBy(['tier'] as const),
    top_users: spenders
      .slice(0, options.topUsers)
      .map((u) => ({ ...u, share: ratio(u.cost_usd, costUsd) })),
    users_with_spend: spenders.length,
    outcomes: [...outcomeRows]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([feature, counts]) => ({
        feature,
        outcomes: counts,
        cost_usd: costByFeature.get(feature) ?? 0,
        cost_per_success_usd: ratio(costByFeature.get(feature) ?? 0, counts.success ?? 0),
      })),
    unpriced: unpriced
      .filter((r) => r.total > 0)
      .sort((a, b) => b.total - a.total)
      .map((r) => ({ provider: r.labels.provider!, model: r.labels.model!, requests: r.total })),
    budgets,
    anomalies,
    daily,
  };
}
