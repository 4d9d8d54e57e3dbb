import { PROBLEM_TYPES, type BudgetProblem } from '../src/contract/budget';

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

/** RFC 9457 problem details of a budget check that could not be made. */
export interface BudgetUnavailableProblem {
  type: string;
  title: string;
  status: 503;
  detail: string;
}

/**
 * Thrown by an instrumented SDK call instead of contacting the provider when the budget sidecar
 * gives no usable answer and LLM_FINOPS_SIDECAR_FAIL_MODE=closed. The Express error handler
 * turns it into HTTP 503.
 */
export class BudgetUnavailableError extends Error {
  readonly status = 503;
  /** Seconds a client should wait before trying again (the `Retry-After` value). */
  readonly retryAfterSeconds = 5;

  /** `reason` says what went wrong with the sidecar; it is not sent to the app's clients. */
  constructor(readonly reason: string) {
    super(`budget check unavailable: ${reason}`);
    this.name = 'BudgetUnavailableError';
  }

  get problem(): BudgetUnavailableProblem {
    return {
      type: PROBLEM_TYPES.budgetUnavailable,
      title: 'Budget check unavailable',
      status: 503,
      detail: 'The AI budget service is unavailable. Try again shortly.',
    };
  }
}

/** True for the errors of a call that budget enforcement refused (counted as `denied`). */
export function isBudgetRefusal(err: unknown): err is BudgetExceededError | BudgetUnavailableError {
  return err instanceof BudgetExceededError || err instanceof BudgetUnavailableError;
}

/**
 * The budget refusal in `err` or its `cause` chain: the SDKs' stream helpers (`messages.stream()`,
 * `chat.completions.stream()`, `runTools()`) rethrow it wrapped in their own error class.
 */
export function findBudgetRefusal(
  err: unknown,
): BudgetExceededError | BudgetUnavailableError | undefined {
  for (let e = err, depth = 0; e !== undefined && e !== null && depth < 5; depth++) {
    if (isBudgetRefusal(e)) return e;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}
