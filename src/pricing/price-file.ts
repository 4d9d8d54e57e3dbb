import {
  isMapping,
  notMappingIssue,
  parseWithPositions,
  readConfigText,
  syntaxOf,
  throwLocated,
  type PositionedDocument,
} from '../config-file/parse';
import { pathIssuesOf, type PathIssue } from '../config-file/issues';
import { PricingFileError } from './errors';
import { toModelEntry, type ModelEntry } from './model-entry';
import { hasTokenRates, litellmFileSchema, priceFileSchema, type PriceEntryInput } from './schema';

/** A validated price file: our format or a LiteLLM price map. */
export interface PriceFile {
  readonly file: string;
  readonly format: 'llm-finops' | 'litellm';
  /** `catalog_date` (our format only). */
  readonly catalogDate?: string;
  /** Token-priced entries by model id, in file order. */
  readonly models: ReadonlyMap<string, ModelEntry>;
  /** Ids of LiteLLM entries not priced per token (images, audio seconds, queries), ignored. */
  readonly skipped: readonly string[];
}

/** Reads and validates a price file; throws `PricingFileError` naming every problem and its line. */
export function readPriceFile(file: string): PriceFile {
  return parsePriceFile(readConfigText(file, PricingFileError), file);
}

/** Validates price file text; `file` names it in errors and picks the syntax by extension. */
export function parsePriceFile(text: string, file: string): PriceFile {
  const syntax = syntaxOf(file, text);
  let parsed: PositionedDocument | undefined;
  let data: unknown;
  if (syntax === 'json') {
    // A LiteLLM file is ~1.6 MB: JSON.parse reads it in milliseconds where the YAML parser takes
    // a second, so the YAML parser (which keeps positions) only runs when there is an error.
    try {
      data = JSON.parse(text);
    } catch {
      parsed = parseWithPositions(text, file, syntax, PricingFileError);
      data = parsed.data;
    }
  } else {
    parsed = parseWithPositions(text, file, syntax, PricingFileError);
    data = parsed.data;
  }
  const result = validate(data, file);
  if ('issues' in result) {
    parsed ??= parseWithPositions(text, file, syntax, PricingFileError);
    throwLocated(PricingFileError, parsed, result.issues);
  }
  return result;
}

function validate(data: unknown, file: string): PriceFile | { issues: PathIssue[] } {
  if (!isMapping(data)) {
    const hint = 'a price file has models: (or is a LiteLLM price map)';
    return { issues: [notMappingIssue(data, hint)] };
  }
  if ('models' in data || 'catalog_date' in data) {
    const parsed = priceFileSchema.safeParse(data);
    if (!parsed.success) return { issues: pathIssuesOf(parsed.error.issues) };
    const models = entries(Object.entries(parsed.data.models), []);
    return {
      file,
      format: 'llm-finops',
      catalogDate: parsed.data.catalog_date,
      models,
      skipped: [],
    };
  }
  // LiteLLM documents its keys in a `sample_spec` pseudo-entry; it prices nothing.
  const flat: Record<string, unknown> = { ...data };
  delete flat.sample_spec;
  const parsed = litellmFileSchema.safeParse(flat);
  if (!parsed.success) return { issues: pathIssuesOf(parsed.error.issues) };
  const skipped: string[] = [];
  const models = entries(Object.entries(parsed.data), skipped);
  return { file, format: 'litellm', models, skipped };
}

function entries(list: [string, PriceEntryInput][], skipped: string[]): Map<string, ModelEntry> {
  const models = new Map<string, ModelEntry>();
  for (const [id, entry] of list) {
    if (hasTokenRates(entry)) models.set(id, toModelEntry(id, entry));
    else skipped.push(id);
  }
  return models;
}
