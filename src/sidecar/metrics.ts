import {
  Counter,
  Gauge,
  Histogram,
  Registry,
  collectDefaultMetrics,
  type Metric,
  type MetricObjectWithValues,
  type MetricValueWithName,
} from 'prom-client';
import type { BudgetScope } from '../contract/budget';
import { BUDGET_METRICS } from '../contract/metrics';
import type { CapState } from '../contract/budget';
import type { QueryTiming } from './spend/spend-thread';

/** The endpoints whose answer time `llm_budget_decision_duration_seconds` records. */
export const ENDPOINTS = ['check', 'authz', 'nginx', 'reserve', 'settle'] as const;
export type Endpoint = (typeof ENDPOINTS)[number];
export type DecisionScope = BudgetScope | 'none';

/**
 * A histogram with one label whose values are all known up front, counted in typed arrays.
 * prom-client's Histogram.observe() allocates, validates and hashes its labels on every call;
 * this one runs on every decision, so it keeps an index, a bucket search and three additions.
 * The registry reads it like its own metrics (get(), reset()), with the same exposition.
 */
export class FixedLabelHistogram<V extends string> {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  readonly name: string;
  readonly help: string;
  private readonly labelName: string;
  private readonly bounds: readonly number[];
  /** Per label value: counts per bucket (not cumulative), then +Inf. */
  private readonly counts: Float64Array[];
  private readonly sums: Float64Array;

  constructor(
    config: { name: string; help: string; labelName: string; buckets: readonly number[] },
    private readonly labelValues: readonly V[],
    registry: Registry,
  ) {
    this.name = config.name;
    this.help = config.help;
    this.labelName = config.labelName;
    this.bounds = [...config.buckets].sort((a, b) => a - b);
    this.counts = labelValues.map(() => new Float64Array(this.bounds.length + 1));
    this.sums = new Float64Array(labelValues.length);
    registry.registerMetric(this as unknown as Metric);
  }

  /** One observation for the label value at `index` in the constructor's list. */
  observeAt(index: number, seconds: number): void {
    const counts = this.counts[index];
    if (!counts) return;
    const bounds = this.bounds;
    let b = 0;
    while (b < bounds.length && seconds > (bounds[b] as number)) b++;
    counts[b] = (counts[b] as number) + 1;
    this.sums[index] = (this.sums[index] as number) + seconds;
  }

  reset(): void {
    for (const c of this.counts) c.fill(0);
    this.sums.fill(0);
  }

  get(): Promise<MetricObjectWithValues<MetricValueWithName<string>>> {
    const values: MetricValueWithName<string>[] = [];
    this.labelValues.forEach((value, i) => {
      const counts = this.counts[i] as Float64Array;
      let total = 0;
      for (const n of counts) total += n;
      if (!total) return; // like prom-client: a label value appears once observed
      const labels = { [this.labelName]: value };
      let below = 0;
      counts.forEach((n, b) => {
        below += n;
        const le = this.bounds[b] ?? '+Inf';
        values.push({ labels: { ...labels, le }, value: below, metricName: `${this.name}_bucket` });
      });
      values.push({ labels, value: this.sums[i] as number, metricName: `${this.name}_sum` });
      values.push({ labels, value: total, metricName: `${this.name}_count` });
    });
    return Promise.resolve({
      name: this.name,
      help: this.help,
      type: this.type,
      values,
      aggregator: this.aggregator,
    } as unknown as MetricObjectWithValues<MetricValueWithName<string>>);
  }
}

/** One budget's standing, as the sidecar's gauges show it. */
export interface BudgetGaugeRow {
  scope: BudgetScope;
  subject: string;
  window: string;
  limit: number;
  /** Spend at which the cap turns to warning: limit x warn_at. */
  warn: number;
  spent: number;
  state: CapState;
}

/** How many subjects of a scope are in a state, for one window. */
export interface SubjectCount {
  scope: BudgetScope;
  window: string;
  state: CapState;
  count: number;
}

/** The sidecar's own telemetry (DESIGN.md "Budget sidecar metrics"), on its own registry. */
export class SidecarMetrics {
  readonly registry = new Registry();
  /** Rows of the last refresh; read at scrape time, so a refresh costs no metric updates. */
  rows: BudgetGaugeRow[] = [];
  /** Subjects per scope, window and state at the last refresh. */
  subjectCounts: SubjectCount[] = [];
  /** Evaluation time (ms) of the spend data in force, or undefined before the first refresh. */
  dataAt: number | undefined;

