/**
 * Shared building blocks of the llm-finops dashboards: metric names (from the metric contract),
 * the datasource and its variable, PromQL targets, and panel factories that make a description,
 * a unit and the `${datasource}` datasource mandatory on every panel.
 */
import * as bargauge from '@grafana/grafana-foundation-sdk/bargauge';
import * as common from '@grafana/grafana-foundation-sdk/common';
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import * as prometheus from '@grafana/grafana-foundation-sdk/prometheus';
import * as stat from '@grafana/grafana-foundation-sdk/stat';
import * as table from '@grafana/grafana-foundation-sdk/table';
import * as timeseries from '@grafana/grafana-foundation-sdk/timeseries';
import { BUDGET_METRICS, METRICS } from '../../src/contract/metrics';

/** Uid of the provisioned Prometheus datasource (grafana/provisioning/datasources/prometheus.yaml). */
export const DATASOURCE_UID = 'llm-finops-prometheus';

/** Every panel and target queries the datasource chosen in the `datasource` variable. */
export const DS: common.DataSourceRef = { type: 'prometheus', uid: '${datasource}' };

/** Prometheus names of the app's metrics (src/contract/metrics.ts, the only source of them). */
export const M = {
  requests: METRICS.requests.promName,
  cost: METRICS.cost.promName,
  baseline: METRICS.baselineCost.promName,
  cacheSavings: METRICS.cacheSavings.promName,
  cacheLookups: METRICS.cacheLookups.promName,
  outcomes: METRICS.outcomes.promName,
  unpriced: METRICS.unpricedRequests.promName,
  userCost: METRICS.userCost.promName,
  userRequests: METRICS.userRequests.promName,
} as const;

/** The budget sidecar's gauges and counter (src/contract/metrics.ts BUDGET_METRICS). */
export const BUDGET = BUDGET_METRICS;

/** Base of the runbook links of prometheus/rules/alerts.yaml (anchor = lower-case alert name). */
export const RUNBOOK = 'https://github.com/llm-finops/llm-finops/blob/main/prometheus/runbook.md';
export const runbookUrl = (alert: string) => `${RUNBOOK}#${alert.toLowerCase()}`;

/** Tag shared by the three dashboards (the dashboard links list them by this tag). */
export const TAG = 'llm-finops';

/** The `datasource` variable: any Prometheus, the provisioned one by default. */
export function datasourceVariable(): dashboard.DatasourceVariableBuilder {
  return new dashboard.DatasourceVariableBuilder('datasource')
    .label('Data source')
    .type('prometheus')
    .current({ selected: true, text: 'Prometheus', value: DATASOURCE_UID });
}

/** A label_values() query variable of the datasource. */
export function labelVariable(
  name: string,
  label: string,
  metric: string,
  options: { all?: boolean } = {},
): dashboard.QueryVariableBuilder {
  const query = `label_values(${metric}, ${name})`;
  const v = new dashboard.QueryVariableBuilder(name)
    .label(label)
    .datasource(DS)
    .query(query)
    .definition(query)
    .refresh(dashboard.VariableRefresh.OnTimeRangeChanged)
    .sort(dashboard.VariableSort.AlphabeticalAsc);
  if (options.all)
    v.multi(true)
      .includeAll(true)
      .allValue('.*')
      .current({ selected: true, text: ['All'], value: ['$__all'] });
  return v;
}

/** One PromQL target of a panel. */
export interface Query {
  expr: string;
  /** Legend format; `__auto` lets Grafana name the series from its labels. */
  legend?: string;
  /** Instant query (stat, bar gauge and table panels over the whole dashboard range). */
  instant?: boolean;
  /** Table format (one column per label, `Value #<refId>` for the value). */
  table?: boolean;
  /** Minimum step of this target (e.g. `1d` for daily bars). */
  interval?: string;
}

const refId = (i: number) => String.fromCharCode(65 + i);

function target(q: Query, i: number): prometheus.DataqueryBuilder {
  const t = new prometheus.DataqueryBuilder()
    .datasource(DS)
    .refId(refId(i))
    .expr(q.expr)
    .legendFormat(q.legend ?? '__auto')
    .editorMode(prometheus.QueryEditorMode.Code);
  if (q.instant) t.instant();
  else t.range();
  if (q.table) t.format(prometheus.PromQueryFormat.Table);
  if (q.interval) t.interval(q.interval);
  return t;
}

