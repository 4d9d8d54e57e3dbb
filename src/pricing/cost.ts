import type { ModelPrice, TokenBuckets } from './types';

/** Cost in USD of disjoint token buckets, each at its own rate: nothing is billed twice. */
export function costOf(price: ModelPrice, tokens: TokenBuckets): number {
  return (
    tokens.input * price.input +
    tokens.cacheRead * price.cacheRead +
    tokens.cacheWrite * price.cacheWrite +
    tokens.output * price.output +
    tokens.reasoning * price.reasoning
  );
}

/**
 * What prompt-cache reads saved against paying the uncached input rate. Never negative: the
 * cache-write premium is part of the call's cost, and a counter cannot go down.
 */
export function promptCacheSavings(price: ModelPrice, tokens: TokenBuckets): number {
  return Math.max(0, tokens.cacheRead * (price.input - price.cacheRead));
}

export const EMPTY_BUCKETS: Readonly<TokenBuckets> = Object.freeze({
  input: 0,
  cacheRead: 0,
  cacheWrite: 0,
  output: 0,
  reasoning: 0,
});
