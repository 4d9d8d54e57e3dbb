import type { BudgetProblem } from '../../src/contract/budget';

/** One line for a 402: who, which cap, how much was spent, when it resets. */
export function denialLine(
  user: string,
  feature: string,
  problem: Partial<BudgetProblem>,
  retryAfter: string | null,
): string {
  return (
    `  402 ${user} ${feature}: ${problem.scope ?? '?'} "${problem.subject ?? '?'}" ` +
    `${problem.window ?? '?'} cap $${(problem.limit_usd ?? 0).toFixed(2)} reached ` +
    `(spent $${(problem.spent_usd ?? 0).toFixed(4)}), retry in ${hours(retryAfter)}`
  );
}

/** A problem+json body, or nothing usable. */
export function parseProblem(text: string): Partial<BudgetProblem> {
  try {
    return JSON.parse(text) as Partial<BudgetProblem>;
  } catch {
    return {};
  }
}

/** A Retry-After value in seconds as `4h 21m` (or `?` when absent). */
function hours(retryAfter: string | null): string {
  const s = Number(retryAfter);
  if (!retryAfter || !Number.isFinite(s)) return '?';
  return `${Math.floor(s / 3600)}h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}
