import { metrics, trace, type Tracer } from '@opentelemetry/api';
import { UserIdTransform } from '../src/attribution/user-id';
import { loadPriceBook } from '../src/pricing/price-book';
import type { PriceBook } from '../src/pricing/types';
import { configFromEnv } from './config';
import { reportInternalError, setInternalErrorSink } from './guard';
import { createInstruments, type Instruments } from './telemetry/instruments';
import type { OwnSdk } from './telemetry/sdk';
import type { LlmFinopsInstrumentationConfig } from './types';
import { packageVersion } from '../src/package-info';

export interface Telemetry {
  readonly tracer: Tracer;
  readonly instruments: Instruments;
}

const SCOPE = 'llm-finops';

/** True once an app registered its own OTel SDK providers globally. */
export function appHasOwnProviders(): boolean {
  const delegate = (trace.getTracerProvider() as { getDelegate?: () => object }).getDelegate?.();
  const tracing = delegate !== undefined && delegate.constructor.name !== 'NoopTracerProvider';
  const metering = metrics.getMeterProvider().constructor.name !== 'NoopMeterProvider';
  return tracing || metering;
}

/** Process-wide state shared by the patches and the library API. */
export class Runtime {
  readonly prices: PriceBook;
  readonly userIds: UserIdTransform;
  private telemetryCache: Telemetry | undefined;

  constructor(
    readonly config: LlmFinopsInstrumentationConfig,
    private ownSdk?: OwnSdk,
  ) {
    this.prices = loadPricesSafely(config);
    this.userIds = new UserIdTransform(config.userIdMode ?? 'raw', config.userIdHashKey);
  }

  /**
   * Tracer and instruments, resolved on first use rather than at start: an app that starts its
   * own OTel SDK after `--require llm-finops/register` gets our telemetry in its providers, and
   * ours shuts down instead of running a second pipeline.
   */
  telemetry(): Telemetry {
    if (this.telemetryCache) return this.telemetryCache;
    let tracer: Tracer;
    let meter;
    if (this.ownSdk && !appHasOwnProviders()) {
      tracer = this.ownSdk.tracerProvider.getTracer(SCOPE, packageVersion());
      meter = this.ownSdk.meterProvider.getMeter(SCOPE, packageVersion());
    } else {
      if (this.ownSdk) {
        const sdk = this.ownSdk;
        this.ownSdk = undefined;
        sdk.shutdown().catch((err: unknown) => reportInternalError('sdk-shutdown', err));
      }
      tracer = trace.getTracer(SCOPE, packageVersion());
      meter = metrics.getMeter(SCOPE, packageVersion());
    }
    const instruments = createInstruments(meter);
    setInternalErrorSink((stage) => instruments.internalErrors.add(1, { stage }));
    this.telemetryCache = { tracer, instruments };
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
