import type { BudgetProblem } from '../src/contract/budget';

export type { BudgetProblem };

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
