/** RFC 9457 problem details of a budget denial, as the sidecar sends them (DESIGN.md). */
export interface BudgetProblem {
  type: string;
  title: string;
  status: 402;
  detail: string;
  code: 'user_budget_exceeded' | 'feature_budget_exceeded' | 'global_budget_exceeded';
  scope: 'user' | 'feature' | 'global';
  subject: string;
  window: string;
  limit_usd: number;
  spent_usd: number;
  /** RFC 3339 time the window resets. */
  resets_at: string;
  upgrade_url?: string;
  [extension: string]: unknown;
}

/**
 * Thrown by an instrumented SDK call instead of contacting the provider when a budget cap is
 * reached. The Express error handler turns it into the HTTP 402 response.
 */
export class BudgetExceededError extends Error {
  readonly status = 402;

  constructor(readonly problem: BudgetProblem) {
    super(problem.detail || problem.title);
    this.name = 'BudgetExceededError';
  }

  /** Seconds until the window resets (the `Retry-After` value), at least 0. */
  get retryAfterSeconds(): number {
    const ms = Date.parse(this.problem.resets_at) - Date.now();
    return Number.isFinite(ms) ? Math.max(0, Math.ceil(ms / 1000)) : 0;
  }
}
