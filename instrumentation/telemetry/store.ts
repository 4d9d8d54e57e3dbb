import type { Attributes, AttributeValue, HrTime } from '@opentelemetry/api';
import { hrTime } from '@opentelemetry/core';
import {
  cardinalityLimit,
  METRICS,
  type MetricKey,
  type MetricSpec,
} from '../../src/contract/metrics';

/** The series the SDK folds further attribute sets into once a metric is at its limit. */
const OVERFLOW: Attributes = { 'otel.metric.overflow': true };

/** A series: the attributes it was first recorded with. */
interface Series {
  readonly attributes: Attributes;
}

export interface CounterSeries extends Series {
  value: number;
}

export interface HistogramSeries extends Series {
  /** One count per bucket: `boundaries.length + 1`, the last one above the highest boundary. */
  readonly counts: number[];
  sum: number;
  count: number;
  min: number;
  max: number;
}

/** A level of a table's tree: one label's values, each to the next level or, last, a series. */
type Level = Map<AttributeValue | undefined, unknown>;

/**
 * The series of one metric in a tree of maps, a level per label: a few lookups of short strings
 * the engine has already hashed, far cheaper than the SDK's per-record hash of the attributes
 * (sort the keys, JSON.stringify) or than joining the values into one key. A label left out
 * (undefined) is a key of its own, apart from ''. The `user` label is the last level: one map per
 * feature holds the users, not one map per user.
 */
abstract class Table<S extends Series> {
  private readonly root: Level = new Map();
  private readonly levels: readonly string[];
  private readonly all: S[] = [];
  private overflow: S | undefined;
  /**
   * Start of every series' cumulative window: the table's creation (a series first recorded
   * later was 0 until then), one time for all instead of one per series.
   */
  readonly startTime: HrTime = hrTime();

  constructor(
    readonly spec: MetricSpec,
    private readonly limit: number,
  ) {
    this.levels = [
      ...spec.labels.filter((l) => l !== 'user'),
      ...spec.labels.filter((l) => l === 'user'),
    ];
  }

  /** Every series, the overflow series last. */
  series(): readonly S[] {
    return this.overflow ? [...this.all, this.overflow] : this.all;
  }

  protected seriesOf(attributes: Attributes): S {
    const { levels } = this;
    const last = levels.length - 1;
    let level = this.root;
    for (let i = 0; i < last; i++) {
      const value = attributes[levels[i]!];
      let next = level.get(value) as Level | undefined;
      if (next === undefined) {
        if (this.full()) return this.overflowSeries();
        next = new Map();
        level.set(value, next);
      }
      level = next;
    }
    const value = attributes[levels[last]!];
    const found = level.get(value) as S | undefined;
    if (found) return found;
    if (this.full()) return this.overflowSeries();
    // Kept, not copied (callers never change an object they recorded, as the SDK requires too):
    // one object can serve the series of several metrics.
    const series = this.create(attributes);
    level.set(value, series);
    this.all.push(series);
    return series;
  }

  /** As the SDK: `limit - 1` series of their own, everything further in one overflow series. */
  private full(): boolean {
    return this.all.length >= this.limit - 1;
  }

  private overflowSeries(): S {
    this.overflow ??= this.create(OVERFLOW);
    return this.overflow;
  }

  protected abstract create(attributes: Attributes): S;
}

export class CounterTable extends Table<CounterSeries> {
  /** Adds a non-negative finite value (others are dropped, as the SDK drops them). */
  add(value: number, attributes: Attributes): void {
    if (!(value >= 0 && value !== Infinity)) return;
    this.seriesOf(attributes).value += value;
  }

  protected create(attributes: Attributes): CounterSeries {
    return { attributes, value: 0 };
  }
}

export class HistogramTable extends Table<HistogramSeries> {
  readonly boundaries: readonly number[];

  constructor(spec: MetricSpec, limit: number) {
    super(spec, limit);
    this.boundaries = spec.buckets ?? [];
  }

  /** Records a non-negative finite value in its bucket (boundaries are inclusive upper bounds). */
  record(value: number, attributes: Attributes): void {
    if (!(value >= 0 && value !== Infinity)) return;
    const s = this.seriesOf(attributes);
    const b = this.boundaries;
    let lo = 0;
    let hi = b.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (b[mid]! < value) lo = mid + 1;
      else hi = mid;
    }
    s.counts[lo]!++;
    s.sum += value;
    s.count++;
    if (value < s.min) s.min = value;
    if (value > s.max) s.max = value;
  }

  protected create(attributes: Attributes): HistogramSeries {
    const counts = new Array<number>(this.boundaries.length + 1).fill(0);
    return { attributes, counts, sum: 0, count: 0, min: Infinity, max: -Infinity };
  }
}

type TableOf<K extends MetricKey> = (typeof METRICS)[K] extends { kind: 'counter' }
  ? CounterTable
  : HistogramTable;

/** Every contract metric aggregated in process, cumulatively, one table per metric. */
export type MetricStore = { readonly [K in MetricKey]: TableOf<K> };

export function createMetricStore(): MetricStore {
  const tables: Partial<Record<MetricKey, CounterTable | HistogramTable>> = {};
  for (const [key, spec] of Object.entries(METRICS) as [MetricKey, MetricSpec][]) {
    const limit = cardinalityLimit(key);
    tables[key] =
      spec.kind === 'counter' ? new CounterTable(spec, limit) : new HistogramTable(spec, limit);
  }
  return tables as MetricStore;
}
