/**
 * llm-finops aggregates its metrics itself (instrumentation/telemetry/store.ts) and hands them to
 * the SDK's readers as data (producer.ts), or, for a meter that is not ours, as observable
 * counters plus the meter's histograms (instruments.ts). Whatever the path, a scrape must read
 * exactly what the SDK's own instruments would have given: same names, labels, buckets, sums,
 * and the same overflow series at the cardinality limit.
 */
import type { Attributes } from '@opentelemetry/api';
import { PrometheusSerializer } from '@opentelemetry/exporter-prometheus';
import { MeterProvider, type MetricReader } from '@opentelemetry/sdk-metrics';
import { describe, expect, it } from 'vitest';
import { METRICS, type MetricKey } from '../src/contract/metrics';
import {
  meterInstruments,
  storeInstruments,
  type CounterSink,
  type HistogramSink,
  type Instruments,
} from '../instrumentation/telemetry/instruments';
import { StoreProducer } from '../instrumentation/telemetry/producer';
import { llmFinopsScope } from '../instrumentation/telemetry/scope';
import { startOwnSdk } from '../instrumentation/telemetry/sdk';
import {
  CounterTable,
  createMetricStore,
  HistogramTable,
} from '../instrumentation/telemetry/store';
import { llmFinopsViews } from '../instrumentation/telemetry/views';
import { TestReader } from './helpers/harness';

const { name, version } = llmFinopsScope();

/** The SDK's own synchronous instruments for every contract metric: the reference. */
function sdkInstruments(provider: MeterProvider): Instruments {
  const meter = provider.getMeter(name, version);
  const out: Partial<Record<MetricKey, CounterSink | HistogramSink>> = {};
  for (const [key, spec] of Object.entries(METRICS) as [MetricKey, (typeof METRICS)[MetricKey]][]) {
    const options = { unit: spec.unit, description: spec.description };
    out[key] =
      spec.kind === 'counter'
        ? meter.createCounter(spec.otelName, options)
        : meter.createHistogram(spec.otelName, {
            ...options,
            advice: { explicitBucketBoundaries: [...spec.buckets] },
          });
  }
  return out as Instruments;
}

/** Every kind of record the recorder makes, with values on and around bucket boundaries. */
function workload(m: Instruments): void {
  const genAi: Attributes = {
    'gen_ai.operation.name': 'chat',
    'gen_ai.provider.name': 'openai',
    'gen_ai.request.model': 'gpt-4o-mini',
  };
  for (const seconds of [0, 0.01, 0.010001, 0.5, 81.92, 100]) {
    m.operationDuration.record(seconds, genAi);
  }
  m.operationDuration.record(0.3, { ...genAi, 'error.type': '429' });
  // Fresh objects: the SDK keeps the first object of a series as its attributes.
  const input = { ...genAi, 'gen_ai.token.type': 'input' };
  m.tokenUsage.record(4, input);
  m.tokenUsage.record(5, input);
  m.tokenUsage.record(70_000_000, { ...genAi, 'gen_ai.token.type': 'output' });
  for (const [i, cost] of [0.00001, 0.0000251, 0.3, 12].entries()) {
    const byModel = {
      provider: 'openai',
      model: 'gpt-4o-mini',
      tier: 'economy',
      feature: `f${i % 2}`,
    };
    m.requests.add(1, { ...byModel, status: 'ok' });
    m.cost.add(cost, byModel);
    m.baselineCost.add(cost * 20, byModel);
    m.requestCost.record(cost, {
      provider: 'openai',
      model: 'gpt-4o-mini',
      feature: byModel.feature,
    });
    m.userCost.add(cost, { user: `u${i}`, feature: byModel.feature });
    m.userRequests.add(1, { user: `u${i}`, feature: byModel.feature });
    m.tokens.add(12 + i, {
      provider: 'openai',
      model: 'gpt-4o-mini',
      feature: byModel.feature,
      type: 'input',
    });
  }
  // An empty label value is a value, not a missing label.
  m.outcomes.add(1, { feature: '', outcome: 'success' });
  m.outcomes.add(2, { feature: 'chat', outcome: 'success' });
  m.internalErrors.add(1, { stage: 'record' });
  // Dropped, as the SDK drops them.
  m.cost.add(-1, { provider: 'openai', model: 'x', tier: 'economy', feature: 'f0' });
  m.requestCost.record(-0.5, { provider: 'openai', model: 'x', feature: 'f0' });
}

