import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { LineCounter, parseDocument, type Document } from 'yaml';
import type { ZodIssue } from 'zod';
import { PricingFileError, type PricingIssue } from './errors';
import { toModelEntry, type ModelEntry } from './model-entry';
import { lineOfPath } from './positions';
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

type Syntax = 'yaml' | 'json';

/** Reads and validates a price file; throws `PricingFileError` naming every problem and its line. */
export function readPriceFile(file: string): PriceFile {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : String(err);
    throw new PricingFileError([{ file, line: 0, key: '', message: `cannot read: ${reason}` }]);
  }
  return parsePriceFile(text, file);
}

/** Validates price file text; `file` names it in errors and picks the syntax by extension. */
export function parsePriceFile(text: string, file: string): PriceFile {
  const syntax = syntaxOf(file, text);
  let parsed: Parsed | undefined;
  let data: unknown;
  if (syntax === 'json') {
    // A LiteLLM file is ~1.6 MB: JSON.parse reads it in milliseconds where the YAML parser takes
    // a second, so the YAML parser (which keeps positions) only runs when there is an error.
    try {
      data = JSON.parse(text);
    } catch {
      parsed = parseWithPositions(text, file, syntax);
      data = parsed.data;
    }
  } else {
    parsed = parseWithPositions(text, file, syntax);
    data = parsed.data;
  }
  const result = validate(data, file);
  if ('issues' in result) {
    parsed ??= parseWithPositions(text, file, syntax);
    const { doc, lines } = parsed;
    const located = result.issues.map((issue): PricingIssue => ({
      file,
      line: lineOfPath(doc, lines, issue.path),
      key: issue.path.join('.'),
      message: issue.message,
    }));
    located.sort((a, b) => a.line - b.line);
    throw new PricingFileError(located as [PricingIssue, ...PricingIssue[]]);
  }
  return result;
}

function syntaxOf(file: string, text: string): Syntax {
  const ext = extname(file).toLowerCase();
  if (ext === '.json') return 'json';
  if (ext === '.yaml' || ext === '.yml') return 'yaml';
  return /^\s*[{[]/.test(text) ? 'json' : 'yaml';
}

interface Parsed {
  doc: Document;
  lines: LineCounter;
  data: unknown;
}

/** JSON is YAML, so one parser gives line numbers for both; syntax errors are thrown here. */
function parseWithPositions(text: string, file: string, syntax: Syntax): Parsed {
  const lines = new LineCounter();
  // JSON objects may repeat a key (the last wins, as in JSON.parse); in YAML that is a mistake.
  const doc = parseDocument(text, {
    lineCounter: lines,
    prettyErrors: false,
    uniqueKeys: syntax === 'yaml',
  });
  const [first, ...rest] = doc.errors.map((err): PricingIssue => ({
    file,
    line: lines.linePos(err.pos[0]).line,
    key: '',
    message: `${syntax === 'json' ? 'JSON' : 'YAML'} syntax error: ${err.message}`,
  }));
  if (first) throw new PricingFileError([first, ...rest]);
  return { doc, lines, data: doc.toJS() as unknown };
}

interface PathIssue {
  path: (string | number)[];
  message: string;
}

function validate(data: unknown, file: string): PriceFile | { issues: PathIssue[] } {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    const message = data == null ? 'the file is empty' : 'expected a mapping';
    return {
      issues: [
        { path: [], message: `${message}: a price file has models: (or is a LiteLLM price map)` },
      ],
    };
  }
  if ('models' in data || 'catalog_date' in data) {
    const parsed = priceFileSchema.safeParse(data);
    if (!parsed.success) return { issues: parsed.error.issues.map(pathIssue) };
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
  if (!parsed.success) return { issues: parsed.error.issues.map(pathIssue) };
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

function pathIssue(issue: ZodIssue): PathIssue {
  return { path: issue.path, message: issue.message };
}
