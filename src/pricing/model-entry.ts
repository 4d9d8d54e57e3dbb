import { hasTokenRates, type PriceEntryInput } from './schema';
import { tierForInputRate } from './tier';
import type { ModelPrice } from './types';

/** A validated catalog entry: its price with defaults applied, and how ids find it. */
export interface ModelEntry {
  readonly price: ModelPrice;
  /** LiteLLM `mode` (chat, embedding, responses, ...), when given. */
  readonly mode?: string;
  /** Other ids of the same model, matched exactly (case-insensitively). */
  readonly aliases: readonly string[];
  /** Tried, case-insensitively, on ids that nothing else resolves. */
  readonly match?: RegExp;
}

/**
 * The entry for a validated, token-priced input. Missing rates default as `ModelPrice` says:
 * cache read and write at the input rate, reasoning at the output rate, so nothing is ever
 * under-priced for want of a rate; an embedding's missing output rate is 0 (it has no output).
 */
export function toModelEntry(key: string, input: PriceEntryInput): ModelEntry {
  if (!hasTokenRates(input) || input.input_cost_per_token == null) {
    throw new Error(`internal: ${key} is not priced per token`);
  }
  const inputRate = input.input_cost_per_token;
  const outputRate = input.output_cost_per_token ?? 0;
  const price: ModelPrice = Object.freeze({
    key,
    provider: input.litellm_provider ?? inferProvider(key),
    tier: input.tier ?? tierForInputRate(inputRate),
    input: inputRate,
    output: outputRate,
    cacheRead: input.cache_read_input_token_cost ?? inputRate,
    cacheWrite: input.cache_creation_input_token_cost ?? inputRate,
    reasoning: input.output_cost_per_reasoning_token ?? outputRate,
  });
  return {
    price,
    ...(input.mode != null && { mode: input.mode }),
    aliases: input.aliases ?? [],
    ...(input.match !== undefined && { match: new RegExp(input.match, 'i') }),
  };
}

/**
 * `litellm_provider` for an entry that names none (a short override entry): the routing prefix
 * of the id (`azure/my-deployment`), else the vendor its id family belongs to.
 */
export function inferProvider(key: string): string {
  const slash = key.indexOf('/');
  if (slash > 0) return key.slice(0, slash);
  if (/^claude-/i.test(key)) return 'anthropic';
  if (/^(gpt-|chatgpt-|o\d|text-embedding-|codex-)/i.test(key)) return 'openai';
  return 'unknown';
}
