import {
  AggregationTemporality,
  MeterProvider,
  MetricReader,
  DataPointType,
  type MetricProducer,
} from '@opentelemetry/sdk-metrics';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
  type ReadableSpan,
} from '@opentelemetry/sdk-trace-base';
import { METRICS } from '../../src/contract/metrics';
import { ensureContextManager } from '../../instrumentation/attribution';
import { configFromEnv } from '../../instrumentation/config';
import { LlmFinopsInstrumentation } from '../../instrumentation/instrumentation';
import { Runtime, setRuntime } from '../../instrumentation/runtime';
import { StoreProducer } from '../../instrumentation/telemetry/producer';
import { llmFinopsScope } from '../../instrumentation/telemetry/scope';
import { createMetricStore } from '../../instrumentation/telemetry/store';
import { llmFinopsViews } from '../../instrumentation/telemetry/views';
import type { LlmFinopsInstrumentationConfig } from '../../instrumentation/types';

/** Collects on demand, cumulatively, like a Prometheus scrape. */
export class TestReader extends MetricReader {
  constructor(metricProducers: MetricProducer[] = []) {
    super({
      aggregationTemporalitySelector: () => AggregationTemporality.CUMULATIVE,
      metricProducers,
    });
  }
  protected onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
  protected onShutdown(): Promise<void> {
    return Promise.resolve();
  }
}

/** One series as Prometheus would name it: counters by value, histograms by count and sum. */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
  count?: number;
  sum?: number;
  buckets?: number[];
}

const promNameByOtel = new Map<string, string>(
  Object.values(METRICS).map((m) => [m.otelName, m.promName]),
);

export interface Harness {
  runtime: Runtime;
  instrumentation: LlmFinopsInstrumentation;
  spans(): ReadableSpan[];
  samples(): Promise<Sample[]>;
  /** The single series of `name` whose labels include `labels`; throws unless exactly one. */
  sample(name: string, labels?: Record<string, string>): Promise<Sample>;
  /** Value of a series, 0 when absent. */
  value(name: string, labels?: Record<string, string>): Promise<number>;
}

let instrumentation: LlmFinopsInstrumentation | undefined;

/** A fresh runtime with in-memory span and metric readers; the SDK patches are installed once. */
export function startHarness(config: Partial<LlmFinopsInstrumentationConfig> = {}): Harness {
  // As our own SDK runs by default: metrics in the store, collected through the producer.
  const store = createMetricStore();
  const reader = new TestReader([new StoreProducer(store, llmFinopsScope())]);
  const exporter = new InMemorySpanExporter();
  const meterProvider = new MeterProvider({ readers: [reader], views: llmFinopsViews() });
  const tracerProvider = new BasicTracerProvider({
    spanProcessors: [new SimpleSpanProcessor(exporter)],
  });
  const runtime = new Runtime(
    { ...configFromEnv({}).config, ...config },
    {
      meterProvider,
      tracerProvider,
      store,
      shutdown: async () => {
        await meterProvider.shutdown();
        await tracerProvider.shutdown();
      },
    },
  );
  setRuntime(runtime);
  ensureContextManager();
  instrumentation ??= new LlmFinopsInstrumentation({ enabled: false });

  const samples = async (): Promise<Sample[]> => {
    const { resourceMetrics } = await reader.collect();
    const out: Sample[] = [];
    for (const scope of resourceMetrics.scopeMetrics) {
      for (const metric of scope.metrics) {
        const name = promNameByOtel.get(metric.descriptor.name) ?? metric.descriptor.name;
        for (const dp of metric.dataPoints) {
          const labels: Record<string, string> = {};
          for (const [k, v] of Object.entries(dp.attributes))
            labels[k.replaceAll('.', '_')] = String(v);
          if (metric.dataPointType === DataPointType.HISTOGRAM) {
            const h = dp.value as { count: number; sum?: number; buckets: { counts: number[] } };
            out.push({
              name,
              labels,
              value: h.count,
              count: h.count,
              sum: h.sum,
              buckets: h.buckets.counts,
            });
          } else {
            out.push({ name, labels, value: dp.value as number });
          }
        }
      }
    }
    return out;
  };
  const matching = async (name: string, labels: Record<string, string>) =>
    (await samples()).filter(
      (s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v),
    );

  return {
    runtime,
    instrumentation,
    spans: () => exporter.getFinishedSpans(),
    samples,
    async sample(name, labels = {}) {
      const found = await matching(name, labels);
      if (found.length !== 1) {
        throw new Error(
          `expected one ${name}${JSON.stringify(labels)}, found ${found.length}: ${JSON.stringify(found)}`,
        );
      }
      return found[0]!;
    },
    async value(name, labels = {}) {
      return (await matching(name, labels)).reduce((a, s) => a + s.value, 0);
    },
  };
}
