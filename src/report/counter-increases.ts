import type { PrometheusApi } from '../prometheus/api';
import { eventsBySubject, latestBySubject } from '../prometheus/counter-increase';
import { GRID_MS, type Period } from './period';

/** How much a counter grew in a period, for one combination of the grouping labels. */
export interface IncreaseRow {
  /** The grouping labels' values ("" where a series lacks the label). */
  readonly labels: Readonly<Record<string, string>>;
  /** Increase over the whole period: the sum of `daily`. */
  readonly total: number;
  /** Increase per day of the period (same order as `period.days`); empty unless asked for. */
  readonly daily: readonly number[];
}

export interface IncreaseOptions {
  /** Longest scrape gap bridged by `last_over_time` (the sidecar's `max_scrape_gap`). */
  readonly gapMs: number;
  /** Split the increase per day of the period (one instant query per day boundary). */
  readonly daily: boolean;
}

/** Prometheus refuses range queries of more than 11,000 points per series. */
const MAX_STEPS = 10_000;
/** Instant queries in flight at once. */
const PARALLEL = 4;

/**
 * Exact increases of `counter` over `period`, summed by the labels `by`: the same window math as
 * the budget sidecar (src/prometheus/counter-increase.ts): latest values at each boundary plus the
 * reset / ended events of every 15-minute step between. Restarts, several instances, series that
 * start or end inside the period are all counted exactly; nothing is extrapolated.
 */
export async function counterIncreases(
  api: PrometheusApi,
  counter: string,
  by: readonly string[],
  period: Period,
  options: IncreaseOptions,
): Promise<IncreaseRow[]> {
  const grouping = by.join(', ');
  const boundaries = options.daily
    ? [period.start, ...period.days.map((d) => d.end)]
    : [period.start, period.end];
  const rows = new Map<string, { labels: Record<string, string>; values: number[] }>();
  const row = (labels: Readonly<Record<string, string>>) => {
    const key = by.map((l) => labels[l] ?? '').join('\u0000');
    let r = rows.get(key);
    if (!r) {
      r = {
        labels: Object.fromEntries(by.map((l) => [l, labels[l] ?? ''])),
        values: new Array<number>(boundaries.length - 1).fill(0),
      };
      rows.set(key, r);
    }
    return r;
  };

  // f(b) per boundary: each interval gains f(end) and loses f(start).
  const latest = latestBySubject(counter, grouping, options.gapMs);
  const answers = await inBatches(boundaries, (b) => api.instantSeries(latest, b));
  answers.forEach((series, i) => {
    for (const s of series) {
      const value = s.points[0]?.[1] ?? 0;
      if (i > 0) row(s.labels).values[i - 1]! += value;
      if (i < boundaries.length - 1) row(s.labels).values[i]! -= value;
    }
  });

  // Events at grid points t in (start, end]: each belongs to the interval whose end is >= t.
  const step = eventStep(boundaries);
  const events = eventsBySubject(counter, grouping, options.gapMs, step);
  for (let from = period.start + step; from <= period.end; from += MAX_STEPS * step) {
    const to = Math.min(period.end, from + (MAX_STEPS - 1) * step);
    for (const s of await api.rangeSeries(events, from, to, step)) {
      const r = row(s.labels);
      let i = 0;
      for (const [t, v] of s.points) {
        while (t > boundaries[i + 1]!) i++;
        r.values[i]! += v;
      }
    }
  }

  return [...rows.values()].map((r) => ({
    labels: r.labels,
    total: r.values.reduce((a, v) => a + v, 0),
    daily: options.daily ? r.values : [],
  }));
}

/**
 * The coarsest event grid that has every boundary on it: 1 h for whole-hour time zones, down to
 * 15 min (quarter-hour zones). A coarser grid is 4x fewer steps for Prometheus to evaluate; a
 * restart is still counted exactly unless the new process outspends the old one's whole total
 * within one step (the same limit as the sidecar's backfill grid).
 */
function eventStep(boundaries: readonly number[]): number {
  for (const step of [4 * GRID_MS, 2 * GRID_MS])
    if (boundaries.every((b) => (b - boundaries[0]!) % step === 0)) return step;
  return GRID_MS;
}

async function inBatches<T, R>(items: readonly T[], run: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += PARALLEL)
    out.push(...(await Promise.all(items.slice(i, i + PARALLEL).map(run))));
  return out;
}
