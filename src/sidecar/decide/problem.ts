import {
  BUDGET_HEADERS,
  PROBLEM_TYPES,
  type BudgetProblem,
  type BudgetProblemCode,
} from '../../contract/budget';
import type { CapStatus } from './decision';

const TITLES: Record<BudgetProblemCode, string> = {
  user_budget_exceeded: 'User budget exceeded',
  feature_budget_exceeded: 'Feature budget exceeded',
  global_budget_exceeded: 'Organisation budget exceeded',
  budget_data_stale: 'Budget data unavailable',
};

/** The 402 body of DESIGN.md for a cap that denies. */
export function budgetProblem(
  status: CapStatus,
  code: BudgetProblemCode,
  upgrade: { url: string; message: string },
  detail?: string,
): BudgetProblem {
  return {
    type:
      code === 'budget_data_stale' ? PROBLEM_TYPES.budgetDataStale : PROBLEM_TYPES.budgetExceeded,
    title: TITLES[code],
    status: 402,
    detail: detail ?? upgrade.message,
    code,
    scope: status.scope,
    subject: status.subject,
    window: status.window,
    limit_usd: status.limit_usd,
    spent_usd: status.spent_usd,
    resets_at: rfc3339(status.resetsAt),
    upgrade_url: upgrade.url,
  };
}

/**
 * Remaining-budget headers of an allowed answer, from its tightest cap: a flat list of names and
 * values, as node:http's writeHead takes it without walking an object.
 */
export function remainingHeaders(tightest: CapStatus | undefined): string[] {
  if (!tightest) return [];
  return [
    BUDGET_HEADERS.remaining,
    tightest.remaining_usd.toFixed(6),
    BUDGET_HEADERS.limit,
    String(tightest.limit_usd),
    BUDGET_HEADERS.scope,
    tightest.scope,
    BUDGET_HEADERS.window,
    tightest.window,
    BUDGET_HEADERS.resetsAt,
    rfc3339(tightest.resetsAt),
    BUDGET_HEADERS.state,
    tightest.state,
  ];
}

/** Seconds from `now` to a reset time, at least 1 (a 0 would invite an immediate retry). */
export function retryAfter(resetsAt: number, now: number): string {
  return String(Math.max(1, Math.ceil((resetsAt - now) / 1000)));
}

/**
 * Formatted times by epoch ms. A decision formats every cap's reset time, and Date formatting
 * costs about a microsecond each, several per request; the reset times are a handful of values.
 */
const formatted = new Map<number, string>();

/** RFC 3339 in UTC, without milliseconds when they are zero (window boundaries always are). */
export function rfc3339(ms: number): string {
  let text = formatted.get(ms);
  if (text === undefined) {
    text = new Date(ms).toISOString().replace('.000Z', 'Z');
    // Reservation expiry times are all different: a bound, not an ever-growing cache.
    if (formatted.size >= 256) formatted.clear();
    formatted.set(ms, text);
  }
  return text;
}
