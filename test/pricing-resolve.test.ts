import { describe, expect, it, vi } from 'vitest';
import { bundledCatalogPath, loadPriceBook } from '../src/pricing/price-book';
import { readPriceFile } from '../src/pricing/price-file';
import { ModelResolver } from '../src/pricing/resolve';
import { tierForInputRate } from '../src/pricing/tier';

const book = loadPriceBook();

describe('model id resolution against the bundled catalog', () => {
  it.each([
    // exact keys
    ['gpt-4', 'gpt-4'],
    ['gpt-4o', 'gpt-4o'],
    ['o1-mini', 'o1-mini'],
    ['claude-sonnet-4-5', 'claude-sonnet-4-5'],
    ['text-embedding-3-large', 'text-embedding-3-large'],
    // aliases
    ['gpt-4-1106-preview', 'gpt-4-turbo'],
    ['gpt-4-0125-preview', 'gpt-4-turbo'],
    ['gpt-35-turbo', 'gpt-3.5-turbo'],
    ['gpt-5-chat-latest', 'gpt-5'],
    ['claude-sonnet-4-0', 'claude-sonnet-4'],
    ['text-embedding-ada-002-v2', 'text-embedding-ada-002'],
    // case-insensitive
    ['GPT-4o', 'gpt-4o'],
    ['Claude-3-5-Sonnet-20241022', 'claude-3-5-sonnet'],
    // provider prefixes
    ['openai/gpt-4o', 'gpt-4o'],
    ['azure/gpt-4o-mini', 'gpt-4o-mini'],
    ['azure_ai/gpt-4.1', 'gpt-4.1'],
    ['anthropic/claude-opus-4-1', 'claude-opus-4-1'],
    ['openrouter/openai/gpt-4o-mini', 'gpt-4o-mini'],
    ['groq/openai/o4-mini', 'o4-mini'],
    // dated snapshots
    ['gpt-4o-2024-08-06', 'gpt-4o'],
    ['gpt-4o-2024-11-20', 'gpt-4o'],
    ['openai/gpt-4o-2024-08-06', 'gpt-4o'],
    ['gpt-4o-2024-05-13', 'gpt-4o-2024-05-13'],
    ['gpt-4o-mini-2024-07-18', 'gpt-4o-mini'],
    ['gpt-4-0613', 'gpt-4'],
    ['gpt-4-turbo-2024-04-09', 'gpt-4-turbo'],
    ['gpt-3.5-turbo-0125', 'gpt-3.5-turbo'],
    ['gpt-3.5-turbo-1106', 'gpt-3.5-turbo-1106'],
    ['gpt-4.1-nano-2025-04-14', 'gpt-4.1-nano'],
    ['o1-2024-12-17', 'o1'],
    ['o1-mini-2024-09-12', 'o1-mini'],
    ['o3-2025-04-16', 'o3'],
    ['o3-mini-2025-01-31', 'o3-mini'],
    ['o4-mini-2025-04-16', 'o4-mini'],
    ['gpt-5-2025-08-07', 'gpt-5'],
    ['gpt-5-mini-2025-08-07', 'gpt-5-mini'],
    ['gpt-5.4-nano-2026-03-17', 'gpt-5.4-nano'],
    ['claude-3-5-sonnet-20241022', 'claude-3-5-sonnet'],
    ['claude-3-5-sonnet-latest', 'claude-3-5-sonnet'],
    ['claude-3-5-haiku-20241022', 'claude-3-5-haiku'],
    ['claude-3-haiku-20240307', 'claude-3-haiku'],
    ['claude-opus-4-20250514', 'claude-opus-4'],
    ['claude-opus-4-1-20250805', 'claude-opus-4-1'],
    ['claude-haiku-4-5-20251001', 'claude-haiku-4-5'],
    ['claude-opus-4-5-20251101', 'claude-opus-4-5'],
    // Bedrock
    ['anthropic.claude-3-5-sonnet-20240620-v1:0', 'claude-3-5-sonnet'],
    ['anthropic.claude-3-5-sonnet-20241022-v2:0', 'claude-3-5-sonnet'],
    ['us.anthropic.claude-sonnet-4-20250514-v1:0', 'claude-sonnet-4'],
    ['eu.anthropic.claude-3-7-sonnet-20250219-v1:0', 'claude-3-7-sonnet'],
    ['apac.anthropic.claude-3-haiku-20240307-v1:0', 'claude-3-haiku'],
    ['global.anthropic.claude-sonnet-4-5-20250929-v1:0', 'claude-sonnet-4-5'],
    ['us.anthropic.claude-opus-4-1-20250805-v1:0', 'claude-opus-4-1'],
    ['bedrock/us-west-2/anthropic.claude-3-haiku-20240307-v1:0', 'claude-3-haiku'],
    // Vertex AI
    ['claude-3-5-sonnet-v2@20241022', 'claude-3-5-sonnet'],
    ['claude-3-5-haiku@20241022', 'claude-3-5-haiku'],
    ['claude-sonnet-4@20250514', 'claude-sonnet-4'],
    ['claude-opus-4-1@20250805', 'claude-opus-4-1'],
    ['vertex_ai/claude-3-7-sonnet@20250219', 'claude-3-7-sonnet'],
    // OpenRouter
    ['anthropic/claude-3.5-sonnet', 'claude-3-5-sonnet'],
    ['anthropic/claude-3.7-sonnet:thinking', 'claude-3-7-sonnet'],
    ['anthropic/claude-sonnet-4.5', 'claude-sonnet-4-5'],
    ['openrouter/anthropic/claude-opus-4.1', 'claude-opus-4-1'],
  ])('%s -> %s', (id, key) => {
    expect(book.resolve(id)?.key).toBe(key);
  });

  it.each([
    // Other families that share a prefix with a catalog key must not borrow its price.
    'gpt-4-32k',
    'gpt-4o-audio-preview',
    'gpt-4o-realtime-preview-2024-12-17',
    'gpt-4.5-preview',
    'o1-mini-high',
    'claude-3-5-sonnet-extended',
    'claude-3-sonnet-20240229',
    'ft:gpt-4o-mini-2024-07-18:acme::abc123',
    'anthropic/claude-3.5-sonnet:free',
    'deepseek-v3',
    'gpt',
    '',
  ])('%j is unknown', (id) => {
    expect(book.resolve(id)).toBeUndefined();
  });

  it('never confuses a mini/nano model with its family flagship', () => {
    expect(book.resolve('gpt-4o-mini-2024-07-18')?.input).toBe(1.5e-7);
    expect(book.resolve('o1-mini')?.input).toBe(1.1e-6);
    expect(book.resolve('o1')?.input).toBe(1.5e-5);
    expect(book.resolve('gpt-4')?.input).toBe(3e-5);
    expect(book.resolve('gpt-4o')?.input).toBe(2.5e-6);
  });
});

