import type { ZodIssue } from 'zod';

/** One problem found in a config file, located by line and key path. */
export interface ConfigIssue {
  readonly file: string;
  /** 1-based line of the offending key (or of the syntax error); 0 when the file is unreadable. */
  readonly line: number;
  /** Dotted key path, e.g. `budgets.users.default.0.limit_usd`; empty for syntax errors. */
  readonly key: string;
  readonly message: string;
}

/** At least one issue: an error always has something to say. */
export type ConfigIssues = readonly [ConfigIssue, ...ConfigIssue[]];

/** `file:line: key: message`, the form editors and CI logs turn into links. */
export function formatIssue(issue: ConfigIssue): string {
  const where = issue.line > 0 ? `${issue.file}:${issue.line}` : issue.file;
  return issue.key ? `${where}: ${issue.key}: ${issue.message}` : `${where}: ${issue.message}`;
}

/**
 * A config file that cannot be used. Carries every issue found, not just the first, so that one
 * run shows all there is to fix; `file`, `line` and `key` are the first issue's.
 */
export class ConfigFileError extends Error {
  readonly file: string;
  readonly line: number;
  readonly key: string;
  readonly issues: ConfigIssues;

  constructor(issues: ConfigIssues) {
    super(issues.map(formatIssue).join('\n'));
    this.name = 'ConfigFileError';
    const [first] = issues;
    this.file = first.file;
    this.line = first.line;
    this.key = first.key;
    this.issues = issues;
  }
}

/** The constructor of a kind of config file's error, so that each kind throws its own class. */
export type ConfigErrorClass<E extends ConfigFileError> = new (issues: ConfigIssues) => E;

/** A problem at a key path of the parsed data, not yet located in the text. */
export interface PathIssue {
  readonly path: readonly (string | number)[];
  readonly message: string;
}

/**
 * Zod issues as path issues that name the key at fault: an unknown key becomes one issue at that
 * key (zod reports it at the parent), and a union that failed reports the branch that applied.
 */
export function pathIssuesOf(issues: readonly ZodIssue[]): PathIssue[] {
  return issues.flatMap((issue): PathIssue[] => {
    if (issue.code === 'unrecognized_keys')
      return issue.keys.map((key) => ({ path: [...issue.path, key], message: 'unknown key' }));
    if (issue.code === 'invalid_union') return pathIssuesOf(unionBranch(issue));
    return [{ path: issue.path, message: issue.message }];
  });
}

/**
 * The issues of the union branch meant by the value: a branch whose only complaint is the value's
 * type (e.g. "expected object" for `fail_mode: weird`) was not meant. Zod's own message for the
 * union, "Invalid input", would say nothing.
 */
function unionBranch(issue: Extract<ZodIssue, { code: 'invalid_union' }>): ZodIssue[] {
  const branches = issue.unionErrors.map((err) => err.issues);
  const typeOnly = (list: ZodIssue[]) =>
    list.every((i) => i.code === 'invalid_type' && i.path.length === issue.path.length);
  const meant = branches.filter((list) => !typeOnly(list));
  return (meant.length === 1 ? meant[0] : branches[0]) ?? [issue];
}
