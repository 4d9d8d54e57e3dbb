/**
 * "LLM FinOps overview": return on investment first (what finance asks), then where the money
 * goes, users and budgets, and caching. Every app metric is filtered by the `feature` variable
 * (Alertmanager links here with `?var-feature=<feature>`).
 */
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import {
  BUDGET,
  CAP_STEPS,
  DS,
  M,
  barGaugePanel,
  baseDashboard,
  labelVariable,
  finish,
  row,
  statPanel,
  tablePanel,
  timeseriesPanel,
} from './panels';

export const OVERVIEW_UID = 'llm-finops-overview';
export const OVERVIEW_TITLE = 'LLM FinOps overview';

const F = 'feature=~"$feature"';
const R = '$__range';
const RI = '$__rate_interval';

/** Sum over the dashboard range, e.g. inc(M.cost) = all spend of the selected features. */
const inc = (metric: string, by = '', extra = '') =>
  `sum${by ? ` by (${by})` : ''} (increase(${metric}{${F}${extra}}[${R}]))`;
/** USD (or events) per hour, e.g. perHour(M.cost, 'feature'). */
const perHour = (metric: string, by = '') =>
  `sum${by ? ` by (${by})` : ''} (rate(${metric}{${F}}[${RI}])) * 3600`;

/** How many users the top-spender panels show. */
export const TOP_USERS = 10;
/**
 * The TOP_USERS users who spent most over the dashboard range. `@ end()` ranks them once, at the
 * range's end: in a range query every step keeps the same users (a bare topk re-ranks per step and
 * the legend collects everyone ever in the top); in an instant query end() is the query time.
 */
const topUsers = `topk(${TOP_USERS}, sum by (user) (increase(${M.userCost}{${F}}[${R}] @ end())))`;

