import type { Attributes, HrTime } from '@opentelemetry/api';
import { hrTime } from '@opentelemetry/core';
import {
  cardinalityLimit,
  METRICS,
  type MetricKey,
  type MetricSpec,
} from '../../src/contract/metrics';

/** The series the SDK folds further attribute sets into once a metric is at its limit. */
const OVERFLOW: Attributes = { 'otel.metric.overflow': true };
/** Stands for an attribute left out, so that `{a: x}` and `{a: x, b: ''}` stay apart. */
const ABSENT = '\u0000\u001f';
const SEPARATOR = '\u001f';

/** A series: the attributes it was first seen with, and when. */
interface Series {
  readonly attributes: Attributes;
  readonly startTime: HrTime;
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

/**
 * The series of one metric, keyed by its label values joined: a string built from a handful of
 * short values is far cheaper than the SDK's per-record hash (sort the keys, JSON.stringify).
 */
abstract class Table<S extends Series> {
  private readonly byId = new Map<string, S>();
  private overflow: S | undefined;

  constructor(
    readonly spec: MetricSpec,
    private readonly limit: number,
  ) {}

  /** Every series, the overflow series last. */
  *series(): IterableIterator<S> {
    yield* this.byId.values();
    if (this.overflow) yield this.overflow;
  }

  protected seriesOf(attributes: Attributes): S {
    const { labels } = this.spec;
    let id = '';
    for (let i = 0; i < labels.length; i++) {
      const value = attributes[labels[i]!];
      id += value === undefined ? ABSENT : `${String(value)}${SEPARATOR}`;
    }
    const found = this.byId.get(id);
    if (found) return found;
    // As the SDK: `limit - 1` series of their own, everything further in one overflow series.
    if (this.byId.size >= this.limit - 1) {
      this.overflow ??= this.create(OVERFLOW, hrTime());
      return this.overflow;
    }
    // The caller may reuse its object for the next record: keep a copy.
    const series = this.create({ ...attributes }, hrTime());
    this.byId.set(id, series);
    return series;
  }

  protected abstract create(attributes: Attributes, startTime: HrTime): S;
}

export class CounterTable extends Table<CounterSeries> {
  /** Adds a non-negative finite value (others are dropped, as the SDK drops them). */
  add(value: number, attributes: Attributes): void {
    if (!(value >= 0 && value !== Infinity)) return;
    this.seriesOf(attributes).value += value;
  }

  protected create(attributes: Attributes, startTime: HrTime): CounterSeries {
    return { attributes, startTime, value: 0 };
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

  protected create(attributes: Attributes, startTime: HrTime): HistogramSeries {
    const counts = new Array<number>(this.boundaries.length + 1).fill(0);
    return { attributes, startTime, counts, sum: 0, count: 0, min: Infinity, max: -Infinity };
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
