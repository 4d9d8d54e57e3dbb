import { METRICS } from '../../contract/metrics';
import type { BudgetScope } from '../../contract/budget';
import { eventsBySubject, latestBySubject, series } from '../../prometheus/counter-increase';
import { PrometheusQueryError, type RangePoint, type SubjectValues } from '../../prometheus/api';
import { windowAt, type WindowSpan } from '../../calendar/windows';
import { limitQueries, type SpendQueries } from './query-limit';

/** How spend is read; from the `prometheus` and `timezone` settings of the config. */
export interface SpendSettings {
  readonly resolutionMs: number;
  readonly backfillStepMs: number;
  readonly gapMs: number;
  /** PromQL queries of a read in flight at once. */
  readonly parallelQueries: number;
  readonly selector: string;
  readonly timezone: string;
  /** Distinct window names of all configured caps. */
  readonly windows: readonly string[];
}

/** Spend per window at one evaluation time, as Prometheus shows it. */
export interface SpendView {
  /** Evaluation time (ms), a multiple of the resolution. */
  readonly at: number;
  readonly spans: ReadonlyMap<string, WindowSpan>;
  /** Window name -> subject -> USD, for the `user` and `feature` scopes. */
  readonly spend: Readonly<
    Record<'user' | 'feature', ReadonlyMap<string, ReadonlyMap<string, number>>>
  >;
  /** Window name -> USD, all features together. */
  readonly global: ReadonlyMap<string, number>;
  /** Spend that appeared since the previous view, per scope and subject (`global` under ""). */
  readonly growth: Readonly<Record<BudgetScope, ReadonlyMap<string, number>>>;
}

/** Names the query in metrics and errors. */
export type QueryName = 'latest' | 'window_start' | 'events' | 'backfill';

type Instrument = <T>(name: QueryName, run: () => Promise<T>) => Promise<T>;

/** Spend of one counter, grouped by one label. */
class Track {
  /** Reset and end-of-series events, sorted by time. */
  private events: RangePoint[] = [];
  /** Events are known for the steps after this time. */
  private coveredFrom = Infinity;
  /** Latest value plus events seen since start: grows exactly as spend does. */
  private lifetime: SubjectValues = new Map();
  private eventTotals: SubjectValues = new Map();

  constructor(
    readonly scope: 'user' | 'feature',
    private readonly metric: string,
    private readonly label: string,
  ) {}

  /**
   * Reads spend for every span at `at`: a fixed number of queries (one for the latest values,
   * one per distinct window start, one for the new events; more only once, to backfill).
   * Resolves with the step that applies the answers and returns the spend.
   */
  async read(
    api: SpendQueries,
    settings: SpendSettings,
    spans: readonly WindowSpan[],
    at: number,
    lastAt: number | undefined,
    instrument: Instrument,
  ): Promise<() => { spend: Map<string, Map<string, number>>; growth: SubjectValues }> {
    const { gapMs, resolutionMs, backfillStepMs } = settings;
    const counter = series(this.metric, settings.selector);
    const latest = latestBySubject(counter, this.label, gapMs);
    const starts = [...new Set(spans.map((s) => s.start))];
    const earliest = Math.min(...starts);
    const backfillFrom = Math.floor(earliest / backfillStepMs) * backfillStepMs;

    const [now, startValues, backfilled, fresh] = await Promise.all([
      instrument('latest', () => api.instant(latest, at, this.label)),
      Promise.all(
        starts.map((s) => instrument('window_start', () => api.instant(latest, s, this.label))),
      ),
      backfillFrom < this.coveredFrom
        ? instrument('backfill', () =>
            this.backfill(api, settings, counter, backfillFrom, at, lastAt),
          )
        : Promise.resolve([]),
      lastAt !== undefined && at > lastAt
        ? instrument('events', () =>
            rangeInChunks(
              api,
              eventsBySubject(counter, this.label, gapMs, resolutionMs),
              lastAt + resolutionMs,
              at,
              resolutionMs,
              this.label,
            ),
          )
        : Promise.resolve([]),
    ]);

    // Only once every query of both tracks succeeded does the state move on: the caller
    // applies the answers then, so a failed read leaves nothing half-done to be read again.
    return () => {
      if (backfilled.length || backfillFrom < this.coveredFrom) {
        this.events = [...backfilled, ...this.events].sort((a, b) => a.t - b.t);
        this.coveredFrom = backfillFrom;
      }
      for (const e of fresh) {
        this.events.push(e);
        this.eventTotals.set(e.subject, (this.eventTotals.get(e.subject) ?? 0) + e.value);
      }
      this.prune(backfillFrom);

      const growth: SubjectValues = new Map();
      const lifetime: SubjectValues = new Map();
      for (const [subject, value] of now) lifetime.set(subject, value);
      for (const [subject, total] of this.eventTotals)
        lifetime.set(subject, (lifetime.get(subject) ?? 0) + total);
      if (lastAt !== undefined) {
        for (const [subject, value] of lifetime) {
          const grew = value - (this.lifetime.get(subject) ?? 0);
          if (grew > 0) growth.set(subject, grew);
        }
      }
      this.lifetime = lifetime;

      const spend = new Map<string, Map<string, number>>();
      for (const span of spans) {
        const base = startValues[starts.indexOf(span.start)] ?? new Map<string, number>();
        const bySubject = new Map<string, number>();
        for (const [subject, value] of now)
          bySubject.set(subject, value - (base.get(subject) ?? 0));
        for (const [subject, value] of base) if (!now.has(subject)) bySubject.set(subject, -value);
        for (let i = this.events.length - 1; i >= 0; i--) {
          const e = this.events[i];
          if (!e || e.t <= span.start) break;
          if (e.t <= at) bySubject.set(e.subject, (bySubject.get(e.subject) ?? 0) + e.value);
        }
        // Float noise of the subtraction must not read as a tiny negative spend.
        for (const [subject, value] of bySubject) bySubject.set(subject, Math.max(0, round(value)));
        spend.set(span.name, bySubject);
      }
      return { spend, growth };
    };
  }