async function exposition(reader: MetricReader): Promise<string> {
  const { resourceMetrics } = await reader.collect();
  return new PrometheusSerializer().serialize(resourceMetrics);
}

describe('the metric store', () => {
  it('gives the same exposition through the producer as the SDK instruments', async () => {
    const reference = new TestReader();
    workload(sdkInstruments(new MeterProvider({ readers: [reference], views: llmFinopsViews() })));

    const store = createMetricStore();
    const reader = new TestReader([new StoreProducer(store, llmFinopsScope())]);
    new MeterProvider({ readers: [reader] }).getMeter('unused');
    workload(storeInstruments(store));

    const expected = await exposition(reference);
    expect(expected).toContain('gen_ai_client_token_usage_bucket');
    expect(await exposition(reader)).toBe(expected);
    // Collecting again changes nothing (cumulative), and later records add up.
    expect(await exposition(reader)).toBe(expected);
  });

  it('gives the same exposition through a meter (observable counters, its histograms)', async () => {
    const reference = new TestReader();
    workload(sdkInstruments(new MeterProvider({ readers: [reference], views: llmFinopsViews() })));

    const reader = new TestReader();
    const provider = new MeterProvider({ readers: [reader], views: llmFinopsViews() });
    workload(meterInstruments(createMetricStore(), provider.getMeter(name, version)));

    expect(await exposition(reader)).toBe(await exposition(reference));
  });

  it('folds attribute sets past the limit into one overflow series, as the SDK does', async () => {
    const limit = 3;
    const reference = new TestReader();
    const provider = new MeterProvider({
      readers: [reference],
      views: [{ instrumentName: METRICS.userCost.otelName, aggregationCardinalityLimit: limit }],
    });
    const sdkCounter = provider.getMeter(name, version).createCounter(METRICS.userCost.otelName, {
      unit: METRICS.userCost.unit,
      description: METRICS.userCost.description,
    });
    const table = new CounterTable(METRICS.userCost, limit);
    for (let i = 0; i < 6; i++) {
      const attributes = { user: `u${i % 4}`, feature: 'chat' };
      sdkCounter.add(i + 0.5, attributes);
      table.add(i + 0.5, attributes);
    }
    const series = [...table.series()].map((s) => [s.attributes, s.value]);
    expect(series).toEqual([
      [{ user: 'u0', feature: 'chat' }, 0.5 + 4.5],
      [{ user: 'u1', feature: 'chat' }, 1.5 + 5.5],
      [{ 'otel.metric.overflow': true }, 2.5 + 3.5],
    ]);
    const { resourceMetrics } = await reference.collect();
    const points = resourceMetrics.scopeMetrics[0]!.metrics[0]!.dataPoints.map((p) => [
      p.attributes,
      p.value,
    ]);
    expect(points).toEqual(series);
  });

  it('puts a value equal to a boundary in the bucket that boundary closes', () => {
    const table = new HistogramTable({ ...METRICS.requestCost, buckets: [1, 2, 4] }, 10);
    const attributes: Attributes = { provider: 'openai' };
    for (const v of [0, 1, 1.5, 2, 4, 4.01, 9]) table.record(v, attributes);
    const [s] = [...table.series()];
    expect(s).toMatchObject({ counts: [2, 2, 1, 2], count: 7, min: 0, max: 9 });
    expect(s!.sum).toBeCloseTo(21.51, 12);
    expect(s!.attributes).toBe(attributes);
  });
});

describe('our own SDK', () => {
  it.each([
    ['OTLP, cumulative (the default)', {}, true],
    ['OTLP, delta', { OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE: 'delta' }, false],
    ['OTLP, low memory', { OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE: 'lowmemory' }, false],
    ['console and OTLP, cumulative', { OTEL_METRICS_EXPORTER: 'console,otlp' }, true],
  ])(
    'collects through the store only when every reader takes cumulative data: %s',
    async (_, env, stored) => {
      // An unreachable endpoint answered at once, so that shutdown's last export ends quickly.
      const sdk = startOwnSdk({
        OTEL_TRACES_EXPORTER: 'none',
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9',
        OTEL_EXPORTER_OTLP_TIMEOUT: '200',
        ...env,
      });
      try {
        expect(sdk.store !== undefined).toBe(stored);
      } finally {
        await sdk.shutdown();
      }
    },
  );
});