describe('prices and defaults', () => {
  it('fills rates the catalog leaves out: cache at the input rate, reasoning at output', () => {
    expect(book.resolve('gpt-4')).toEqual({
      key: 'gpt-4',
      provider: 'openai',
      tier: 'premium',
      input: 3e-5,
      output: 6e-5,
      cacheRead: 3e-5,
      cacheWrite: 3e-5,
      reasoning: 6e-5,
    });
    const gpt4o = book.resolve('gpt-4o');
    expect(gpt4o?.cacheRead).toBe(1.25e-6);
    expect(gpt4o?.cacheWrite).toBe(2.5e-6);
  });

  it('prices Anthropic cache writes at 1.25x and reads at 0.1x input', () => {
    for (const id of [
      'claude-3-5-sonnet',
      'claude-sonnet-4-5',
      'claude-opus-4-1',
      'claude-haiku-4-5',
    ]) {
      const price = book.resolve(id);
      expect(price?.provider).toBe('anthropic');
      expect(price?.cacheWrite).toBeCloseTo(1.25 * (price?.input ?? NaN), 15);
      expect(price?.cacheRead).toBeCloseTo(0.1 * (price?.input ?? NaN), 15);
    }
  });

  it('defaults the baseline to gpt-4 and resolves a configured one like any id', () => {
    expect(book.baseline.key).toBe('gpt-4');
    expect(book.baseline.input * 1e6).toBeCloseTo(30, 12);
    expect(book.baseline.output * 1e6).toBeCloseTo(60, 12);
    expect(loadPriceBook({ baselineModel: 'openai/gpt-4o-2024-08-06' }).baseline.key).toBe(
      'gpt-4o',
    );
  });

  it('rejects an unknown baseline model, naming it', () => {
    expect(() => loadPriceBook({ baselineModel: 'gpt-9000' })).toThrow(/"gpt-9000"/);
  });
});

