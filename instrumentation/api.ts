import { UNKNOWN } from '../src/contract/metrics';
import { costOf } from '../src/pricing/cost';
import { guarded, warnOnce } from './guard';
import { getRuntime } from './runtime';

/** Counts a business outcome of a feature (e.g. `success`), for cost per successful outcome. */
export function recordOutcome(feature: string, outcome: string): void {
  guarded('record-outcome', () => {
    getRuntime()
      .telemetry()
      .instruments.outcomes.add(1, { feature: feature || UNKNOWN, outcome: outcome || UNKNOWN });
  });
}

/** A lookup in the app's own response cache, reported with `recordCacheLookup`. */
export interface CacheLookup {
  /** Feature that looked up the cache. */
  feature: string;
  /** Whether a stored response was used instead of calling the model. */
  hit: boolean;
  /** Model the call would have used: prices the avoided call. */
  model?: string;
  /** Estimated input tokens of the avoided call. */
  inputTokens?: number;
  /** Estimated output tokens of the avoided call. */
  outputTokens?: number;
}

/**
 * Counts a response-cache lookup; a hit with a model adds the avoided call's cost (catalog price
 * times the token estimate given) to `llm_cache_savings_usd_total{cache="response"}`.
 */
export function recordCacheLookup(lookup: CacheLookup): void {
  guarded('record-cache-lookup', () => {
    const runtime = getRuntime();
    const { instruments } = runtime.telemetry();
    const feature = lookup.feature || UNKNOWN;
    instruments.cacheLookups.add(1, { feature, result: lookup.hit ? 'hit' : 'miss' });
    if (!lookup.hit || !lookup.model) return;
    const price = runtime.prices.resolve(lookup.model);
    if (!price) {
      warnOnce(
        `unpriced:${lookup.model}`,
        `no price for model "${lookup.model}": response-cache savings for it are not counted`,
      );
      return;
    }
    const tokens = {
      input: nonNegative(lookup.inputTokens),
      cacheRead: 0,
      cacheWrite: 0,
      output: nonNegative(lookup.outputTokens),
      reasoning: 0,
    };
    const saved = costOf(price, tokens);
    if (saved > 0) {
      instruments.cacheSavings.add(saved, {
        provider: price.provider,
        model: price.key,
        feature,
        cache: 'response',
      });
    }
  });
}

function nonNegative(n: number | undefined): number {
  return typeof n === 'number' && Number.isFinite(n) && n > 0 ? n : 0;
}
