/** Pricing: the bundled catalog, price files, model id resolution and cost of token buckets. */
export type { ModelPrice, PriceBook, Tier, TokenBuckets } from './types';
export { costOf, promptCacheSavings, EMPTY_BUCKETS } from './cost';
export { PricingFileError, formatIssue, type PricingIssue } from './errors';
export { readPriceFile, parsePriceFile, type PriceFile } from './price-file';
export type { ModelEntry } from './model-entry';
export {
  DEFAULT_BASELINE_MODEL,
  bundledCatalogPath,
  createPriceBook,
  loadPriceBook,
  priceBookOptionsFromEnv,
  type PriceBookOptions,
} from './price-book';
export { ModelResolver, candidateIds } from './resolve';
export { TIER_INPUT_PRICE_BOUNDS_PER_MILLION, tierForInputRate } from './tier';
export { TIERS, litellmFileSchema, priceEntrySchema, priceFileSchema } from './schema';
