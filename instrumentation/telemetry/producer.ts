import { ValueType, type HrTime } from '@opentelemetry/api';
import { hrTime, type InstrumentationScope } from '@opentelemetry/core';
import { emptyResource } from '@opentelemetry/resources';
import {
  AggregationTemporality,
  DataPointType,
  type CollectionResult,
  type MetricData,
  type MetricDescriptor,
  type MetricProducer,
} from '@opentelemetry/sdk-metrics';
import { llmFinopsScope } from './scope';
import { CounterTable, createMetricStore, type HistogramTable, type MetricStore } from './store';

function descriptor({ spec }: CounterTable | HistogramTable): MetricDescriptor {
  return {
    name: spec.otelName,
    description: spec.description,
    unit: spec.unit,
    valueType: ValueType.DOUBLE,
  };
}

function counterData(table: CounterTable, endTime: HrTime): MetricData {
  return {
    descriptor: descriptor(table),
    aggregationTemporality: AggregationTemporality.CUMULATIVE,
    dataPointType: DataPointType.SUM,
    isMonotonic: true,
    dataPoints: table.series().map((s) => ({
      attributes: s.attributes,
      startTime: table.startTime,
      endTime,
      value: s.value,
    })),
  };
}

function histogramData(table: HistogramTable, endTime: HrTime): MetricData {
  const boundaries = [...table.boundaries];
  return {
    descriptor: descriptor(table),
    aggregationTemporality: AggregationTemporality.CUMULATIVE,
    dataPointType: DataPointType.HISTOGRAM,
    dataPoints: table.series().map((s) => ({
      attributes: s.attributes,
      startTime: table.startTime,
      endTime,
      // Copies: an exporter may hold the data while calls go on recording.
      value: {
        buckets: { boundaries, counts: [...s.counts] },
        sum: s.sum,
        count: s.count,
        min: s.min,
        max: s.max,
      },
    })),
  };
}

/**
 * Hands the store's series to a metric reader of our own SDK as cumulative data, at each
 * collection: the calls themselves never go through the SDK's per-record attribute hashing.
 * Only for readers that take cumulative data (the Prometheus exporter always does).
 */
export class StoreProducer implements MetricProducer {
  constructor(
    private readonly store: MetricStore,
    private readonly scope: InstrumentationScope,
  ) {}

  collect(): Promise<CollectionResult> {
    const endTime = hrTime();
    const metrics: MetricData[] = [];
    for (const table of Object.values(this.store)) {
      const data =
        table instanceof CounterTable ? counterData(table, endTime) : histogramData(table, endTime);
      // As the SDK: an instrument nothing was recorded on exports nothing.
      if (data.dataPoints.length) metrics.push(data);
    }
    return Promise.resolve({
      // The reader keeps its SDK's resource and drops this one.
      resourceMetrics: {
        resource: emptyResource(),
        scopeMetrics: [{ scope: this.scope, metrics }],
      },
      errors: [],
    });
  }
}

/** What apps with their own SDK collect through `llmFinopsMetricProducer()`. */
let appStore: MetricStore | undefined;

/**
 * For an app's own metric readers (`metricProducers: [llmFinopsMetricProducer()]`, cumulative
 * readers such as the Prometheus exporter or OTLP's default): they then collect llm-finops's
 * metrics from its store, and calls skip the SDK's per-record work. Without it the app's meter
 * gets them as instruments (slower, same data).
 */
export function llmFinopsMetricProducer(): MetricProducer {
  appStore ??= createMetricStore();
  return new StoreProducer(appStore, llmFinopsScope());
}

/** The store an app's readers collect, once `llmFinopsMetricProducer()` was called. */
export function appMetricStore(): MetricStore | undefined {
  return appStore;
}
