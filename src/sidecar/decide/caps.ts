import type { BudgetScope } from '../../contract/budget';
import type { BudgetConfig, Cap } from '../config/schema';

/** The caps that apply to one request, with the subject each one limits. */
export interface ApplicableCap {
  readonly scope: BudgetScope;
  /** The subject as the caller named it (user id, feature, or `global`). */
  readonly subject: string;
  readonly cap: Cap;
}

/** The request is invalid (unknown plan): answered with 400. */
export class UnknownPlanError extends Error {}

/** Looks up the caps of a request in the config: overrides, then the plan, then the default. */
export function capsFor(
  budgets: BudgetConfig['budgets'],
  request: { user?: string; feature?: string; plan?: string },
): ApplicableCap[] {
  const out: ApplicableCap[] = [];
  for (const cap of budgets.global ?? []) out.push({ scope: 'global', subject: 'global', cap });
  // Own keys only: a feature named `constructor` or `__proto__` must not find Object's members.
  if (request.feature && Object.hasOwn(budgets.features, request.feature)) {
    for (const cap of budgets.features[request.feature] ?? [])
      out.push({ scope: 'feature', subject: request.feature, cap });
  }
  if (request.plan !== undefined && !Object.hasOwn(budgets.users.plans, request.plan)) {
    throw new UnknownPlanError(
      `unknown plan "${request.plan}"; configured plans: ${Object.keys(budgets.users.plans).join(', ') || 'none'}`,
    );
  }
  if (request.user) {
    const caps =
      (Object.hasOwn(budgets.users.overrides, request.user)
        ? budgets.users.overrides[request.user]
        : undefined) ??
      (request.plan !== undefined ? budgets.users.plans[request.plan] : undefined) ??
      budgets.users.default ??
      [];
    for (const cap of caps) out.push({ scope: 'user', subject: request.user, cap });
  }
  return out;
}

/** Every window name used by a cap (what spend must be read for). */
export function windowsOf(budgets: BudgetConfig['budgets']): string[] {
  const all = [
    ...(budgets.global ?? []),
    ...Object.values(budgets.features).flat(),
    ...(budgets.users.default ?? []),
    ...Object.values(budgets.users.plans).flat(),
    ...Object.values(budgets.users.overrides).flat(),
  ];
  return [...new Set(all.map((c) => c.window))];
}
