/**
 * Preloaded (`--require`) into a bench worker in the side-by-side modes, before the app loads
 * `openai`: registers one OTel SDK as an app would (a tracer provider whose only span processor
 * counts and drops ended spans, a meter provider whose only reader keeps metrics in memory until
 * collected, and an AsyncLocalStorage context manager), then turns on the instrumentation under
 * test. Nothing is exported over the network, so only the cost of producing the telemetry is
 * measured, and every mode produces it into the same SDK (same versions where the peer accepts
 * them).
 *
 *   LLMF_BENCH_TELEMETRY=contrib    @opentelemetry/instrumentation-openai (OTel contrib)
 *   LLMF_BENCH_TELEMETRY=traceloop  @traceloop/instrumentation-openai (OpenLLMetry)
 *   LLMF_BENCH_TELEMETRY=openlit    openlit (OpenLIT's TypeScript SDK)
 *   LLMF_BENCH_TELEMETRY=llmf       llm-finops's metric producer on the reader; the worker also
 *                                   gets `--require` llm-finops's register, which finds this SDK
 *                                   and reports into it
 *
 * The worker reads the counts back through `globalThis[TELEMETRY_PROBE]` after its run.
 */
import {
  context,
  metrics,
  trace,
  type Context,
  type ProxyTracerProvider,
} from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import {
  BasicTracerProvider,
  type ReadableSpan,
  type Span,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { llmFinopsMetricProducer } from '../../instrumentation/telemetry/producer';
import { TELEMETRY_PROBE, type PeerName, type TelemetryCounts } from './workloads';

/** Counts ended spans and their attributes, then drops them: a no-op exporter without the batching. */
class CountingSpanProcessor implements SpanProcessor {
  spans = 0;
  attributes = new Set<string>();
  onStart(_span: Span, _parent: Context): void {}
  onEnd(span: ReadableSpan): void {
    this.spans++;
    // Which attributes the spans carry (tokens, cost, user…), for the telemetry table; the first
    // spans are enough and keep this out of the measured cost.
    if (this.spans <= 4) for (const key of Object.keys(span.attributes)) this.attributes.add(key);
  }
  forceFlush(): Promise<void> {
    return Promise.resolve();
  }
  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}

/** Keeps the aggregated metrics in memory until `collect()`, as a pull exporter does between scrapes. */
class InMemoryReader extends MetricReader {
  protected onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
  protected onShutdown(): Promise<void> {
    return Promise.resolve();
  }
}

const peer = process.env.LLMF_BENCH_TELEMETRY as PeerName | undefined;
const spans = new CountingSpanProcessor();
// llm-finops set up as its docs advise for an app's own SDK: its producer on the app's reader.
const reader = new InMemoryReader(
  peer === 'llmf' ? { metricProducers: [llmFinopsMetricProducer()] } : undefined,
);
const tracerProvider = new BasicTracerProvider({ spanProcessors: [spans] });
const meterProvider = new MeterProvider({ readers: [reader] });
metrics.setGlobalMeterProvider(meterProvider);
// OpenLIT registers a tracer provider and context manager of its own, and fails if one is there.
if (peer !== 'openlit') {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  trace.setGlobalTracerProvider(tracerProvider);
}

/** Pricing handed to OpenLIT (it would otherwise fetch a price list at start-up): same as ours. */
const OPENLIT_PRICES = {
  chat: { 'gpt-4o-mini': { promptPrice: 0.00015, completionPrice: 0.0006 } },
  embeddings: { 'text-embedding-3-small': 0.00002 },
};

switch (peer) {
  case 'contrib': {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { OpenAIInstrumentation } = require('@opentelemetry/instrumentation-openai') as {
      OpenAIInstrumentation: new () => import('@opentelemetry/instrumentation').Instrumentation;
    };
    registerInstrumentations({ instrumentations: [new OpenAIInstrumentation()] });
    break;
  }
  case 'traceloop': {
    // OpenLLMetry brings its own @opentelemetry/instrumentation (0.203); it reports through the
    // global API, so into the SDK above.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { OpenAIInstrumentation } = require('@traceloop/instrumentation-openai') as {
      OpenAIInstrumentation: new () => { enable(): void };
    };
    new OpenAIInstrumentation().enable();
    break;
  }
  case 'openlit': {
    // OpenLIT always builds and registers its own tracer provider (its check for an app's one
    // looks at the API's proxy, which never matches), with the processors OTEL_TRACES_EXPORTER
    // names: none, then the counting processor is added to it. Its metrics go to the global
    // meter provider above.
    // Events (prompt and completion log records) are off: no other mode produces logs.
    process.env.OTEL_TRACES_EXPORTER = 'none';
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const openlit = require('openlit') as {
      default: { init(options: Record<string, unknown>): void };
    };
    openlit.default.init({
      applicationName: 'llm-finops-bench',
      disableEvents: true,
      pricingJson: OPENLIT_PRICES,
    });
    const registered = (trace.getTracerProvider() as ProxyTracerProvider).getDelegate() as {
      _activeSpanProcessor?: { _spanProcessors?: SpanProcessor[] };
    };
    const processors = registered._activeSpanProcessor?._spanProcessors;
    if (!processors) throw new Error('openlit: its tracer provider has no span processor list');
    processors.push(spans);
    break;
  }
  case 'llmf':
  case undefined:
    break;
  default:
    throw new Error(`LLMF_BENCH_TELEMETRY=${String(peer)} is not a known mode`);
}

const probe = async (): Promise<TelemetryCounts> => {
  const { resourceMetrics } = await reader.collect();
  let dataPoints = 0;
  const names: string[] = [];
  for (const scope of resourceMetrics.scopeMetrics) {
    for (const metric of scope.metrics) {
      names.push(metric.descriptor.name);
      dataPoints += metric.dataPoints.length;
    }
  }
  return { spans: spans.spans, dataPoints, metrics: names, spanAttributes: [...spans.attributes] };
};
(globalThis as Record<symbol, unknown>)[TELEMETRY_PROBE] = probe;
