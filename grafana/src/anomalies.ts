/**
 * "LLM anomalies": one panel per alert of prometheus/rules/alerts.yaml, showing the signal the
 * alert evaluates next to its band or threshold (same windows as the alert: 1h, 1d, 1w are part
 * of the alert's meaning), with a link to the alert's runbook section; and the alerts that fired.
 */
import type * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import {
  BUDGET,
  M,
  type Query,
  type Step,
  type TimeseriesSpec,
  baseDashboard,
  finish,
  row,
  runbookUrl,
  tablePanel,
  timeseriesPanel,
} from './panels';

export const ANOMALIES_UID = 'llm-finops-anomalies';
export const ANOMALIES_TITLE = 'LLM anomalies';

/** One alert's panel. */
interface AlertPanel {
  alert: string;
  /**
   * What the alert evaluates, as written in its expression in alerts.yaml (or a recording rule
   * whose expression is written there); one of the panel's targets contains it.
   * test/grafana-dashboards.test.ts checks both, so the panel cannot drift from the alert.
   */
  signal: string;
  title: string;
  description: string;
  unit: string;
  targets: Query[];
  /** The alert's fixed threshold, drawn as a dashed red line. */
  threshold?: number;
  axisLabel?: string;
  unitByQuery?: Record<string, string>;
}

const RED_ABOVE = (t: number): Step[] => [
  [null, 'green'],
  [t, 'red'],
];

// Reused signals, written as in alerts.yaml.
const costPerRequest1h = `sum by (feature) (rate(${M.cost}[1h])) / (sum by (feature) (rate(${M.requests}{status="ok"}[1h])) > 0)`;
const cprWeek = (fn: string) => `${fn}(feature:llm_cost_per_request_usd:rate1h[1w] offset 1h)`;
const userSpend1h = `sum by (user) (rate(${M.userCost}[1h]))`;
const tierShare1h = `(sum by (tier) (rate(${M.cost}[1h])) / on () group_left () sum(rate(${M.cost}[1h])))`;
const globalMonth = 'scope="global",window="month"';
const requestsPerHour = `sum by (feature) (rate(${M.requests}[1h])) * 3600`;
const tierMixDistance = `0.5 * sum(abs(${tierShare1h} - tier:llm_cost_usd:share1h offset 1w) or ${tierShare1h} or tier:llm_cost_usd:share1h offset 1w)`;
const budgetUsed = `${BUDGET.spent} / (${BUDGET.limit} > 0)`;
const unpriced1h = `sum by (provider, model) (increase(${M.unpriced}[1h]))`;
const globalSpent = `${BUDGET.spent}{${globalMonth}}`;
/** LlmBudgetProjectedOverrun's projection, recorded by prometheus/rules/recording.yaml. */
const projectedMonthEnd = 'global:llm_budget_spent_usd:projected_month_end';

