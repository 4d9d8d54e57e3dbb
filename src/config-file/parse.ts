import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { LineCounter, isScalar, parseDocument, visit, type Document } from 'yaml';
import type { ConfigErrorClass, ConfigFileError, ConfigIssue, PathIssue } from './issues';
import { lineOfPath } from './positions';

export type Syntax = 'yaml' | 'json';

/** A parsed YAML or JSON document that still knows where each key was written. */
export interface PositionedDocument {
  readonly file: string;
  readonly doc: Document;
  readonly lines: LineCounter;
  readonly data: unknown;
}

/** The syntax by extension, else by the first character (JSON starts with `{` or `[`). */
export function syntaxOf(file: string, text: string): Syntax {
  const ext = extname(file).toLowerCase();
  if (ext === '.json') return 'json';
  if (ext === '.yaml' || ext === '.yml') return 'yaml';
  return /^\s*[{[]/.test(text) ? 'json' : 'yaml';
}

const READ_ERRORS: Record<string, string> = {
  ENOENT: 'no such file',
  EACCES: 'permission denied',
  EISDIR: 'is a directory',
};

/** The file's text; an unreadable file throws `errorClass` at line 0. */
export function readConfigText<E extends ConfigFileError>(
  file: string,
  errorClass: ConfigErrorClass<E>,
): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? '';
    const reason = READ_ERRORS[code] ?? (err instanceof Error ? err.message : String(err));
    throw new errorClass([{ file, line: 0, key: '', message: `cannot read: ${reason}` }]);
  }
}

/** JSON is YAML, so one parser gives line numbers for both; syntax errors throw `errorClass`. */
export function parseWithPositions<E extends ConfigFileError>(
  text: string,
  file: string,
  syntax: Syntax,
  errorClass: ConfigErrorClass<E>,
): PositionedDocument {
  const lines = new LineCounter();
  // The parser's own unique-key check compares every pair of keys: minutes for a budget config
  // with 100,000 user overrides. Ours below is one pass with a set.
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: false });
  const syntaxErrors = doc.errors.map((err) => ({ offset: err.pos[0], message: err.message }));
  // JSON objects may repeat a key (the last wins, as in JSON.parse); in YAML that is a mistake.
  if (syntax === 'yaml') syntaxErrors.push(...repeatedKeys(doc));
  syntaxErrors.sort((a, b) => a.offset - b.offset);
  const [first, ...rest] = syntaxErrors.map((err): ConfigIssue => ({
    file,
    line: lines.linePos(err.offset).line,
    key: '',
    message: `${syntax === 'json' ? 'JSON' : 'YAML'} syntax error: ${err.message}`,
  }));
  if (first) throw new errorClass([first, ...rest]);
  return { file, doc, lines, data: doc.toJS() as unknown };
}

/** Keys given twice in one mapping, at the second occurrence. */
function repeatedKeys(doc: Document): { offset: number; message: string }[] {
  const found: { offset: number; message: string }[] = [];
  visit(doc, {
    Map(_, map) {
      const seen = new Set<unknown>();
      for (const pair of map.items) {
        const key = isScalar(pair.key) ? pair.key.value : pair.key;
        if (seen.has(key)) {
          const offset = isScalar(pair.key) ? (pair.key.range?.[0] ?? 0) : 0;
          found.push({ offset, message: 'Map keys must be unique' });
        }
        seen.add(key);
      }
    },
  });
  return found;
}

/** Whether parsed data is a mapping (what every config file's top level is). */
export function isMapping(data: unknown): data is Record<string, unknown> {
  return typeof data === 'object' && data !== null && !Array.isArray(data);
}

/** The issue of a document that is not a mapping; `hint` says what the file should hold. */
export function notMappingIssue(data: unknown, hint: string): PathIssue {
  return {
    path: [],
    message: `${data == null ? 'the file is empty' : 'expected a mapping'}: ${hint}`,
  };
}

/**
 * Throws `errorClass` with each issue located at its key's line, in line order. `issues` is never
 * empty: callers pass a failed validation's issues.
 */
export function throwLocated<E extends ConfigFileError>(
  errorClass: ConfigErrorClass<E>,
  parsed: PositionedDocument,
  issues: readonly PathIssue[],
): never {
  const located = issues.map((issue): ConfigIssue => ({
    file: parsed.file,
    line: lineOfPath(parsed.doc, parsed.lines, issue.path),
    key: issue.path.join('.'),
    message: issue.message,
  }));
  located.sort((a, b) => a.line - b.line);
  throw new errorClass(located as [ConfigIssue, ...ConfigIssue[]]);
}