describe('the bundled catalog', () => {
  const catalog = readPriceFile(bundledCatalogPath());

  it('is dated and has every model the brief lists', () => {
    expect(book.catalogDate).toBe('2026-12-01');
    const required = [
      ...['gpt-4', 'gpt-4-turbo', 'gpt-3.5-turbo', 'gpt-4o', 'gpt-4o-mini', 'gpt-4.1'],
      ...['gpt-4.1-mini', 'gpt-4.1-nano', 'o1', 'o1-mini', 'o3', 'o3-mini', 'o4-mini'],
      ...['gpt-5', 'gpt-5-mini', 'gpt-5-nano', 'gpt-5.1', 'gpt-5.2', 'gpt-5.4', 'gpt-5.5'],
      ...['text-embedding-3-small', 'text-embedding-3-large', 'text-embedding-ada-002'],
      ...['claude-3-haiku', 'claude-3-5-haiku', 'claude-3-opus', 'claude-3-5-sonnet'],
      ...['claude-3-7-sonnet', 'claude-sonnet-4', 'claude-opus-4', 'claude-opus-4-1'],
      ...['claude-sonnet-4-5', 'claude-haiku-4-5', 'claude-opus-4-5', 'claude-opus-4-6'],
    ];
    for (const id of required) expect(catalog.models.has(id), id).toBe(true);
  });

  it('gives tiers by the input-price bounds, except the documented small-model exceptions', () => {
    const exceptions = new Set([
      'gpt-3.5-turbo-1106',
      'gpt-4o-2024-05-13',
      'chatgpt-4o-latest',
      'gpt-5.6-luna',
      'claude-haiku-4-5',
    ]);
    for (const [key, { price }] of catalog.models) {
      if (!exceptions.has(key)) expect(price.tier, key).toBe(tierForInputRate(price.input));
    }
  });

  it('prices only OpenAI and Anthropic models, all with an input rate', () => {
    for (const [key, { price }] of catalog.models) {
      expect(['openai', 'anthropic'], key).toContain(price.provider);
      expect(price.input, key).toBeGreaterThan(0);
    }
  });
});

describe('memoisation', () => {
  it('answers a seen id, known or not, with a single Map lookup', () => {
    const resolver = new ModelResolver(readPriceFile(bundledCatalogPath()).models.values());
    const first = resolver.resolve('us.anthropic.claude-sonnet-4-20250514-v1:0');
    expect(resolver.resolve('no-such-model')).toBeUndefined();
    const get = vi.spyOn(Map.prototype, 'get');
    const again = resolver.resolve('us.anthropic.claude-sonnet-4-20250514-v1:0');
    const unknown = resolver.resolve('no-such-model');
    const lookups = get.mock.calls.length;
    get.mockRestore();
    expect(again).toBe(first);
    expect(unknown).toBeUndefined();
    expect(lookups).toBe(2);
  });
});