/** In the order of alerts.yaml, grouped into rows. */
const ROWS: { title: string; panels: AlertPanel[] }[] = [
  {
    title: 'Spend anomalies',
    panels: [
      {
        alert: 'LlmCostPerRequestAnomaly',
        signal: costPerRequest1h,
        title: 'Cost per request vs its weekly band',
        description:
          'Cost of one successful call over the last hour per feature, against the mean ± 3 standard deviations of the week that ended an hour earlier (and its weekly median, the robust reference). The alert fires above the upper band, with at least 100 calls in the hour and a stddev of at least 5% of the mean.',
        unit: 'currencyUSD',
        targets: [
          { expr: costPerRequest1h, legend: '{{feature}} cost per request (1h)' },
          {
            expr: `${cprWeek('avg_over_time')} + 3 * ${cprWeek('stddev_over_time')}`,
            legend: '{{feature}} mean + 3 sd (week)',
          },
          {
            expr: `${cprWeek('avg_over_time')} - 3 * ${cprWeek('stddev_over_time')}`,
            legend: '{{feature}} mean - 3 sd (week)',
          },
          {
            expr: `quantile_over_time(0.5, feature:llm_cost_per_request_usd:rate1h[1w] offset 1h)`,
            legend: '{{feature}} median (week)',
          },
        ],
      },
      {
        alert: 'LlmCostPerRequestAnomalyRobust',
        signal: 'feature:llm_cost_per_request_usd:median1h',
        title: 'Cost per request vs its robust weekly band',
        description:
          'Median of the 5-minute cost per successful call over the last hour per feature, against the weekly median and its upper edge: median + 3.5 × max(1.4826 × MAD, 5% of the median) of the hourly cost per call over the week that ended an hour earlier. The alert fires above the edge with at least 100 calls in the hour; isolated spikes barely move the medians.',
        unit: 'currencyUSD',
        targets: [
          {
            expr: 'feature:llm_cost_per_request_usd:median1h',
            legend: '{{feature}} median cost per request (1h)',
          },
          {
            expr: 'feature:llm_cost_per_request_usd:robust_upper1w',
            legend: '{{feature}} robust upper edge (week)',
          },
          {
            expr: 'feature:llm_cost_per_request_usd:median1w',
            legend: '{{feature}} median (week)',
          },
        ],
      },
      {
        alert: 'LlmVolumeSpike',
        signal: requestsPerHour,
        title: 'Requests per hour vs seasonal prediction',
        description:
          'Calls per hour per feature (all statuses) against 3 times the seasonal prediction, the average of the same hour one and two weeks earlier. The alert fires above it with at least 100 calls in the hour.',
        unit: 'short',
        axisLabel: 'requests per hour',
        targets: [
          { expr: requestsPerHour, legend: '{{feature}}' },
          {
            expr: `3 * (sum by (feature) (rate(${M.requests}[1h] offset 1w)) + sum by (feature) (rate(${M.requests}[1h] offset 2w))) / 2 * 3600`,
            legend: '{{feature}} 3x prediction',
          },
        ],
      },
      {
        alert: 'LlmTierMixShift',
        signal: tierMixDistance,
        title: 'Tier mix distance to last week',
        description:
          'Total-variation distance (0 to 1) between the spend shares by model tier of the last hour and of the same hour a week earlier. The alert fires above 0.3 (red line) when at least $1/h was spent in both hours.',
        unit: 'percentunit',
        threshold: 0.3,
        targets: [
          {
            expr: tierMixDistance,
            legend: 'distance',
          },
        ],
      },
      {
        alert: 'LlmSavingsNegative',
        signal: 'feature:llm_savings_usd:rate1h * 3600',
        title: 'Savings per hour',
        description:
          'Baseline cost minus actual cost per feature over the last hour, in USD per hour. The alert fires below 0 (red line) for features with at least 100 successful calls in the hour.',
        unit: 'currencyUSD',
        axisLabel: 'USD per hour',
        threshold: 0,
        targets: [{ expr: 'feature:llm_savings_usd:rate1h * 3600', legend: '{{feature}}' }],
      },
    ],
  },
  {
    title: 'Users',
    panels: [
      {
        alert: 'LlmUserFarAbovePeers',
        signal: userSpend1h,
        title: 'Top user spend vs peers',
        description:
          'Spend of the 5 heaviest users over the last hour in USD per hour, against 10 times the median user and the 99th percentile. The alert fires for a user above both and above $1/h (red line), with at least 10 spending users.',
        unit: 'currencyUSD',
        axisLabel: 'USD per hour',
        threshold: 1,
        targets: [
          { expr: `topk(5, ${userSpend1h}) * 3600`, legend: '{{user}}' },
          {
            expr: `10 * quantile(0.5, ${userSpend1h}) * 3600`,
            legend: '10x median user',
          },
          { expr: `quantile(0.99, ${userSpend1h}) * 3600`, legend: 'p99 user' },
        ],
      },
      {
        alert: 'LlmRunawayUser',
        signal: '10 * quantile(0.5, user:llm_user_requests:rate5m)',
        title: 'Top user request rate vs peers',
        description:
          'Calls per second of the 5 busiest users (5-minute rate, the highest in each point’s interval so that a short loop shows at any zoom), against 10 times the median user. The alert fires for a user above it and above 1 request/s (red line), with at least 5 active users.',
        unit: 'reqps',
        threshold: 1,
        targets: [
          {
            expr: 'topk(5, max_over_time(user:llm_user_requests:rate5m[$__interval]))',
            legend: '{{user}}',
          },
          {
            expr: '10 * quantile(0.5, user:llm_user_requests:rate5m)',
            legend: '10x median user',
          },
        ],
      },
    ],
  },
  {
    title: 'Budgets',
    panels: [
      {
        alert: 'LlmBudgetWarning',
        signal: budgetUsed,
        title: 'Budget use vs warning level',
        description:
          'Spend of every reported cap as a share of its limit (budget sidecar), next to the share at which that cap warns (its warn_at). The warning fires from its warn_at until the cap is reached (red line, 100%).',
        unit: 'percentunit',
        threshold: 1,
        targets: [
          {
            expr: budgetUsed,
            legend: '{{scope}} {{subject}} ({{window}}) used',
          },
          {
            expr: `${BUDGET.warn} / (${BUDGET.limit} > 0)`,
            legend: '{{scope}} {{subject}} ({{window}}) warn_at',
          },
        ],
      },
      {
        alert: 'LlmBudgetExceeded',
        signal: BUDGET.spent,
        title: 'Budget spend vs limit',
        description:
          'Spend in the current window and the limit of every reported cap, in USD (budget sidecar). The alert fires when the spend reaches the limit.',
        unit: 'currencyUSD',
        targets: [
          { expr: BUDGET.spent, legend: '{{scope}} {{subject}} ({{window}}) spent' },
          { expr: BUDGET.limit, legend: '{{scope}} {{subject}} ({{window}}) limit' },
        ],
      },
      {
        alert: 'LlmBudgetProjectedOverrun',
        signal: projectedMonthEnd,
        title: 'Projected month-end spend vs global cap',
        description:
          'Global spend this month plus its rate (the last day’s slope, or the month-to-date average while the last day holds the month’s start or the sidecar has less than 6 hours of history) times the time left in the UTC month, against the global monthly cap, in USD. The alert fires when the projection is above the cap before the cap is reached.',
        unit: 'currencyUSD',
        targets: [
          {
            expr: projectedMonthEnd,
            legend: 'projected month end',
          },
          { expr: globalSpent, legend: 'spent' },
          { expr: `${BUDGET.limit}{${globalMonth}}`, legend: 'cap' },
        ],
      },
      {
        alert: 'LlmBudgetSidecarStale',
        signal: BUDGET.dataAge,
        title: 'Budget spend data age',
        description:
          'Age of the spend data the budget sidecar decides on, in seconds. The alert fires above 300 s (red line): caps are then enforced on old data.',
        unit: 's',
        threshold: 300,
        targets: [{ expr: BUDGET.dataAge, legend: 'data age' }],
      },
    ],
  },
  {
    title: 'Cache and telemetry',
    panels: [
      {
        alert: 'LlmCacheHitRateDrop',
        signal: '0.5 * feature:llm_cache_hit_ratio:rate1d',
        title: 'Cache hit rate: hour vs half the day',
        description:
          'Response-cache hit ratio per feature over the last hour, against half of the ratio over the last day. The alert fires below it with at least 100 lookups in the hour.',
        unit: 'percentunit',
        targets: [
          { expr: 'feature:llm_cache_hit_ratio:rate1h', legend: '{{feature}} (1h)' },
          {
            expr: '0.5 * feature:llm_cache_hit_ratio:rate1d',
            legend: '{{feature}} half of 1d',
          },
        ],
      },
      {
        alert: 'LlmUnpricedModelSeen',
        signal: unpriced1h,
        title: 'Unpriced requests per hour',
        description:
          'Calls per hour to models without a price in the catalog (their cost is unknown, not zero), per provider and model; 0 when there are none. The alert fires above 0 (red line).',
        unit: 'short',
        threshold: 0,
        targets: [
          {
            expr: `${unpriced1h} or on () vector(0)`,
            legend: '{{provider}} {{model}}',
          },
        ],
      },
      {
        alert: 'LlmTelemetryAbsent',
        signal: `absent_over_time(${M.requests}[15m])`,
        title: 'Telemetry received',
        description:
          'LLM calls per second received from the apps (scraped or through the Collector), and 1 when no llm_requests_total sample arrived for 15 minutes (0 otherwise): the alert fires after 5 minutes at 1.',
        unit: 'reqps',
        unitByQuery: { B: 'short' },
        targets: [
          { expr: `sum (rate(${M.requests}[$__rate_interval]))`, legend: 'requests/s' },
          {
            // 0 while samples arrive: absent_over_time alone returns nothing then.
            expr: `absent_over_time(${M.requests}[15m]) or on () vector(0)`,
            legend: 'no telemetry for 15m',
          },
        ],
      },
    ],
  },
];

