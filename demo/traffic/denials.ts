import type { BudgetProblem } from '../../src/contract/budget';

/**
 * Prints the 402s as they happen, one line each, at most one line per `intervalMs`: the ones in
 * between are counted and announced with the next line (a runaway client can get hundreds).
 */
export class DenialPrinter {
  private last = 0;
  private skipped = 0;

  constructor(
    private readonly out: (line: string) => void,
    private readonly intervalMs = 2_000,
  ) {}

  denied(user: string, feature: string, problem: Partial<BudgetProblem>, retryAfter: string): void {
    const now = Date.now();
    if (now - this.last < this.intervalMs) {
      this.skipped++;
      return;
    }
    this.last = now;
    const more = this.skipped ? ` (+${this.skipped} more 402s)` : '';
    this.skipped = 0;
    this.out(
      `  402 ${user} ${feature}: ${problem.scope ?? '?'} "${problem.subject ?? '?'}" ` +
        `${problem.window ?? '?'} cap $${(problem.limit_usd ?? 0).toFixed(2)} reached ` +
        `(spent $${(problem.spent_usd ?? 0).toFixed(4)}), retry in ${hours(retryAfter)}${more}`,
    );
  }
}

/** A Retry-After value in seconds as `4h 21m` (or `?` when absent). */
function hours(retryAfter: string): string {
  const s = Number(retryAfter);
  if (!retryAfter || !Number.isFinite(s)) return '?';
  return `${Math.floor(s / 3600)}h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}