  /** Events of the history not read yet: a coarse grid, then the resolution up to `at`. */
  private async backfill(
    api: SpendQueries,
    settings: SpendSettings,
    counter: string,
    from: number,
    at: number,
    lastAt: number | undefined,
  ): Promise<RangePoint[]> {
    const { gapMs, resolutionMs, backfillStepMs } = settings;
    const until = Math.min(this.coveredFrom, lastAt ?? at);
    const coarseEnd = Math.floor(until / backfillStepMs) * backfillStepMs;
    const coarse = rangeInChunks(
      api,
      eventsBySubject(counter, this.label, gapMs, backfillStepMs),
      from + backfillStepMs,
      coarseEnd,
      backfillStepMs,
      this.label,
    );
    const fine = rangeInChunks(
      api,
      eventsBySubject(counter, this.label, gapMs, resolutionMs),
      coarseEnd + resolutionMs,
      until,
      resolutionMs,
      this.label,
    );
    return (await Promise.all([coarse, fine])).flat();
  }

  private prune(keepAfter: number): void {
    let drop = 0;
    while (drop < this.events.length && (this.events[drop]?.t ?? Infinity) <= keepAfter) drop++;
    if (drop) this.events = this.events.slice(drop);
  }
}

/** query_range answers at most 11,000 points per series. */
const MAX_STEPS = 10_000;

async function rangeInChunks(
  api: SpendQueries,
  expr: string,
  start: number,
  end: number,
  step: number,
  label: string,
): Promise<RangePoint[]> {
  const out: RangePoint[] = [];
  for (let from = start; from <= end; from += MAX_STEPS * step) {
    const to = Math.min(end, from + (MAX_STEPS - 1) * step);
    out.push(...(await rangeFitting(api, expr, from, to, step, label)));
  }
  return out;
}

/**
 * A range query, halved while Prometheus refuses it for loading too many samples: with a million
 * users, the first refresh's backfill of the month exceeds the default `--query.max-samples`
 * (50M), while a few steps at a time do not. Below that size this is one query, as before.
 */
async function rangeFitting(
  api: SpendQueries,
  expr: string,
  from: number,
  to: number,
  step: number,
  label: string,
): Promise<RangePoint[]> {
  try {
    return await api.range(expr, from, to, step, label);
  } catch (err) {
    const steps = Math.round((to - from) / step) + 1;
    if (!(err instanceof PrometheusQueryError && err.kind === 'too_many_samples') || steps < 2)
      throw err;
    const mid = from + Math.floor(steps / 2 - 1) * step;
    const first = await rangeFitting(api, expr, from, mid, step, label);
    return first.concat(await rangeFitting(api, expr, mid + step, to, step, label));
  }
}

/** Cents of a cent are noise: spend is kept to the nano-dollar. */
function round(usd: number): number {
  return Math.round(usd * 1e9) / 1e9;
}

/**
 * Reads window spend from Prometheus: per user from `llm_user_cost_usd_total`, per feature and
 * globally from `llm_cost_usd_total`. State between reads is only what makes the next read
 * cheaper (known reset events); spend itself is always recomputed from the counters.
 */
export class SpendReader {
  private readonly users = new Track('user', METRICS.userCost.promName, 'user');
  private readonly features = new Track('feature', METRICS.cost.promName, 'feature');
  private lastAt: number | undefined;

  private readonly api: SpendQueries;

  constructor(
    api: SpendQueries,
    private readonly settings: SpendSettings,
    private readonly instrument: Instrument = (_name, run) => run(),
  ) {
    this.api = limitQueries(api, settings.parallelQueries);
  }

  async read(nowMs: number): Promise<SpendView> {
    const settings = this.settings;
    const at = Math.floor(nowMs / settings.resolutionMs) * settings.resolutionMs;
    const spans = settings.windows.map((w) => windowAt(w, at, settings.timezone));
    if (!spans.length) {
      const none = new Map<string, Map<string, number>>();
      const empty = new Map<string, number>();
      return {
        at,
        spans: new Map(),
        spend: { user: none, feature: none },
        global: empty,
        growth: { user: empty, feature: empty, global: empty },
      };
    }
    const [applyUsers, applyFeatures] = await Promise.all([
      this.users.read(this.api, settings, spans, at, this.lastAt, this.instrument),
      this.features.read(this.api, settings, spans, at, this.lastAt, this.instrument),
    ]);
    const users = applyUsers();
    const features = applyFeatures();
    this.lastAt = at;
    const global = new Map<string, number>();
    for (const [window, bySubject] of features.spend) {
      let sum = 0;
      for (const v of bySubject.values()) sum += v;
      global.set(window, round(sum));
    }
    let globalGrowth = 0;
    for (const v of features.growth.values()) globalGrowth += v;
    return {
      at,
      spans: new Map(spans.map((s) => [s.name, s])),
      spend: { user: users.spend, feature: features.spend },
      global,
      growth: {
        user: users.growth,
        feature: features.growth,
        global: new Map([['', globalGrowth]]),
      },
    };
  }
}
