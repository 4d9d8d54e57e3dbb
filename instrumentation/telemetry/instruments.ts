import type { Counter, Histogram, Meter } from '@opentelemetry/api';
import { METRICS, type MetricKey, type MetricSpec } from '../../src/contract/metrics';

type InstrumentOf<S> = S extends { kind: 'counter' } ? Counter : Histogram;

/** One OTel instrument per contract metric, keyed like `METRICS`. */
export type Instruments = { [K in MetricKey]: InstrumentOf<(typeof METRICS)[K]> };

export function createInstruments(meter: Meter): Instruments {
  const out: Partial<Record<MetricKey, Counter | Histogram>> = {};
  for (const [key, spec] of Object.entries(METRICS) as [MetricKey, MetricSpec][]) {
    const options = { unit: spec.unit, description: spec.description };
    out[key] =
      spec.kind === 'counter'
        ? meter.createCounter(spec.otelName, options)
        : meter.createHistogram(spec.otelName, {
            ...options,
            advice: spec.buckets ? { explicitBucketBoundaries: [...spec.buckets] } : undefined,
          });
  }
  return out as Instruments;
}
