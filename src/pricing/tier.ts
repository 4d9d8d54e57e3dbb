import type { Tier } from './types';

/**
 * Upper bounds (exclusive) of the uncached input price, in USD per 1M tokens, for the tier given
 * to entries that do not name one (LiteLLM files have no tier). Input price is the best single
 * proxy for model class: output prices scale with it, and reasoning models bill their thinking
 * as output. Below $1/1M: economy (mini, nano, haiku-class, embeddings); below $5/1M: standard
 * (gpt-4o/4.1/5, sonnet-class); from $5/1M: premium (opus-class, o1, pro models, gpt-4).
 */
export const TIER_INPUT_PRICE_BOUNDS_PER_MILLION = { economy: 1, standard: 5 } as const;

/** The tier of a model whose catalog entry names none, from its input rate in USD per token. */
export function tierForInputRate(inputPerToken: number): Tier {
  // Divide the bound rather than multiply the rate: 1/1e6 is exactly the double 1e-6, while a
  // rate times 1e6 can land a hair off the boundary.
  if (inputPerToken < TIER_INPUT_PRICE_BOUNDS_PER_MILLION.economy / 1e6) return 'economy';
  if (inputPerToken < TIER_INPUT_PRICE_BOUNDS_PER_MILLION.standard / 1e6) return 'standard';
  return 'premium';
}
