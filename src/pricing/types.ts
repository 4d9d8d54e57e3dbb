/** Model tier, our addition to the LiteLLM price keys. */
export type Tier = 'economy' | 'standard' | 'premium';

/** A catalog entry resolved for pricing: USD per token for every disjoint billing bucket. */
export interface ModelPrice {
  /** Catalog key the model id resolved to (e.g. `gpt-4o` for `openai/gpt-4o-2024-08-06`). */
  readonly key: string;
  /** `litellm_provider` of the entry (e.g. `openai`, `anthropic`). */
  readonly provider: string;
  readonly tier: Tier;
  /** Uncached input, USD per token. */
  readonly input: number;
  /** Non-reasoning output, USD per token. */
  readonly output: number;
  /** Cache read, USD per token (the input rate when the catalog gives none). */
  readonly cacheRead: number;
  /** Cache write (creation), USD per token (the input rate when the catalog gives none). */
  readonly cacheWrite: number;
  /** Reasoning output, USD per token (the output rate when the catalog gives none). */
  readonly reasoning: number;
}

/**
 * Token counts in disjoint billing buckets: no token is in two buckets. Provider usage blocks are
 * normalised into this shape (e.g. OpenAI's prompt_tokens includes cached tokens; here `input`
 * does not).
 */
export interface TokenBuckets {
  input: number;
  cacheRead: number;
  cacheWrite: number;
  output: number;
  reasoning: number;
}

/** Resolves model ids to prices and prices token buckets. */
export interface PriceBook {
  /** Date of the bundled catalog snapshot (YYYY-MM-DD). */
  readonly catalogDate: string;
  /** The baseline model's price (LLM_FINOPS_BASELINE_MODEL, default `gpt-4`). */
  readonly baseline: ModelPrice;
  /**
   * Resolves a model id as a provider reports it: exact key, alias, provider prefix
   * (`openai/gpt-4o`), dated snapshot (`gpt-4o-2024-08-06`), Bedrock (`us.anthropic.claude-…-v1:0`)
   * and Vertex (`claude-…@20241022`) ids, then `match` regexes. Undefined when unknown.
   * Results are memoised: this is on the hot path of every call.
   */
  resolve(model: string): ModelPrice | undefined;
}
