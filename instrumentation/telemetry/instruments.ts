import type { Attributes, Meter, ObservableCounter } from '@opentelemetry/api';
import { METRICS, type MetricKey } from '../../src/contract/metrics';
import { CounterTable, type MetricStore } from './store';

/**
 * What the recorder calls: a counter's `add`, a histogram's `record`. The attributes object is
 * kept as its series' attributes (here and in the SDK): it must not change after the call.
 */
export interface CounterSink {
  add(value: number, attributes: Attributes): void;
}
export interface HistogramSink {
  record(value: number, attributes: Attributes): void;
}

type SinkOf<K extends MetricKey> = (typeof METRICS)[K] extends { kind: 'counter' }
  ? CounterSink
  : HistogramSink;

/** One sink per contract metric, keyed like `METRICS`. */
export type Instruments = { readonly [K in MetricKey]: SinkOf<K> };

/** Every metric in the store, for our own SDK, whose readers collect it through `StoreProducer`. */
export function storeInstruments(store: MetricStore): Instruments {
  return store;
}

/**
 * For a meter of the app's SDK (or ours when a reader wants delta data, which the producer does
 * not make): counters aggregate in the store and the meter observes them at each collection;
 * histograms, which no observable instrument can carry, are the meter's own.
 */
export function meterInstruments(store: MetricStore, meter: Meter): Instruments {
  const out: Partial<Record<MetricKey, CounterSink | HistogramSink>> = {};
  const observed: [ObservableCounter, CounterTable][] = [];
  for (const [key, table] of Object.entries(store) as [MetricKey, MetricStore[MetricKey]][]) {
    const { spec } = table;
    const options = { unit: spec.unit, description: spec.description };
    if (table instanceof CounterTable) {
      observed.push([meter.createObservableCounter(spec.otelName, options), table]);
      out[key] = table;
    } else {
      out[key] = meter.createHistogram(spec.otelName, {
        ...options,
        advice: { explicitBucketBoundaries: [...table.boundaries] },
      });
    }
  }
  meter.addBatchObservableCallback(
    (result) => {
      for (const [counter, table] of observed) {
        for (const s of table.series()) result.observe(counter, s.value, s.attributes);
      }
    },
    observed.map(([counter]) => counter),
  );
  return out as Instruments;
}
