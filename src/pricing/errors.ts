/** One problem found in a price file, located by line and key path. */
export interface PricingIssue {
  readonly file: string;
  /** 1-based line of the offending key (or of the syntax error); 0 when the file is unreadable. */
  readonly line: number;
  /** Dotted key path, e.g. `models.gpt-x.input_cost_per_token`; empty for syntax errors. */
  readonly key: string;
  readonly message: string;
}

/** `file:line: key: message`, the form editors and CI logs turn into links. */
export function formatIssue(issue: PricingIssue): string {
  const where = issue.line > 0 ? `${issue.file}:${issue.line}` : issue.file;
  return issue.key ? `${where}: ${issue.key}: ${issue.message}` : `${where}: ${issue.message}`;
}

/**
 * A price file that cannot be used. Carries every issue found, not just the first, so that one
 * run of `llm-finops pricing check` shows all there is to fix; `file`, `line` and `key` are the
 * first issue's.
 */
export class PricingFileError extends Error {
  readonly file: string;
  readonly line: number;
  readonly key: string;
  readonly issues: readonly PricingIssue[];

  constructor(issues: readonly [PricingIssue, ...PricingIssue[]]) {
    super(issues.map(formatIssue).join('\n'));
    this.name = 'PricingFileError';
    const [first] = issues;
    this.file = first.file;
    this.line = first.line;
    this.key = first.key;
    this.issues = issues;
  }
}