export function overviewDashboard(): dashboard.Dashboard {
  const d = baseDashboard(
    OVERVIEW_UID,
    OVERVIEW_TITLE,
    'What LLM features cost, what routing and caching saved against the baseline model, who spends, and how close budgets are to their caps.',
  )
    .withVariable(labelVariable('feature', 'Feature', M.cost, { all: true }))
    .annotation(
      new dashboard.AnnotationQueryBuilder()
        .name('LLM alerts')
        .datasource(DS)
        .enable(true)
        .iconColor('red')
        .expr('ALERTS{alertname=~"Llm.*", alertstate="firing"}')
        .step('5m')
        .titleFormat('{{alertname}}')
        .textFormat('{{feature}}{{user}}{{subject}}')
        .useValueForTime(false),
    )

    .withRow(row('Return on investment'))
    .withPanel(
      statPanel({
        title: 'ROI',
        description:
          'N requests, $X at baseline rates, $Y actual, Z% saved: successful requests, what their tokens would have cost at the baseline model rates, what they did cost, and the share saved (1 - actual / baseline), over the dashboard time range.',
        unit: 'currencyUSD',
        unitByQuery: { A: 'short', D: 'percentunit' },
        names: true,
        w: 16,
        h: 5,
        targets: [
          { expr: inc(M.requests, '', ', status="ok"'), legend: 'requests', instant: true },
          { expr: inc(M.baseline), legend: 'at baseline rates', instant: true },
          { expr: inc(M.cost), legend: 'actual', instant: true },
          { expr: `1 - ${inc(M.cost)} / ${inc(M.baseline)}`, legend: 'saved', instant: true },
        ],
      }),
    )
    .withPanel(
      statPanel({
        title: 'Savings in period',
        description:
          'Baseline cost minus actual cost over the dashboard time range, in USD. Negative when routing cost more than sending everything to the baseline model.',
        unit: 'currencyUSD',
        steps: [
          [null, 'red'],
          [0, 'green'],
        ],
        w: 8,
        h: 5,
        targets: [{ expr: `${inc(M.baseline)} - ${inc(M.cost)}`, legend: 'saved', instant: true }],
      }),
    )

    .withRow(row('Spend'))
    .withPanel(
      barGaugePanel({
        title: 'Spend by feature',
        description: 'Actual spend per feature over the dashboard time range, in USD.',
        unit: 'currencyUSD',
        w: 8,
        h: 8,
        targets: [{ expr: inc(M.cost, 'feature'), legend: '{{feature}}', instant: true }],
      }),
    )
    .withPanel(
      barGaugePanel({
        title: 'Spend by model',
        description:
          'Actual spend per provider and model over the dashboard time range, in USD (all selected features).',
        unit: 'currencyUSD',
        w: 8,
        h: 8,
        targets: [
          {
            expr: inc(M.cost, 'provider, model'),
            legend: '{{provider}} {{model}}',
            instant: true,
          },
        ],
      }),
    )
    .withPanel(
      barGaugePanel({
        title: 'Cost per successful outcome',
        description:
          'Spend divided by the business outcomes reported as success (recordOutcome) per feature over the dashboard time range, in USD per success. Features that report no outcome are not shown.',
        unit: 'currencyUSD',
        decimals: 4,
        w: 8,
        h: 8,
        targets: [
          {
            expr: `${inc(M.cost, 'feature')} / ${inc(M.outcomes, 'feature', ', outcome="success"')}`,
            legend: '{{feature}}',
            instant: true,
          },
        ],
      }),
    )
    .withPanel(
      timeseriesPanel({
        title: 'Spend rate by model',
        description: 'Actual spend per provider and model, in USD per hour.',
        unit: 'currencyUSD',
        axisLabel: 'USD per hour',
        stack: 'normal',
        min: 0,
        w: 12,
        h: 8,
        targets: [{ expr: perHour(M.cost, 'provider, model'), legend: '{{provider}} {{model}}' }],
      }),
    )
    .withPanel(
      timeseriesPanel({
        title: 'Spend rate by feature',
        description: 'Actual spend per feature, in USD per hour.',
        unit: 'currencyUSD',
        axisLabel: 'USD per hour',
        stack: 'normal',
        min: 0,
        w: 12,
        h: 8,
        targets: [{ expr: perHour(M.cost, 'feature'), legend: '{{feature}}' }],
      }),
    )
    .withPanel(
      timeseriesPanel({
        title: 'Daily cost',
        description:
          'Actual spend per UTC day, in USD, over 30 days. Each bar is the 24 hours before its timestamp (the bar at midnight is the day that just ended). Red marks are LLM alerts that fired (the "LLM alerts" annotation).',
        unit: 'currencyUSD',
        bars: true,
        min: 0,
        w: 24,
        h: 8,
        targets: [{ expr: `sum (increase(${M.cost}{${F}}[1d]))`, legend: 'cost', interval: '1d' }],
      }).interval('1d'),
    )
    .withPanel(
      timeseriesPanel({
        title: 'Savings rate',
        description:
          'Baseline cost minus actual cost per feature, in USD per hour. Below zero, routing costs more than the baseline model would (alert LlmSavingsNegative).',
        unit: 'currencyUSD',
        axisLabel: 'USD per hour',
        steps: [
          [null, 'red'],
          [0, 'green'],
        ],
        thresholdLines: true,
        w: 12,
        h: 8,
        targets: [
          {
            expr: `${perHour(M.baseline, 'feature')} - ${perHour(M.cost, 'feature')}`,
            legend: '{{feature}}',
          },
        ],
      }),
    )
    .withPanel(
      timeseriesPanel({
        title: 'Tier mix',
        description:
          'Share of spend per model tier (routing efficiency): how much of the money goes to each tier. A shift at flat total spend is what LlmTierMixShift catches.',
        unit: 'percentunit',
        stack: 'normal',
        min: 0,
        max: 1,
        w: 12,
        h: 8,
        targets: [
          {
            expr: `${perHour(M.cost, 'tier')} / on () group_left () (${perHour(M.cost)})`,
            legend: '{{tier}}',
          },
        ],
      }),
    )

    .withRow(row('Users and budgets'))
    .withPanel(
      barGaugePanel({
        title: 'Top users by spend',
        description: `The ${TOP_USERS} users who spent most over the dashboard time range (selected features), in USD.`,
        unit: 'currencyUSD',
        w: 8,
        h: 10,
        targets: [{ expr: topUsers, legend: '{{user}}', instant: true }],
      }),
    )
    .withPanel(
      timeseriesPanel({
        title: `Spend rate by user (top ${TOP_USERS})`,
        description: `Actual spend per user, in USD per hour, of the ${TOP_USERS} users who spent most over the dashboard time range (selected features; those of Top users by spend). They are ranked once, at the end of the range (topk … @ end()), so each keeps its line over the whole range; a plain topk would re-rank at every step and draw everyone who was ever in the top ${TOP_USERS}. Stacked: the top line is their combined rate, not all spend.`,
        unit: 'currencyUSD',
        axisLabel: 'USD per hour',
        stack: 'normal',
        min: 0,
        w: 16,
        h: 10,
        targets: [
          {
            expr: `(${perHour(M.userCost, 'user')}) and on (user) ${topUsers}`,
            legend: '{{user}}',
          },
        ],
      }),
    )
    .withPanel(
      statPanel({
        title: 'Users over budget',
        description:
          'Users whose spend is at or over their cap now, per budget window (from the budget sidecar): their requests are denied until the window resets.',
        unit: 'short',
        steps: [
          [null, 'green'],
          [1, 'red'],
        ],
        names: true,
        w: 4,
        h: 10,
        targets: [
          {
            expr: `sum by (window) (${BUDGET.subjects}{scope="user", state="exceeded"})`,
            legend: '{{window}}',
            instant: true,
          },
        ],
      }),
    )
    .withPanel(
      tablePanel({
        title: 'Budget caps',
        description:
          'Every cap the budget sidecar reports (global and features always, users at warning or over): spend in the current window against the limit. Warns at is the cap’s warn_at; orange from 80% (the default warn_at), red at 100%.',
        unit: 'currencyUSD',
        steps: CAP_STEPS,
        w: 20,
        h: 10,
        labels: ['scope', 'subject', 'window'],
        columns: {
          'Value #A': 'Used',
          'Value #B': 'Spent',
          'Value #C': 'Limit',
          'Value #D': 'Warns at',
        },
        unitByColumn: { Used: 'percentunit', 'Warns at': 'percentunit' },
        colored: ['Used'],
        sortBy: 'Used',
        targets: [
          {
            expr: `${BUDGET.spent} / (${BUDGET.limit} > 0)`,
            instant: true,
            table: true,
          },
          { expr: BUDGET.spent, instant: true, table: true },
          { expr: BUDGET.limit, instant: true, table: true },
          { expr: `${BUDGET.warn} / (${BUDGET.limit} > 0)`, instant: true, table: true },
        ],
      }),
    )

    .withRow(row('Cache'))
    .withPanel(
      timeseriesPanel({
        title: 'Cache hit rate',
        description:
          'Response-cache hits over all lookups (recordCacheLookup) per feature. LlmCacheHitRateDrop fires when the hour falls under half of the day.',
        unit: 'percentunit',
        min: 0,
        max: 1,
        w: 12,
        h: 8,
        targets: [
          {
            expr: `sum by (feature) (rate(${M.cacheLookups}{${F}, result="hit"}[${RI}])) / (sum by (feature) (rate(${M.cacheLookups}{${F}, result=~"hit|miss"}[${RI}])) > 0)`,
            legend: '{{feature}}',
          },
        ],
      }),
    )
    .withPanel(
      barGaugePanel({
        title: 'Cache savings',
        description:
          'USD saved by caching over the dashboard time range: prompt (provider prompt cache, against the uncached input rate) and response (an app-level cache hit avoided the call).',
        unit: 'currencyUSD',
        w: 12,
        h: 8,
        targets: [{ expr: inc(M.cacheSavings, 'cache'), legend: '{{cache}}', instant: true }],
      }),
    );
  return finish(d.build());
}
