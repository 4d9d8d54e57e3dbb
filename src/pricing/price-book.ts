import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { ModelEntry } from './model-entry';
import { readPriceFile, type PriceFile } from './price-file';
import { ModelResolver } from './resolve';
import type { ModelPrice, PriceBook } from './types';

/** The model whose rates price the "what it would have cost" baseline, unless configured. */
export const DEFAULT_BASELINE_MODEL = 'gpt-4';

/** Where prices come from. */
export interface PriceBookOptions {
  /** YAML or JSON price file (our format or LiteLLM's) merged over the bundled catalog. */
  overrideFile?: string;
  /** Baseline model id, resolved like any model id (default `gpt-4`). */
  baselineModel?: string;
}

/** Options from `LLM_FINOPS_PRICING_FILE` and `LLM_FINOPS_BASELINE_MODEL` (empty means unset). */
export function priceBookOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): PriceBookOptions {
  return {
    overrideFile: env.LLM_FINOPS_PRICING_FILE || undefined,
    baselineModel: env.LLM_FINOPS_BASELINE_MODEL || undefined,
  };
}

/**
 * The bundled catalog merged with an optional override file. Throws `PricingFileError` for a bad
 * file and an `Error` naming the id for an unknown baseline model.
 */
export function loadPriceBook(options: PriceBookOptions = {}): PriceBook {
  const catalog = readPriceFile(bundledCatalogPath());
  const override = options.overrideFile ? readPriceFile(options.overrideFile) : undefined;
  return createPriceBook(catalog, override, options.baselineModel);
}

/**
 * A price book from parsed files. An override entry replaces the catalog entry of the same key
 * whole (rates, tier, aliases), and new keys are added; on an id both could claim, the override
 * file wins.
 */
export function createPriceBook(
  catalog: PriceFile,
  override?: PriceFile,
  baselineModel: string = DEFAULT_BASELINE_MODEL,
): PriceBook {
  const entries: ModelEntry[] = [...(override?.models.values() ?? [])];
  for (const [key, entry] of catalog.models) if (!override?.models.has(key)) entries.push(entry);
  const resolver = new ModelResolver(entries);
  const baseline = resolver.resolve(baselineModel);
  if (!baseline) {
    const where = override ? `${catalog.file} or ${override.file}` : catalog.file;
    throw new Error(`unknown baseline model "${baselineModel}": it is not priced in ${where}`);
  }
  const catalogDate = catalog.catalogDate ?? 'undated';
  return {
    catalogDate,
    baseline,
    resolve: (model: string): ModelPrice | undefined => resolver.resolve(model),
  };
}

let bundledPath: string | undefined;

/**
 * Path of the bundled `pricing/catalog.yaml`, found by walking up from this module: the same code
 * runs from `src/pricing` (tests), `dist/src/pricing` (the build) and an installed package.
 */
export function bundledCatalogPath(): string {
  if (bundledPath) return bundledPath;
  for (let dir = __dirname; ; dir = dirname(dir)) {
    const candidate = join(dir, 'pricing', 'catalog.yaml');
    if (existsSync(candidate)) return (bundledPath = candidate);
    if (dirname(dir) === dir) break;
  }
  throw new Error(`llm-finops: bundled pricing/catalog.yaml not found above ${__dirname}`);
}