  /**
   * Decisions as plain numbers by scope, then allow (0) or deny (1), copied into the counter at
   * scrape time: prom-client's inc() validates and hashes its labels on every call, which is a
   * measurable part of a decision (BENCHMARKS.md).
   */
  private readonly decisionCounts: Record<DecisionScope, [number, number]> = {
    global: [0, 0],
    feature: [0, 0],
    user: [0, 0],
    none: [0, 0],
  };
  readonly decisions: Counter<'scope' | 'decision'>;
  readonly decisionDuration = new FixedLabelHistogram(
    {
      name: 'llm_budget_decision_duration_seconds',
      help: 'Time to answer a decision request, from the request line to the last byte written.',
      labelName: 'endpoint',
      buckets: [0.00002, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05],
    },
    ENDPOINTS,
    this.registry,
  );
  readonly queryDuration = new Histogram({
    name: 'llm_budget_prometheus_query_duration_seconds',
    help: 'Duration of the PromQL queries that read spend.',
    labelNames: ['query'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });
  readonly queryErrors = new Counter({
    name: 'llm_budget_prometheus_query_errors_total',
    help: 'PromQL queries that failed, by query and kind (http, timeout, unreachable, query, bad_response).',
    labelNames: ['query', 'kind'] as const,
    registers: [this.registry],
  });
  readonly refreshDuration = new Histogram({
    name: 'llm_budget_refresh_duration_seconds',
    help: 'Duration of a whole spend refresh (all queries and the window arithmetic).',
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [this.registry],
  });
  readonly configReloads = new Counter({
    name: 'llm_budget_config_reloads_total',
    help: 'Config reloads by result (ok, error).',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });

  constructor(
    private readonly ledgerCounts: () => { reservations: number; reservedUsd: number },
    now: () => number = Date.now,
  ) {
    const counts = this.decisionCounts;
    this.decisions = new Counter({
      name: BUDGET_METRICS.decisions,
      help: 'Budget decisions by the scope that decided (the denying cap, or the tightest one when allowed; none without caps).',
      labelNames: ['scope', 'decision'] as const,
      registers: [this.registry],
      collect() {
        this.reset();
        for (const [scope, [allow, deny]] of Object.entries(counts)) {
          if (allow) this.inc({ scope, decision: 'allow' }, allow);
          if (deny) this.inc({ scope, decision: 'deny' }, deny);
        }
      },
    });
    const rows = () => this.rows;
    new Gauge({
      name: BUDGET_METRICS.limit,
      help: 'Budget cap in USD: global and features always, users at warning or over their cap.',
      labelNames: ['scope', 'subject', 'window'] as const,
      registers: [this.registry],
      collect() {
        this.reset();
        for (const r of rows())
          this.set({ scope: r.scope, subject: r.subject, window: r.window }, r.limit);
      },
    });
    new Gauge({
      name: BUDGET_METRICS.warn,
      help: 'Spend in USD at which a cap turns to warning (limit x warn_at), same subjects as llm_budget_limit_usd.',
      labelNames: ['scope', 'subject', 'window'] as const,
      registers: [this.registry],
      collect() {
        this.reset();
        for (const r of rows())
          this.set({ scope: r.scope, subject: r.subject, window: r.window }, r.warn);
      },
    });
    new Gauge({
      name: BUDGET_METRICS.spent,
      help: 'Spend in the current window in USD, as of the last refresh, same subjects as llm_budget_limit_usd.',
      labelNames: ['scope', 'subject', 'window'] as const,
      registers: [this.registry],
      collect() {
        this.reset();
        for (const r of rows())
          this.set({ scope: r.scope, subject: r.subject, window: r.window }, r.spent);
      },
    });
    const subjectCounts = () => this.subjectCounts;
    new Gauge({
      name: BUDGET_METRICS.subjects,
      help: 'Subjects with spend per scope, window and state (ok, warning, exceeded); users by their default or override caps.',
      labelNames: ['scope', 'window', 'state'] as const,
      registers: [this.registry],
      collect() {
        this.reset();
        for (const c of subjectCounts())
          this.set({ scope: c.scope, window: c.window, state: c.state }, c.count);
      },
    });
    const dataAt = () => this.dataAt;
    new Gauge({
      name: BUDGET_METRICS.dataAge,
      help: 'Age of the spend data decisions use (now minus its evaluation time); absent before the first refresh.',
      registers: [this.registry],
      collect() {
        const at = dataAt();
        // No data yet has no age: an unlabelled gauge would otherwise read 0, i.e. fresh.
        if (at === undefined) this.remove();
        else this.set((now() - at) / 1000);
      },
    });
    const ledger = this.ledgerCounts;
    new Gauge({
      name: 'llm_budget_reservations',
      help: 'Reservations in flight (count) and the USD they hold.',
      labelNames: ['unit'] as const,
      registers: [this.registry],
      collect() {
        const c = ledger();
        this.set({ unit: 'count' }, c.reservations);
        this.set({ unit: 'usd' }, c.reservedUsd);
      },
    });
    collectDefaultMetrics({ register: this.registry });
  }

  /** One decision, by the scope that decided (`none` without caps). */
  countDecision(scope: DecisionScope, allowed: boolean): void {
    this.decisionCounts[scope][allowed ? 0 : 1]++;
  }

  /** A query's duration, and its failure by kind. */
  recordQuery(timing: QueryTiming): void {
    this.queryDuration.observe({ query: timing.name }, timing.seconds);
    if (timing.errorKind) this.queryErrors.inc({ query: timing.name, kind: timing.errorKind });
  }
}
