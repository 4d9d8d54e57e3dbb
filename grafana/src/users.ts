/**
 * "LLM users and budgets": who spends most, which users are near or over their cap (from the
 * budget sidecar), what the sidecar decides, and a drill-down into one user (`user` variable).
 */
import type * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import {
  BUDGET,
  CAP_STEPS,
  M,
  baseDashboard,
  labelVariable,
  finish,
  row,
  statPanel,
  tablePanel,
  timeseriesPanel,
} from './panels';

export const USERS_UID = 'llm-finops-users';
export const USERS_TITLE = 'LLM users and budgets';

const U = 'user="$user"';
const topSpend = `topk(20, sum by (user) (increase(${M.userCost}[$__range])))`;

export function usersDashboard(): dashboard.Dashboard {
  const d = baseDashboard(
    USERS_UID,
    USERS_TITLE,
    'Top spenders, users near or over their budget cap, budget decisions of the sidecar, and one user in detail.',
  )
    .withVariable(labelVariable('user', 'User', M.userCost))

    .withRow(row('Spenders and caps'))
    .withPanel(
      tablePanel({
        title: 'Top spenders',
        description:
          'The 20 users who spent most over the dashboard time range: spend in USD and their LLM calls (all statuses).',
        unit: 'currencyUSD',
        w: 12,
        h: 12,
        labels: ['user'],
        columns: { 'Value #A': 'Spend', 'Value #B': 'Requests' },
        unitByColumn: { Requests: 'short' },
        sortBy: 'Spend',
        targets: [
          { expr: topSpend, instant: true, table: true },
          {
            expr: `sum by (user) (increase(${M.userRequests}[$__range])) and on (user) ${topSpend}`,
            instant: true,
            table: true,
          },
        ],
      }),
    )
    .withPanel(
      tablePanel({
        title: 'Users near or over cap',
        description:
          'Users at warning (from their cap’s warn_at, 80% by default) or over it now, per budget window, from the budget sidecar (it reports users only from warning on). Over 100%, their requests are denied until the window resets.',
        unit: 'currencyUSD',
        steps: CAP_STEPS,
        w: 12,
        h: 12,
        labels: ['subject', 'window'],
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
            expr: `${BUDGET.spent}{scope="user"} / (${BUDGET.limit}{scope="user"} > 0)`,
            instant: true,
            table: true,
          },
          { expr: `${BUDGET.spent}{scope="user"}`, instant: true, table: true },
          { expr: `${BUDGET.limit}{scope="user"}`, instant: true, table: true },
          {
            expr: `${BUDGET.warn}{scope="user"} / (${BUDGET.limit}{scope="user"} > 0)`,
            instant: true,
            table: true,
          },
        ],
      }),
    )
    .withPanel(
      timeseriesPanel({
        title: 'Users by budget state',
        description:
          'Users with spend in the current window by state (ok, warning, exceeded) and window, from the budget sidecar.',
        unit: 'short',
        stack: 'normal',
        min: 0,
        w: 12,
        h: 8,
        targets: [
          {
            expr: `sum by (window, state) (${BUDGET.subjects}{scope="user"})`,
            legend: '{{window}} {{state}}',
          },
        ],
      }),
    )
    .withPanel(
      timeseriesPanel({
        title: 'Budget decisions',
        description:
          'Decisions of the budget sidecar per second by result (allow, deny) and the scope that decided.',
        unit: 'reqps',
        stack: 'normal',
        min: 0,
        w: 12,
        h: 8,
        targets: [
          {
            expr: `sum by (decision, scope) (rate(${BUDGET.decisions}[$__rate_interval]))`,
            legend: '{{decision}} ({{scope}})',
          },
        ],
      }),
    )

    .withRow(row('User $user'))
    .withPanel(
      statPanel({
        title: 'Spend of $user',
        description: 'What the selected user spent over the dashboard time range, in USD.',
        unit: 'currencyUSD',
        w: 6,
        h: 8,
        targets: [
          {
            expr: `sum (increase(${M.userCost}{${U}}[$__range]))`,
            legend: '$user',
            instant: true,
          },
        ],
      }),
    )
    .withPanel(
      timeseriesPanel({
        title: 'Spend of $user by feature',
        description: 'Spend of the selected user per feature, in USD per hour.',
        unit: 'currencyUSD',
        axisLabel: 'USD per hour',
        stack: 'normal',
        min: 0,
        w: 9,
        h: 8,
        targets: [
          {
            expr: `sum by (feature) (rate(${M.userCost}{${U}}[$__rate_interval])) * 3600`,
            legend: '{{feature}}',
          },
        ],
      }),
    )
    .withPanel(
      timeseriesPanel({
        title: 'Requests of $user',
        description: 'LLM calls of the selected user per second, per feature (all statuses).',
        unit: 'reqps',
        stack: 'normal',
        min: 0,
        w: 9,
        h: 8,
        targets: [
          {
            expr: `sum by (feature) (rate(${M.userRequests}{${U}}[$__rate_interval]))`,
            legend: '{{feature}}',
          },
        ],
      }),
    );
  return finish(d.build());
}
