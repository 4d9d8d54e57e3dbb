import { ConfigFileError, type ConfigIssue, type ConfigIssues } from '../config-file/issues';

export { formatIssue } from '../config-file/issues';

/** One problem found in a price file, located by line and key path. */
export type PricingIssue = ConfigIssue;

/**
 * A price file that cannot be used. Carries every issue found, not just the first, so that one
 * run of `llm-finops pricing check` shows all there is to fix; `file`, `line` and `key` are the
 * first issue's.
 */
export class PricingFileError extends ConfigFileError {
  constructor(issues: ConfigIssues) {
    super(issues);
    this.name = 'PricingFileError';
  }
}