/** A threshold step: from `value` (null = from minus infinity) the colour `color`. */
export type Step = [number | null, string];

export function thresholds(steps: Step[]): dashboard.ThresholdsConfigBuilder {
  return new dashboard.ThresholdsConfigBuilder()
    .mode(dashboard.ThresholdsMode.Absolute)
    .steps(steps.map(([value, color]) => ({ value, color })));
}

/** Green whatever the value: for figures that have no good or bad level. */
export const NEUTRAL: Step[] = [[null, 'green']];
/** Ratios of a cap: green, orange from 80% (the default warn_at), red from 100%. */
export const CAP_STEPS: Step[] = [
  [null, 'green'],
  [0.8, 'orange'],
  [1, 'red'],
];

/** What every panel must have. */
export interface PanelSpec {
  title: string;
  description: string;
  /** Grafana unit id: currencyUSD, percentunit, short, reqps, s, ... */
  unit: string;
  targets: Query[];
  /** Width (of 24 columns) and height (rows of 30 px). */
  w: number;
  h: number;
  steps?: Step[];
  decimals?: number;
  min?: number;
  max?: number;
  /** Links shown in the panel header (e.g. the alert's runbook). */
  links?: { title: string; url: string }[];
  /** Per-query unit overrides, by refId (A, B, ...). */
  unitByQuery?: Record<string, string>;
}

type AnyPanelBuilder =
  stat.PanelBuilder | timeseries.PanelBuilder | bargauge.PanelBuilder | table.PanelBuilder;

function common_<T extends AnyPanelBuilder>(p: T, s: PanelSpec): T {
  p.title(s.title)
    .description(s.description)
    .datasource(DS)
    .unit(s.unit)
    .span(s.w)
    .height(s.h)
    .targets(s.targets.map(target))
    .thresholds(thresholds(s.steps ?? NEUTRAL));
  if (s.decimals !== undefined) p.decimals(s.decimals);
  if (s.min !== undefined) p.min(s.min);
  if (s.max !== undefined) p.max(s.max);
  if (s.links)
    p.links(
      s.links.map((l) => new dashboard.DashboardLinkBuilder(l.title).url(l.url).targetBlank(true)),
    );
  for (const [ref, unit] of Object.entries(s.unitByQuery ?? {}))
    p.overrideByQuery(ref, [{ id: 'unit', value: unit }]);
  return p;
}

const lastValue = () => new common.ReduceDataOptionsBuilder().calcs(['lastNotNull']).values(false);

/** A stat panel: one big number per series, the last value of instant queries. */
export function statPanel(s: PanelSpec & { names?: boolean }): stat.PanelBuilder {
  return common_(new stat.PanelBuilder(), s)
    .reduceOptions(lastValue())
    .graphMode(common.BigValueGraphMode.None)
    .colorMode(common.BigValueColorMode.Value)
    .textMode(s.names ? common.BigValueTextMode.ValueAndName : common.BigValueTextMode.Auto);
}

/** A bar gauge: one horizontal bar per series (e.g. spend by feature over the range). */
export function barGaugePanel(s: PanelSpec): bargauge.PanelBuilder {
  return common_(new bargauge.PanelBuilder(), s)
    .reduceOptions(lastValue())
    .orientation(common.VizOrientation.Horizontal)
    .displayMode(common.BarGaugeDisplayMode.Basic)
    .showUnfilled(true);
}

export interface TimeseriesSpec extends PanelSpec {
  stack?: 'normal' | 'percent';
  bars?: boolean;
  /** Draw the threshold steps as dashed lines (an alert's threshold). */
  thresholdLines?: boolean;
  axisLabel?: string;
}

/** A time series panel with a legend table (mean, last) under it. */
export function timeseriesPanel(s: TimeseriesSpec): timeseries.PanelBuilder {
  const p = common_(new timeseries.PanelBuilder(), s)
    .legend(
      new common.VizLegendOptionsBuilder()
        .displayMode(common.LegendDisplayMode.Table)
        .placement(common.LegendPlacement.Bottom)
        .showLegend(true)
        .calcs(['mean', 'lastNotNull']),
    )
    .tooltip(
      new common.VizTooltipOptionsBuilder()
        .mode(common.TooltipDisplayMode.Multi)
        .sort(common.SortOrder.Descending),
    )
    .fillOpacity(s.stack || s.bars ? 60 : 10)
    .lineWidth(1);
  if (s.stack)
    p.stacking(
      new common.StackingConfigBuilder().mode(
        s.stack === 'percent' ? common.StackingMode.Percent : common.StackingMode.Normal,
      ),
    );
  if (s.bars) p.drawStyle(common.GraphDrawStyle.Bars);
  if (s.thresholdLines)
    p.thresholdsStyle(
      new common.GraphThresholdsStyleConfigBuilder().mode(common.GraphThresholdsStyleMode.Dashed),
    );
  if (s.axisLabel) p.axisLabel(s.axisLabel);
  return p;
}

