import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { diag } from '@opentelemetry/api';
import {
  AggregationTemporalityPreference,
  OTLPMetricExporter as OTLPMetricExporterJson,
} from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPMetricExporter as OTLPMetricExporterProto } from '@opentelemetry/exporter-metrics-otlp-proto';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { OTLPTraceExporter as OTLPTraceExporterJson } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as OTLPTraceExporterProto } from '@opentelemetry/exporter-trace-otlp-proto';
import {
  defaultResource,
  detectResources,
  envDetector,
  resourceFromAttributes,
  type Resource,
} from '@opentelemetry/resources';
import {
  AggregationTemporality,
  ConsoleMetricExporter,
  InstrumentType,
  MeterProvider,
  PeriodicExportingMetricReader,
  type IMetricReader,
  type PushMetricExporter,
} from '@opentelemetry/sdk-metrics';
import {
  AlwaysOffSampler,
  BasicTracerProvider,
  BatchSpanProcessor,
  ConsoleSpanExporter,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { StoreProducer } from './producer';
import { llmFinopsScope } from './scope';
import { createMetricStore, type MetricStore } from './store';
import { llmFinopsViews } from './views';

/** The SDK llm-finops runs when the app has none of its own. Never registered globally. */
export interface OwnSdk {
  readonly meterProvider: MeterProvider;
  readonly tracerProvider: BasicTracerProvider;
  /** False when no span exporter is configured (OTEL_TRACES_EXPORTER=none). */
  readonly tracing?: boolean;
  /** Our metrics, collected by every reader of `meterProvider`; absent when one wants delta data. */
  readonly store?: MetricStore;
  /** Where `/metrics` is served with OTEL_METRICS_EXPORTER=prometheus. */
  readonly prometheusUrl?: Promise<string>;
  shutdown(): Promise<void>;
}

function list(value: string | undefined, fallback: string): string[] {
  return (value ?? fallback)
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter(Boolean);
}

function protocol(env: NodeJS.ProcessEnv, signal: 'METRICS' | 'TRACES'): 'json' | 'proto' {
  const p = env[`OTEL_EXPORTER_OTLP_${signal}_PROTOCOL`] ?? env.OTEL_EXPORTER_OTLP_PROTOCOL;
  // grpc is not bundled (it would double the install size): http/protobuf is the spec default.
  if (p && p !== 'http/protobuf' && p !== 'http/json') {
    diag.warn(`llm-finops: OTLP protocol ${p} is not supported, using http/protobuf`);
  }
  return p === 'http/json' ? 'json' : 'proto';
}

/** OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE of `env` (the exporter would read process.env). */
function temporalityPreference(env: NodeJS.ProcessEnv): AggregationTemporalityPreference {
  const value = env.OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE?.trim().toLowerCase();
  if (value === 'delta') return AggregationTemporalityPreference.DELTA;
  if (value === 'lowmemory') return AggregationTemporalityPreference.LOWMEMORY;
  if (value && value !== 'cumulative') {
    diag.warn(`llm-finops: unknown OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE ${value}`);
  }
  return AggregationTemporalityPreference.CUMULATIVE;
}

/** Whether an exporter takes cumulative counters and histograms (the OTLP default). */
function cumulative(exporter: PushMetricExporter): boolean {
  const select = exporter.selectAggregationTemporality?.bind(exporter);
  return [InstrumentType.COUNTER, InstrumentType.HISTOGRAM].every(
    (type) =>
      (select?.(type) ?? AggregationTemporality.CUMULATIVE) === AggregationTemporality.CUMULATIVE,
  );
}

function positiveInt(value: string | undefined, fallback: number): number {
  const n = Number(value);
  return Number.isInteger(n) && n > 0 ? n : fallback;
}

/**
 * Serves the Prometheus exporter's handler from our own server so that it can be unref'd: an
 * app that finishes its work must still exit even though we listen on a port.
 */
function servePrometheus(
  exporter: PrometheusExporter,
  env: NodeJS.ProcessEnv,
): { server: Server; url: Promise<string> } {
  const host = env.OTEL_EXPORTER_PROMETHEUS_HOST || '0.0.0.0';
  const port = positiveInt(env.OTEL_EXPORTER_PROMETHEUS_PORT, 9464);
  const server = createServer((req, res) => {
    if (req.url?.split('?')[0] === '/metrics') exporter.getMetricsRequestHandler(req, res);
    else res.writeHead(404).end();
  });
  server.unref();
  const url = new Promise<string>((resolve, reject) => {
    server.once('error', (err) => {
      // A taken port must not crash the app: report it and carry on without /metrics.
      process.emitWarning(
        `llm-finops: cannot serve /metrics on ${host}:${port}: ${err.message}`,
        'LlmFinopsWarning',
      );
      reject(err);
    });
    server.listen(port, host, () => {
      const address = server.address();
      const actual = typeof address === 'object' && address ? address.port : port;
      resolve(`http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${actual}/metrics`);
    });
  });
  url.catch(() => undefined);
  return { server, url };
}

function resource(env: NodeJS.ProcessEnv): Resource {
  // service.instance.id keeps several app instances apart once OTLP reaches Prometheus.
  return defaultResource()
    .merge(resourceFromAttributes({ 'service.instance.id': randomUUID() }))
    .merge(detectResources({ detectors: [envDetector] }))
    .merge(
      env.OTEL_SERVICE_NAME
        ? resourceFromAttributes({ 'service.name': env.OTEL_SERVICE_NAME })
        : null,
    );
}

/** Builds meter and tracer providers from the standard OTEL_* variables. */
export function startOwnSdk(env: NodeJS.ProcessEnv = process.env): OwnSdk {
  const res = resource(env);
  const readers: IMetricReader[] = [];
  let prometheus: { server: Server; url: Promise<string> } | undefined;
  const exportIntervalMillis = positiveInt(env.OTEL_METRIC_EXPORT_INTERVAL, 60_000);
  const exportTimeoutMillis = Math.min(
    positiveInt(env.OTEL_METRIC_EXPORT_TIMEOUT, 30_000),
    exportIntervalMillis,
  );
  const names = list(env.OTEL_METRICS_EXPORTER, 'otlp');
  const pushExporters: PushMetricExporter[] = [];
  for (const name of names) {
    if (name === 'otlp') {
      // An export (with its retries) must end before the next one starts, or exports to a dead
      // endpoint pile up and keep the app's event loop alive for ever.
      const timeoutMillis = Math.min(
        positiveInt(
          env.OTEL_EXPORTER_OTLP_METRICS_TIMEOUT ?? env.OTEL_EXPORTER_OTLP_TIMEOUT,
          10_000,
        ),
        exportIntervalMillis,
      );
      const options = { timeoutMillis, temporalityPreference: temporalityPreference(env) };
      pushExporters.push(
        protocol(env, 'METRICS') === 'json'
          ? new OTLPMetricExporterJson(options)
          : new OTLPMetricExporterProto(options),
      );
    } else if (name === 'console') {
      pushExporters.push(new ConsoleMetricExporter());
    } else if (name !== 'prometheus' && name !== 'none') {
      diag.warn(`llm-finops: unknown OTEL_METRICS_EXPORTER ${name}`);
    }
  }
  // Our metrics skip the SDK's per-record work when every reader takes cumulative data (the
  // Prometheus exporter always does): they aggregate in the store, and each reader collects them
  // through the producer. If one asks for delta, they go through the meter (Runtime.telemetry).
  const store = pushExporters.every(cumulative) ? createMetricStore() : undefined;
  const metricProducers = store ? [new StoreProducer(store, llmFinopsScope())] : [];
  for (const exporter of pushExporters) {
    readers.push(
      new PeriodicExportingMetricReader({
        exporter,
        exportIntervalMillis,
        exportTimeoutMillis,
        metricProducers,
      }),
    );
  }
  if (names.includes('prometheus')) {
    const exporter = new PrometheusExporter({ preventServerStart: true, metricProducers });
    prometheus = servePrometheus(exporter, env);
    readers.push(exporter);
  }
  const meterProvider = new MeterProvider({ resource: res, readers, views: llmFinopsViews() });

  const spanProcessors: SpanProcessor[] = [];
  for (const name of list(env.OTEL_TRACES_EXPORTER, 'otlp')) {
    if (name === 'otlp') {
      const exporter =
        protocol(env, 'TRACES') === 'json'
          ? new OTLPTraceExporterJson()
          : new OTLPTraceExporterProto();
      spanProcessors.push(new BatchSpanProcessor(exporter));
    } else if (name === 'console') {
      spanProcessors.push(new BatchSpanProcessor(new ConsoleSpanExporter()));
    } else if (name !== 'none') {
      diag.warn(`llm-finops: unknown OTEL_TRACES_EXPORTER ${name}`);
    }
  }
  // With no span exporter, spans would be built only to be dropped: sample none instead.
  const tracerProvider = new BasicTracerProvider({
    resource: res,
    spanProcessors,
    ...(spanProcessors.length === 0 ? { sampler: new AlwaysOffSampler() } : {}),
  });

  let stopped: Promise<void> | undefined;
  return {
    meterProvider,
    tracerProvider,
    tracing: spanProcessors.length > 0,
    store,
    prometheusUrl: prometheus?.url,
    shutdown() {
      stopped ??= Promise.allSettled([
        meterProvider.shutdown(),
        tracerProvider.shutdown(),
        new Promise<void>((resolve) =>
          prometheus ? prometheus.server.close(() => resolve()) : resolve(),
        ),
      ]).then(() => undefined);
      return stopped;
    },
  };
}
