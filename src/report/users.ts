import type { IncreaseRow } from './counter-increases';
import type { SpendRow, UserRow } from './types';

/**
 * Every user with spend, most expensive first, share left to the caller. The llm_user_* counters
 * carry no baseline (it would multiply their series by models), so a user's baseline is
 * apportioned: their cost in each feature times that feature's baseline/cost ratio over the same
 * period. Where a feature cost nothing the ratio is undefined and the baseline is the cost.
 */
export function usersBySpend(
  costByUserFeature: readonly IncreaseRow[],
  requestsByUser: readonly IncreaseRow[],
  features: readonly (SpendRow & { readonly feature: string })[],
): Omit<UserRow, 'share'>[] {
  const ratioOf = new Map(
    features
      .filter((f) => f.cost_usd > 0)
      .map((f) => [f.feature, f.baseline_cost_usd / f.cost_usd]),
  );
  const users = new Map<string, { cost: number; baseline: number }>();
  for (const r of costByUserFeature) {
    const u = users.get(r.labels.user!) ?? { cost: 0, baseline: 0 };
    u.cost += r.total;
    u.baseline += r.total * (ratioOf.get(r.labels.feature!) ?? 1);
    users.set(r.labels.user!, u);
  }
  const requests = new Map(requestsByUser.map((r) => [r.labels.user!, r.total]));
  return [...users]
    .filter(([, u]) => u.cost > 0)
    .sort(([a, x], [b, y]) => y.cost - x.cost || a.localeCompare(b))
    .map(([user, u]) => ({
      user,
      requests: requests.get(user) ?? 0,
      cost_usd: u.cost,
      baseline_cost_usd: u.baseline,
      savings_usd: u.baseline - u.cost,
      baseline_method: 'feature_ratio' as const,
    }));
}
