import { describe, expect, it } from 'vitest';
import { EMPTY_BUCKETS, costOf, promptCacheSavings } from '../src/pricing/cost';
import { loadPriceBook } from '../src/pricing/price-book';
import type { ModelPrice, TokenBuckets } from '../src/pricing/types';

const book = loadPriceBook();

function price(id: string): ModelPrice {
  const found = book.resolve(id);
  if (!found) throw new Error(`${id} is not in the catalog`);
  return found;
}

const tokens = (t: Partial<TokenBuckets>): TokenBuckets => ({ ...EMPTY_BUCKETS, ...t });

describe('costOf with disjoint token buckets at catalog rates', () => {
  it('gpt-4o: uncached input, cache reads at 50%, output', () => {
    // 1000 x $2.50/1M + 2000 x $1.25/1M + 500 x $10/1M = 0.0025 + 0.0025 + 0.005
    const cost = costOf(
      price('gpt-4o-2024-08-06'),
      tokens({ input: 1000, cacheRead: 2000, output: 500 }),
    );
    expect(cost).toBeCloseTo(0.01, 12);
  });

  it('claude-sonnet-4-5: cache writes at 1.25x and reads at 0.1x, each billed once', () => {
    // 100 x $3 + 10000 x $0.30 + 2000 x $3.75 + 300 x $15, per 1M
    const t = tokens({ input: 100, cacheRead: 10_000, cacheWrite: 2000, output: 300 });
    expect(costOf(price('claude-sonnet-4-5-20250929'), t)).toBeCloseTo(0.0153, 12);
  });

  it('o3: reasoning tokens at the output rate, next to the visible output', () => {
    // 1000 x $2 + (200 + 800) x $8, per 1M
    const t = tokens({ input: 1000, output: 200, reasoning: 800 });
    expect(costOf(price('o3'), t)).toBeCloseTo(0.01, 12);
  });

  it('gpt-5.6: OpenAI cache writes at their own rate', () => {
    // 1000 x $5 + 4000 x $6.25 + 1000 x $0.50 + 100 x $30, per 1M
    const t = tokens({ input: 1000, cacheWrite: 4000, cacheRead: 1000, output: 100 });
    expect(costOf(price('gpt-5.6'), t)).toBeCloseTo(0.0335, 12);
  });

  it('embeddings: input only', () => {
    expect(costOf(price('text-embedding-3-small'), tokens({ input: 1_000_000 }))).toBeCloseTo(
      0.02,
      12,
    );
  });

  it('is the sum of its buckets: nothing is billed twice', () => {
    const p = price('claude-opus-4-1');
    const all = tokens({ input: 7, cacheRead: 11, cacheWrite: 13, output: 17, reasoning: 19 });
    const parts = (Object.keys(all) as (keyof TokenBuckets)[]).map((k) =>
      costOf(p, tokens({ [k]: all[k] })),
    );
    expect(costOf(p, all)).toBeCloseTo(
      parts.reduce((a, b) => a + b, 0),
      15,
    );
    expect(costOf(p, EMPTY_BUCKETS)).toBe(0);
  });

  it('baseline: the same tokens at gpt-4 rates, which have no cache discount', () => {
    // (1000 + 2000) x $30 + 500 x $60, per 1M
    const t = tokens({ input: 1000, cacheRead: 2000, output: 500 });
    expect(costOf(book.baseline, t)).toBeCloseTo(0.12, 12);
  });

  it('prompt cache savings: reads against the uncached input rate', () => {
    const t = tokens({ input: 1000, cacheRead: 2000, output: 500 });
    expect(promptCacheSavings(price('gpt-4o'), t)).toBeCloseTo(0.0025, 12);
    expect(promptCacheSavings(price('gpt-4'), t)).toBe(0);
  });
});
