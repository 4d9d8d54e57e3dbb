import type { Command } from 'commander';
import { PricingFileError, formatIssue } from '../pricing/errors';
import { loadPriceBook, priceBookOptionsFromEnv } from '../pricing/price-book';
import { readPriceFile } from '../pricing/price-file';
import type { ModelPrice, PriceBook } from '../pricing/types';

/** Where the pricing commands write; tests and other commands can substitute their own. */
export interface Output {
  out(line: string): void;
  err(line: string): void;
}

const STDIO: Output = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
};

/** Adds the `pricing` command group (`show`, `check`) to the `llm-finops` program. */
export function registerPricingCommand(program: Command, io: Output = STDIO): Command {
  const pricing = program
    .command('pricing')
    .description('inspect model prices and validate price files');
  pricing
    .command('show')
    .description('show the catalog entry a model id resolves to, with its rates')
    .argument('<model>', 'model id as a provider reports it, e.g. openai/gpt-4o-2024-08-06')
    .option(
      '-f, --file <overrides>',
      'YAML or JSON price file merged over the bundled catalog (default: $LLM_FINOPS_PRICING_FILE)',
    )
    .option('--json', 'print JSON')
    .action((model: string, opts: ShowOptions) => {
      process.exitCode = showPrice(model, opts, io);
    });
  pricing
    .command('check')
    .description('validate a price file (our YAML/JSON format or a LiteLLM price map)')
    .argument('<file>', 'price file to validate')
    .action((file: string) => {
      process.exitCode = checkPriceFile(file, io);
    });
  return pricing;
}

interface ShowOptions {
  file?: string;
  json?: boolean;
}

const RATES = [
  ['input', 'input'],
  ['cache_read', 'cacheRead'],
  ['cache_write', 'cacheWrite'],
  ['output', 'output'],
  ['reasoning', 'reasoning'],
] as const satisfies readonly (readonly [string, keyof ModelPrice])[];

/** `pricing show`: prints the resolved entry; returns the exit code. */
export function showPrice(model: string, opts: ShowOptions, io: Output = STDIO): number {
  const overrideFile = opts.file ?? priceBookOptionsFromEnv().overrideFile;
  let book: PriceBook;
  try {
    book = loadPriceBook({ overrideFile });
  } catch (err) {
    return reportError(err, io);
  }
  const price = book.resolve(model);
  const sources = `the bundled catalog (${book.catalogDate})${overrideFile ? ` or ${overrideFile}` : ''}`;
  if (!price) {
    io.err(`unknown model "${model}": it is not priced in ${sources}.`);
    io.err('Add it to a price file and pass it with --file or LLM_FINOPS_PRICING_FILE.');
    return 1;
  }
  if (opts.json) {
    const perToken = Object.fromEntries(RATES.map(([name, field]) => [name, price[field]]));
    const perMillion = Object.fromEntries(
      RATES.map(([name, field]) => [name, toPerMillion(price[field])]),
    );
    const json = {
      model,
      resolved: price.key,
      provider: price.provider,
      tier: price.tier,
      catalog_date: book.catalogDate,
      override_file: overrideFile ?? null,
      usd_per_token: perToken,
      usd_per_million_tokens: perMillion,
    };
    io.out(JSON.stringify(json, null, 2));
    return 0;
  }
  io.out(`${model} -> ${price.key}`);
  io.out(`provider      ${price.provider}`);
  io.out(`tier          ${price.tier}`);
  io.out(`catalog       ${book.catalogDate}${overrideFile ? ` + ${overrideFile}` : ''}`);
  io.out('');
  io.out(`${'rate'.padEnd(14)}${'USD/token'.padEnd(14)}USD/1M tokens`);
  for (const [name, field] of RATES) {
    const rate = price[field];
    io.out(
      `${name.replace('_', ' ').padEnd(14)}${perTokenText(rate).padEnd(14)}${perMillionText(rate)}`,
    );
  }
  return 0;
}

/** `pricing check`: validates a price file; returns the exit code. */
export function checkPriceFile(file: string, io: Output = STDIO): number {
  try {
    const prices = readPriceFile(file);
    io.out(`ok: ${prices.models.size} models (${prices.skipped.length} skipped)`);
    return 0;
  } catch (err) {
    return reportError(err, io);
  }
}

function reportError(err: unknown, io: Output): number {
  if (err instanceof PricingFileError) for (const issue of err.issues) io.err(formatIssue(issue));
  else io.err(err instanceof Error ? err.message : String(err));
  return 1;
}

/** USD per 1M tokens without float noise (2.5e-6 * 1e6 is not always exactly 2.5). */
function toPerMillion(rate: number): number {
  return Number((rate * 1e6).toPrecision(12));
}

function perTokenText(rate: number): string {
  return rate === 0 ? '0' : Number(rate.toPrecision(12)).toExponential();
}

function perMillionText(rate: number): string {
  const fixed = toPerMillion(rate).toFixed(6).replace(/0+$/, '');
  const [units = '0', decimals = ''] = fixed.split('.');
  return `${units}.${decimals.padEnd(2, '0')}`;
}
