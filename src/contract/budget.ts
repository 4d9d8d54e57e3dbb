/**
 * The budget sidecar's wire contract (DESIGN.md "Budgets"): problem details of a denial and the
 * headers of its answers. The sidecar writes them, the instrumentation and the proxies read them.
 */

export type BudgetScope = 'user' | 'feature' | 'global';

export type BudgetProblemCode =
  | 'user_budget_exceeded'
  | 'feature_budget_exceeded'
  | 'global_budget_exceeded'
  /** Spend data is older than `stale_after` and the scope's fail mode is `closed`. */
  | 'budget_data_stale';

/** RFC 9457 problem details of a budget denial (HTTP 402). */
export interface BudgetProblem {
  type: string;
  title: string;
  status: 402;
  /** The upgrade message. */
  detail: string;
  code: BudgetProblemCode;
  scope: BudgetScope;
  subject: string;
  window: string;
  limit_usd: number;
  spent_usd: number;
  /** RFC 3339 time the window resets. */
  resets_at: string;
  upgrade_url?: string;
  [extension: string]: unknown;
}

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

/** Problem `type` URIs (stable identifiers, documented in docs/budgets.md). */
export const PROBLEM_TYPES = {
  budgetExceeded: 'https://llm-finops.dev/problems/budget-exceeded',
  budgetDataStale: 'https://llm-finops.dev/problems/budget-data-stale',
  /** The instrumentation could not ask the sidecar and fails closed (HTTP 503 from the app). */
  budgetUnavailable: 'https://llm-finops.dev/problems/budget-unavailable',
  invalidRequest: 'https://llm-finops.dev/problems/invalid-request',
  unauthorized: 'https://llm-finops.dev/problems/unauthorized',
  notFound: 'https://llm-finops.dev/problems/not-found',
  payloadTooLarge: 'https://llm-finops.dev/problems/payload-too-large',
  notReady: 'https://llm-finops.dev/problems/not-ready',
} as const;

/** Headers of the sidecar's answers. */
export const BUDGET_HEADERS = {
  /** On 200: the smallest remaining budget over the caps that apply, in USD. */
  remaining: 'x-llm-budget-remaining-usd',
  /** On 200: the limit, scope, subject, window and reset time of that tightest cap. */
  limit: 'x-llm-budget-limit-usd',
  scope: 'x-llm-budget-scope',
  window: 'x-llm-budget-window',
  resetsAt: 'x-llm-budget-resets-at',
  /** `ok`, `warning` (at or above warn_at) or `exceeded`. */
  state: 'x-llm-budget-state',
  /** nginx mode: the status nginx should answer with (402 or 400) in place of the 403. */
  nginxStatus: 'x-llm-budget-status',
  /** nginx mode: the problem+json body, on one line, for nginx to send. */
  nginxProblem: 'x-llm-budget-problem',
} as const;

/** A cap's state: `warning` from its warning spend (limit x warn_at), `exceeded` from its limit. */
export type CapState = 'ok' | 'warning' | 'exceeded';

/** The state of a cap at a spend; the one rule for decisions, gauges and the report. */
export function capState(spent: number, limitUsd: number, warnUsd: number): CapState {
  return spent >= limitUsd ? 'exceeded' : spent >= warnUsd ? 'warning' : 'ok';
}