/** Each alert with a panel here and the signal its panel shows (see AlertPanel.signal). */
export const ALERT_SIGNALS: Readonly<Record<string, string>> = Object.fromEntries(
  ROWS.flatMap((r) => r.panels.map((p) => [p.alert, p.signal])),
);

function alertPanel(a: AlertPanel) {
  if (!a.targets.some((t) => t.expr.includes(a.signal)))
    throw new Error(`${a.alert}: no target shows its signal ${a.signal}`);
  const spec: TimeseriesSpec = {
    title: a.title,
    description: `${a.description} Alert: ${a.alert}.`,
    unit: a.unit,
    w: 12,
    h: 8,
    targets: a.targets,
    links: [{ title: `Runbook: ${a.alert}`, url: runbookUrl(a.alert) }],
  };
  if (a.threshold !== undefined) {
    spec.steps = RED_ABOVE(a.threshold);
    spec.thresholdLines = true;
  }
  if (a.axisLabel) spec.axisLabel = a.axisLabel;
  if (a.unitByQuery) spec.unitByQuery = a.unitByQuery;
  return timeseriesPanel(spec);
}

export function anomaliesDashboard(): dashboard.Dashboard {
  const d = baseDashboard(
    ANOMALIES_UID,
    ANOMALIES_TITLE,
    'Each alert of prometheus/rules/alerts.yaml: the signal it evaluates against its band or threshold, with a link to its runbook; and the alerts that fired.',
  )
    .withRow(row('Alerts'))
    .withPanel(
      tablePanel({
        title: 'Firing alerts',
        description:
          'LLM alerts that were firing at some point of the dashboard time range, with their labels (1 = fired).',
        unit: 'short',
        w: 24,
        h: 8,
        labels: ['alertname', 'severity', 'feature', 'user', 'scope', 'subject', 'window'],
        columns: { 'Value #A': 'Fired' },
        targets: [
          {
            expr: 'max_over_time(ALERTS{alertname=~"Llm.*", alertstate="firing"}[$__range])',
            instant: true,
            table: true,
          },
        ],
      }),
    );
  for (const r of ROWS) {
    d.withRow(row(r.title));
    for (const p of r.panels) d.withPanel(alertPanel(p));
  }
  return finish(d.build());
}