export interface TableSpec extends PanelSpec {
  /** Column renames (`Value #A` -> `Spend`), in display order; other value columns are hidden. */
  columns: Record<string, string>;
  /** Label columns to show first, in order. */
  labels: string[];
  /** Sort by this (renamed) column, descending. */
  sortBy?: string;
  /** Per-column units, by renamed column. */
  unitByColumn?: Record<string, string>;
  /** Columns coloured by the thresholds (cell background), by renamed column. */
  colored?: string[];
}

/** A table of instant queries in table format, merged into one row per label set. */
export function tablePanel(s: TableSpec): table.PanelBuilder {
  const order: Record<string, number> = {};
  [...s.labels, ...Object.keys(s.columns)].forEach((c, i) => (order[c] = i));
  const keep: Record<string, boolean> = { Time: false };
  const p = common_(new table.PanelBuilder(), s)
    .withTransformation({ id: 'merge', options: {} })
    .withTransformation({
      id: 'organize',
      options: {
        excludeByName: keep,
        includeByName: Object.fromEntries(
          [...s.labels, ...Object.keys(s.columns)].map((c) => [c, true]),
        ),
        indexByName: order,
        renameByName: s.columns,
      },
    })
    .cellHeight(common.TableCellHeight.Sm)
    .filterable(false);
  if (s.sortBy)
    p.sortBy([new common.TableSortByFieldStateBuilder().displayName(s.sortBy).desc(true)]);
  for (const [col, unit] of Object.entries(s.unitByColumn ?? {}))
    p.overrideByName(col, [{ id: 'unit', value: unit }]);
  for (const col of s.colored ?? [])
    p.overrideByName(col, [
      {
        id: 'custom.cellOptions',
        value: { type: common.TableCellDisplayMode.ColorBackground },
      },
    ]);
  return p;
}

/** A full-width row heading. */
export const row = (title: string) => new dashboard.RowBuilder(title);

/** Dashboard defaults shared by the three dashboards. */
export function baseDashboard(
  uid: string,
  title: string,
  description: string,
): dashboard.DashboardBuilder {
  return new dashboard.DashboardBuilder(title)
    .uid(uid)
    .description(description)
    .tags([TAG])
    .readonly()
    .timezone('utc')
    .time({ from: 'now-30d', to: 'now' })
    .refresh('5m')
    .tooltip(dashboard.DashboardCursorSync.Crosshair)
    .link(
      new dashboard.DashboardLinkBuilder('LLM FinOps')
        .type(dashboard.DashboardLinkType.Dashboards)
        .tags([TAG])
        .asDropdown(true)
        .includeVars(false)
        .keepTime(true),
    )
    .withVariable(datasourceVariable());
}

/**
 * Last touches of a built dashboard: numbers every panel (rows' nested panels included; Grafana
 * needs unique ids), and drops the SDK's default `placement: inControlsMenu` of links and
 * annotations (it would hide them in Grafana 12's controls menu); panel links keep only what a
 * panel link has (title, url, targetBlank).
 */
export function finish(d: dashboard.Dashboard): dashboard.Dashboard {
  let id = 0;
  const panelLinks = (p: { links?: dashboard.DashboardLink[] }) => {
    if (p.links)
      p.links = p.links.map(
        (l) =>
          ({ title: l.title, url: l.url, targetBlank: l.targetBlank }) as dashboard.DashboardLink,
      );
  };
  for (const p of d.panels ?? []) {
    p.id = ++id;
    if ('panels' in p)
      for (const child of p.panels) {
        child.id = ++id;
        panelLinks(child);
      }
    else panelLinks(p);
  }
  for (const l of d.links ?? []) delete l.placement;
  for (const a of d.annotations?.list ?? []) delete a.placement;
  return d;
}
