import { count, percent, usd } from '../roi';
import type { Report, SpendRow } from '../types';

/** A titled table of the report: the text and Markdown renderers print the same tables. */
export interface Table {
  readonly title: string;
  readonly head: readonly string[];
  readonly rows: readonly (readonly string[])[];
  /** Columns aligned right (numbers). */
  readonly numeric: readonly boolean[];
}

const share = (r: number | null) => (r === null ? '–' : percent(r));

/** The report's sections as tables, in reading order. */
export function reportTables(r: Report): Table[] {
  const spend = (
    title: string,
    keyHead: string[],
    rows: { key: string[]; s: SpendRow }[],
  ): Table => ({
    title,
    head: [...keyHead, 'requests', 'cost', 'at baseline', 'saved', 'share'],
    numeric: [...keyHead.map(() => false), true, true, true, true, true],
    rows: rows.map(({ key, s }) => [
      ...key,
      count(s.requests),
      usd(s.cost_usd),
      usd(s.baseline_cost_usd),
      usd(s.savings_usd),
      share(s.share),
    ]),
  });
  const tables: Table[] = [
    {
      title: 'Summary',
      head: ['', ''],
      numeric: [false, true],
      rows: [
        ['Successful calls', count(r.requests)],
        ['Failed calls', count(r.requests_by_status.error)],
        ['Denied by budget (402)', count(r.requests_by_status.denied)],
        ['Actual cost', usd(r.cost_usd)],
        [`At ${r.baseline_model} rates`, usd(r.baseline_cost_usd)],
        ['Saved by routing', `${usd(r.savings_usd)} (${share(r.savings_ratio)})`],
        ['Saved by caching', usd(r.cache_savings_usd)],
        ['Saved by prompt caching', usd(r.cache.savings_usd.prompt)],
        ['Saved by the response cache', usd(r.cache.savings_usd.response)],
        ['Response-cache hit rate', share(r.cache.hit_ratio)],
        ['Users with spend', count(r.users_with_spend)],
      ],
    },
    spend(
      'Spend by feature',
      ['feature'],
      r.by_feature.map((s) => ({ key: [s.feature], s })),
    ),
    spend(
      'Spend by model',
      ['provider', 'model', 'tier'],
      r.by_model.map((s) => ({ key: [s.provider, s.model, s.tier], s })),
    ),
    spend(
      'Spend by tier',
      ['tier'],
      r.by_tier.map((s) => ({ key: [s.tier], s })),
    ),
    // Users' requests include failed calls, and their baseline is apportioned by feature.
    spend(
      'Top users (baseline apportioned by feature)',
      ['user'],
      r.top_users.map((s) => ({ key: [s.user], s })),
    ),
    {
      title: 'Cost per outcome',
      head: ['feature', 'outcomes', 'cost', 'per success'],
      numeric: [false, false, true, true],
      rows: r.outcomes.map((o) => [
        o.feature,
        Object.entries(o.outcomes)
          .map(([k, v]) => `${k} ${count(v)}`)
          .join(', '),
        usd(o.cost_usd),
        o.cost_per_success_usd === null ? '–' : usd(o.cost_per_success_usd),
      ]),
    },
    {
      title: `Budgets (as of ${r.budgets.as_of})`,
      head: ['scope', 'subject', 'window', 'spent', 'limit', 'used', 'state'],
      numeric: [false, false, false, true, true, true, false],
      rows: r.budgets.available
        ? r.budgets.caps.map((c) => [
            c.scope,
            c.subject,
            c.window,
            usd(c.spent_usd),
            usd(c.limit_usd),
            share(c.limit_usd > 0 ? c.spent_usd / c.limit_usd : null),
            c.state,
          ])
        : [],
    },
    {
      title: 'Anomalies (alerts that fired)',
      head: ['alert', 'severity', 'labels', 'from', 'to'],
      numeric: [false, false, false, false, false],
      rows: r.anomalies.map((a) => [
        a.alert,
        a.severity,
        Object.entries(a.labels)
          .map(([k, v]) => `${k}=${v}`)
          .join(' '),
        a.first_firing,
        a.last_firing,
      ]),
    },
    {
      title: 'Daily',
      head: ['date', 'calls', 'cost', 'at baseline', 'saved', 'alerts'],
      numeric: [false, true, true, true, true, false],
      rows: r.daily.map((d) => [
        d.date,
        count(d.requests),
        usd(d.cost_usd),
        usd(d.baseline_cost_usd),
        usd(d.savings_usd),
        d.anomalies.join(', '),
      ]),
    },
  ];
  if (r.unpriced.length > 0)
    tables.splice(4, 0, {
      title: 'Unpriced models (cost unknown, not zero)',
      head: ['provider', 'model', 'calls'],
      numeric: [false, false, true],
      rows: r.unpriced.map((u) => [u.provider, u.model, count(u.requests)]),
    });
  return tables;
}
