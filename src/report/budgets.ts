import { capState } from '../contract/budget';
import { BUDGET_METRICS } from '../contract/metrics';
import type { PrometheusApi } from '../prometheus/api';
import type { BudgetStatus } from './types';

/** How far back a gauge sample may be and still count as the sidecar's current value. */
const LOOKBACK = '5m';

/** The sidecar's budget gauges at `at` (ms): caps listed, users counted per state. */
export async function readBudgets(api: PrometheusApi, at: number): Promise<BudgetStatus> {
  const read = (metric: string) => api.instantSeries(`last_over_time(${metric}[${LOOKBACK}])`, at);
  const [limits, warns, spent, subjects] = await Promise.all([
    read(BUDGET_METRICS.limit),
    read(BUDGET_METRICS.warn),
    read(BUDGET_METRICS.spent),
    read(BUDGET_METRICS.subjects),
  ]);
  const key = (l: Readonly<Record<string, string>>) =>
    `${l.scope}\u0000${l.subject}\u0000${l.window}`;
  const spentBy = new Map(spent.map((s) => [key(s.labels), s.points[0]?.[1] ?? 0]));
  const warnBy = new Map(warns.map((s) => [key(s.labels), s.points[0]?.[1] ?? Infinity]));
  // Several sidecar replicas export the same caps: one row per cap.
  const caps = new Map<string, BudgetStatus['caps'][number]>();
  for (const s of limits) {
    const limit = s.points[0]?.[1] ?? 0;
    const spentUsd = spentBy.get(key(s.labels)) ?? 0;
    caps.set(key(s.labels), {
      scope: s.labels.scope ?? '',
      subject: s.labels.subject ?? '',
      window: s.labels.window ?? '',
      limit_usd: limit,
      spent_usd: spentUsd,
      state: capState(spentUsd, limit, warnBy.get(key(s.labels)) ?? Infinity),
    });
  }
  const userCounts = new Map<string, Record<string, number>>();
  for (const s of subjects) {
    if (s.labels.scope !== 'user') continue;
    const window = s.labels.window ?? '';
    const counts = userCounts.get(window) ?? {};
    counts[s.labels.state ?? ''] = Math.max(
      counts[s.labels.state ?? ''] ?? 0,
      s.points[0]?.[1] ?? 0,
    );
    userCounts.set(window, counts);
  }
  const window = userCounts.has('month') ? 'month' : [...userCounts.keys()].sort()[0];
  const counts = window === undefined ? undefined : userCounts.get(window);
  return {
    available: limits.length > 0 || subjects.length > 0,
    as_of: new Date(at).toISOString(),
    caps: [...caps.values()].sort(
      (a, b) =>
        b.spent_usd / b.limit_usd - a.spent_usd / a.limit_usd || a.subject.localeCompare(b.subject),
    ),
    users:
      window === undefined || !counts
        ? null
        : {
            window,
            ok: counts.ok ?? 0,
            warning: counts.warning ?? 0,
            exceeded: counts.exceeded ?? 0,
          },
  };
}
