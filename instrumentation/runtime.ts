import { metrics, trace, type Tracer } from '@opentelemetry/api';
import { UserIdTransform } from '../src/attribution/user-id';
import { loadPriceBook } from '../src/pricing/price-book';
import type { PriceBook } from '../src/pricing/types';
import { BudgetEnforcer } from './budget/enforcer';
import { configFromEnv } from './config';
import { reportInternalError, setInternalErrorSink } from './guard';
import { meterInstruments, storeInstruments, type Instruments } from './telemetry/instruments';
import { appMetricStore } from './telemetry/producer';
import { llmFinopsScope } from './telemetry/scope';
import { createMetricStore } from './telemetry/store';
import type { OwnSdk } from './telemetry/sdk';
import type { LlmFinopsInstrumentationConfig } from './types';

export interface Telemetry {
  readonly tracer: Tracer;
  /** False when our own SDK has no span exporter: calls then make no span at all. */
  readonly tracing: boolean;
  readonly instruments: Instruments;
}

/** Which global OTel providers an app registered (its own SDK), signal by signal. */
function appProviders(): { tracing: boolean; metering: boolean } {
  const delegate = (trace.getTracerProvider() as { getDelegate?: () => object }).getDelegate?.();
  return {
    tracing: delegate !== undefined && delegate.constructor.name !== 'NoopTracerProvider',
    metering: metrics.getMeterProvider().constructor.name !== 'NoopMeterProvider',
  };
}

/** True once an app registered its own OTel SDK providers globally. */
export function appHasOwnProviders(): boolean {
  const app = appProviders();
  return app.tracing || app.metering;
}

/** Process-wide state shared by the patches and the library API. */
export class Runtime {
  readonly prices: PriceBook;
  readonly userIds: UserIdTransform;
  /** Pre-flight budget enforcement, when LLM_FINOPS_SIDECAR_URL is set. */
  readonly budget: BudgetEnforcer | undefined;
  private telemetryCache: Telemetry | undefined;

  constructor(
    readonly config: LlmFinopsInstrumentationConfig,
    private ownSdk?: OwnSdk,
  ) {
    this.prices = loadPricesSafely(config);
    this.userIds = new UserIdTransform(config.userIdMode ?? 'raw', config.userIdHashKey);
    const { sidecarUrl } = config;
    this.budget = sidecarUrl
      ? new BudgetEnforcer({ ...config, sidecarUrl }, this.prices, this.userIds)
      : undefined;
  }

  /**
   * Tracer and instruments, resolved on first use rather than at start: an app that starts its
   * own OTel SDK after `--require llm-finops/register` gets our telemetry in its providers, and
   * ours shuts down instead of running a second pipeline.
   */
  telemetry(): Telemetry {
    if (this.telemetryCache) return this.telemetryCache;
    // The app's providers as soon as it registered any: one pipeline, the app's.
    const own = appHasOwnProviders() ? undefined : this.ownSdk;
    if (this.ownSdk && !own) {
      const sdk = this.ownSdk;
      this.ownSdk = undefined;
      sdk.shutdown().catch((err: unknown) => reportInternalError('sdk-shutdown', err));
    }
    const { name, version } = llmFinopsScope();
    const tracer: Tracer = own
      ? own.tracerProvider.getTracer(name, version)
      : trace.getTracer(name, version);
    // Our readers, or the app's readers given llmFinopsMetricProducer(), collect the store.
    const store = own ? own.store : appMetricStore();
    const instruments = store
      ? storeInstruments(store)
      : meterInstruments(
          createMetricStore(),
          own ? own.meterProvider.getMeter(name, version) : metrics.getMeter(name, version),
        );
    setInternalErrorSink((stage) => instruments.internalErrors.add(1, { stage }));
    this.telemetryCache = { tracer, tracing: own?.tracing !== false, instruments };
    return this.telemetryCache;
  }

  /** Flushes and stops our own SDK, if we run one. */
  async shutdown(): Promise<void> {
    await this.ownSdk?.shutdown();
  }

  get sdk(): OwnSdk | undefined {
    return this.ownSdk;
  }
}

function loadPricesSafely(config: LlmFinopsInstrumentationConfig): PriceBook {
  try {
    return loadPriceBook({ overrideFile: config.pricingFile, baselineModel: config.baselineModel });
  } catch (err) {
    // A bad override file must not stop the app: say why, and price from the bundled catalog.
    process.emitWarning(
      `llm-finops: ${err instanceof Error ? err.message : String(err)}; using the bundled catalog`,
      'LlmFinopsWarning',
    );
    return loadPriceBook({});
  }
}

let current: Runtime | undefined;

/** The process runtime; created from the environment when `register` was not loaded. */
export function getRuntime(): Runtime {
  current ??= new Runtime(configFromEnv().config);
  return current;
}

export function setRuntime(runtime: Runtime): void {
  current = runtime;
}

/** Creates the runtime from explicit options (over the environment's) unless one exists. */
export function initRuntime(config: LlmFinopsInstrumentationConfig): void {
  current ??= new Runtime({ ...configFromEnv().config, ...definedOptions(config) });
}

function definedOptions(config: LlmFinopsInstrumentationConfig): LlmFinopsInstrumentationConfig {
  return Object.fromEntries(Object.entries(config).filter(([, v]) => v !== undefined));
}
