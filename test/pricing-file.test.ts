import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PricingFileError } from '../src/pricing/errors';
import { loadPriceBook } from '../src/pricing/price-book';
import { parsePriceFile, readPriceFile } from '../src/pricing/price-file';

const fixture = (name: string) => join(__dirname, 'fixtures', 'pricing', name);
const scratch = mkdtempSync(join(tmpdir(), 'llm-finops-pricing-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function writeScratch(name: string, text: string): string {
  const file = join(scratch, name);
  writeFileSync(file, text);
  return file;
}

/** The error a price file raises, for assertions on its fields. */
function errorOf(load: () => unknown): PricingFileError {
  try {
    load();
  } catch (err) {
    if (err instanceof PricingFileError) return err;
    throw err;
  }
  throw new Error('expected a PricingFileError');
}

describe('override files', () => {
  it('YAML: replaces a catalog entry whole and adds new models', () => {
    const book = loadPriceBook({ overrideFile: fixture('override.yaml') });
    expect(book.resolve('openai/gpt-4o-2024-08-06')).toEqual({
      key: 'gpt-4o',
      provider: 'openai',
      tier: 'standard', // from the input price: $2/1M
      input: 2e-6,
      output: 8e-6,
      cacheRead: 2e-6, // the override names no cache rate: the catalog's is not kept
      cacheWrite: 2e-6,
      reasoning: 8e-6,
    });
    const acme = book.resolve('acme-gpt');
    expect(acme).toMatchObject({ key: 'acme-gpt', provider: 'azure', tier: 'standard' });
    expect(acme?.cacheRead).toBe(1e-7);
    expect(book.resolve('acme-gpt-prod')).toBe(acme);
    expect(book.resolve('acme-deploy-eastus-7')).toBe(acme); // match regex
    expect(book.resolve('gpt-4o-mini')?.input).toBe(1.5e-7); // untouched catalog entry
    expect(book.catalogDate).toBe('2026-12-01');
  });

  it('JSON: same merge rules; embeddings need no output rate', () => {
    const book = loadPriceBook({ overrideFile: fixture('override.json') });
    expect(book.resolve('claude-sonnet-4-5-20250929')).toMatchObject({
      key: 'claude-sonnet-4-5',
      input: 2.7e-6,
      cacheWrite: 3.375e-6,
    });
    expect(book.resolve('ACME-EMBED-V2')).toMatchObject({
      key: 'acme-embed',
      provider: 'acme',
      tier: 'economy',
      input: 5e-8,
      output: 0,
    });
    expect(book.resolve('claude-sonnet-4')?.input).toBe(3e-6);
  });

  it('reads JSON content without a .json extension, and YAML likewise', () => {
    const json = writeScratch(
      'prices',
      '{"models": {"m": {"input_cost_per_token": 1e-6, "output_cost_per_token": 2e-6}}}',
    );
    expect(readPriceFile(json).models.get('m')?.price.output).toBe(2e-6);
    const yaml = writeScratch(
      'prices.conf',
      'models:\n  m:\n    input_cost_per_token: 1.0e-6\n    output_cost_per_token: 3.0e-6\n',
    );
    expect(readPriceFile(yaml).models.get('m')?.price.output).toBe(3e-6);
  });
});

describe('LiteLLM price maps, as is', () => {
  const file = readPriceFile(fixture('litellm-excerpt.json'));

  it('keeps token-priced entries and skips the others, ignoring sample_spec', () => {
    expect(file.format).toBe('litellm');
    expect([...file.models.keys()].sort()).toEqual([
      'anthropic.claude-3-5-sonnet-20240620-v1:0',
      'azure/eu/gpt-4o-2024-08-06',
      'azure_ai/Phi-4-mini-instruct',
      'gpt-4o',
      'o1-pro',
      'oci/cohere.embed-multilingual-image-v3.0',
      'text-embedding-3-small',
      'us.anthropic.claude-sonnet-4-20250514-v1:0',
    ]);
    expect([...file.skipped].sort()).toEqual([
      '1024-x-1024/dall-e-2',
      'amazon.nova-canvas-v1:0',
      'bedrock/us-west-2/1-month-commitment/anthropic.claude-v1',
      'gpt-image-1',
      'groq/playai-tts',
      'whisper-1',
    ]);
  });

  it('gives our keys defaults: tier from the input price, no aliases', () => {
    const tier = (id: string) => file.models.get(id)?.price.tier;
    expect(tier('azure_ai/Phi-4-mini-instruct')).toBe('economy'); // $0.075/1M
    expect(tier('gpt-4o')).toBe('standard'); // $2.50/1M
    expect(tier('o1-pro')).toBe('premium'); // $150/1M
    expect(file.models.get('us.anthropic.claude-sonnet-4-20250514-v1:0')).toEqual({
      price: {
        key: 'us.anthropic.claude-sonnet-4-20250514-v1:0',
        provider: 'bedrock_converse',
        tier: 'standard',
        input: 3e-6,
        output: 1.5e-5,
        cacheRead: 3e-7,
        cacheWrite: 3.75e-6,
        reasoning: 1.5e-5,
      },
      mode: 'chat',
      aliases: [],
    });
  });

  it('works as an override file: its own ids win, the catalog prices the rest', () => {
    const book = loadPriceBook({ overrideFile: fixture('litellm-excerpt.json') });
    expect(book.resolve('azure/eu/gpt-4o-2024-08-06')?.input).toBe(2.75e-6);
    expect(book.resolve('bedrock/anthropic.claude-3-5-sonnet-20240620-v1:0')?.provider).toBe(
      'bedrock',
    );
    expect(book.resolve('claude-3-5-sonnet-20240620')?.provider).toBe('anthropic');
  });
});

describe('errors name file, line and key path', () => {
  it('reports every problem of a YAML file at its line', () => {
    const err = errorOf(() => readPriceFile(fixture('bad.yaml')));
    const file = fixture('bad.yaml');
    expect(err.issues.map((i) => `${i.line}: ${i.key}: ${i.message}`)).toEqual([
      '5: models.gpt-x.input_cost_per_token: expected a number >= 0, got string',
      '9: models.gpt-y.output_cost_per_token: expected a number >= 0',
      '13: models.gpt-z.tier: expected one of economy | standard | premium, got "gold"',
      '14: models.gpt-w.input_cost_per_token: required',
    ]);
    expect([err.file, err.line, err.key]).toEqual([file, 5, 'models.gpt-x.input_cost_per_token']);
    expect(err.message.split('\n')[0]).toBe(
      `${file}:5: models.gpt-x.input_cost_per_token: expected a number >= 0, got string`,
    );
  });

  it('locates errors in JSON files too', () => {
    const err = errorOf(() => readPriceFile(fixture('bad.json')));
    expect(err.message.split('\n')).toEqual([
      `${fixture('bad.json')}:9: models.gpt-x.output_cost_per_token: expected a number >= 0`,
      `${fixture('bad.json')}:10: models.gpt-x.aliases.0: "gpt-ok" already names model gpt-ok`,
    ]);
  });

  it('reports YAML and JSON syntax errors with their line', () => {
    const yaml = writeScratch(
      'syntax.yaml',
      'models:\n  gpt-x:\n    input_cost_per_token: [1\n  gpt-y: {}\n',
    );
    const yamlErr = errorOf(() => readPriceFile(yaml));
    expect(yamlErr.message).toMatch(new RegExp(`^${yaml}:\\d+: YAML syntax error: `));
    expect(yamlErr.line).toBeGreaterThanOrEqual(3);
    const json = writeScratch('syntax.json', '{\n  "models": {\n    "m": {,}\n  }\n}\n');
    const jsonErr = errorOf(() => readPriceFile(json));
    expect(jsonErr.message).toMatch(new RegExp(`^${json}:3: JSON syntax error: `));
  });

  it('names the line of a bad LiteLLM entry', () => {
    const text =
      '{\n  "sample_spec": {"max_tokens": "docs"},\n  "m": {\n    "input_cost_per_token": "1e-6",\n    "output_cost_per_token": 1e-6\n  }\n}\n';
    expect(errorOf(() => parsePriceFile(text, 'prices.json')).message).toBe(
      'prices.json:4: m.input_cost_per_token: expected a number >= 0, got string',
    );
  });

  it.each([
    ['', 'prices.yaml:1: the file is empty: a price file has models: (or is a LiteLLM price map)'],
    [
      '- a\n- b\n',
      'prices.yaml:1: expected a mapping: a price file has models: (or is a LiteLLM price map)',
    ],
    ['models:\n  m: 3\n', 'prices.yaml:2: models.m: expected a mapping of price keys to values'],
    [
      "catalog_date: 'Dec 2026'\nmodels: {}\n",
      'prices.yaml:1: catalog_date: expected a date YYYY-MM-DD',
    ],
    [
      "models:\n  m:\n    input_cost_per_token: 1.0e-6\n    output_cost_per_token: 1.0e-6\n    match: '(unclosed'\n",
      'prices.yaml:5: models.m.match: not a valid regular expression',
    ],
    [
      'models:\n  a:\n    input_cost_per_token: 1.0e-6\n    output_cost_per_token: 1.0e-6\n  b:\n    input_cost_per_token: 1.0e-6\n    output_cost_per_token: 1.0e-6\n    aliases: [x, A]\n',
      'prices.yaml:8: models.b.aliases.1: "A" already names model a',
    ],
    [
      'models:\n  m:\n    input_cost_per_token: 1.0e-6\n    mode: chat\n',
      'prices.yaml:2: models.m.output_cost_per_token: required (0 for embeddings)',
    ],
    ['foo: bar\n', 'prices.yaml:1: foo: expected a mapping of price keys to values'],
  ])('%j', (text, message) => {
    expect(errorOf(() => parsePriceFile(text, 'prices.yaml')).message).toBe(message);
  });

  it('says when a file cannot be read', () => {
    const missing = join(scratch, 'missing.yaml');
    expect(errorOf(() => readPriceFile(missing)).message).toBe(
      `${missing}: cannot read: no such file`,
    );
    expect(() => loadPriceBook({ overrideFile: missing })).toThrow(PricingFileError);
  });
});
