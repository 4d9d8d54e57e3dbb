import { diag } from '@opentelemetry/api';

/**
 * Internal errors must never reach the host app: each is caught, counted by stage and logged
 * once per stage (a bug on the hot path would otherwise flood the app's logs).
 */
const counts = new Map<string, number>();
const logged = new Set<string>();
let onError: ((stage: string) => void) | undefined;

/** Hooks the internal-errors counter in once telemetry is up. */
export function setInternalErrorSink(sink: (stage: string) => void): void {
  onError = sink;
}

/** Counts a problem in `llm_finops_internal_errors_total{stage}` without logging it. */
export function countInternalError(stage: string): void {
  counts.set(stage, (counts.get(stage) ?? 0) + 1);
  onError?.(stage);
}

export function reportInternalError(stage: string, err: unknown): void {
  try {
    countInternalError(stage);
    if (!logged.has(stage)) {
      logged.add(stage);
      const detail = err instanceof Error ? (err.stack ?? err.message) : String(err);
      process.emitWarning(
        `llm-finops: internal error in ${stage} (telemetry only, your call is unaffected; further ones are counted, not logged): ${detail}`,
        'LlmFinopsWarning',
      );
      diag.error(`llm-finops internal error in ${stage}`, err);
    }
  } catch {
    // Reporting itself must not throw.
  }
}

/** Internal error counts by stage, for tests and diagnostics. */
export function internalErrorCounts(): ReadonlyMap<string, number> {
  return counts;
}

/** Runs `fn`, swallowing and reporting anything it throws. */
export function guarded<T>(stage: string, fn: () => T): T | undefined {
  try {
    return fn();
  } catch (err) {
    reportInternalError(stage, err);
    return undefined;
  }
}

const warnedOnce = new Set<string>();

/** A user-facing warning (e.g. unpriced model) printed once per key. */
export function warnOnce(key: string, message: string): void {
  if (warnedOnce.has(key)) return;
  warnedOnce.add(key);
  process.emitWarning(`llm-finops: ${message}`, 'LlmFinopsWarning');
}
