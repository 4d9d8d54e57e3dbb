import {
  capState,
  type BudgetProblem,
  type BudgetScope,
  type CapState,
} from '../../contract/budget';
import type { UserIdTransform } from '../../attribution/user-id';
import type { BudgetConfig, FailMode } from '../config/schema';
import type { BudgetLedger, SubjectKey } from '../ledger/ledger';
import type { SpendView } from '../spend/spend-reader';
import { windowAt } from '../../calendar/windows';
import { capsFor, type ApplicableCap } from './caps';
import { budgetProblem } from './problem';

/** One cap's standing for a request. */
export interface CapStatus {
  readonly scope: BudgetScope;
  readonly subject: string;
  readonly window: string;
  readonly limit_usd: number;
  /** Spend in Prometheus plus settled costs not yet there plus reservations in flight. */
  readonly spent_usd: number;
  readonly remaining_usd: number;
  readonly resetsAt: number;
  readonly state: CapState;
}

export interface Decision {
  readonly allowed: boolean;
  /** The worst state over the caps. */
  readonly state: CapState;
  readonly caps: readonly CapStatus[];
  /** The cap with the least remaining budget (what the remaining-budget headers describe). */
  readonly tightest?: CapStatus;
  readonly problem?: BudgetProblem;
  /** Ledger keys of the request's subjects (what a reservation holds). */
  readonly keys: readonly SubjectKey[];
  /** Scopes whose spend data was stale and followed fail mode `open`. */
  readonly failedOpen: readonly BudgetScope[];
}

/** A request for a decision; values are validated before. */
export interface DecisionRequest {
  readonly user?: string;
  readonly feature?: string;
  readonly plan?: string;
}

const PROBLEM_CODE = {
  user: 'user_budget_exceeded',
  feature: 'feature_budget_exceeded',
  global: 'global_budget_exceeded',
} as const;

/** The failedOpen of almost every decision: shared, so a decision does not allocate one. */
const NONE: BudgetScope[] = [];

/** Decides from memory: the latest spend view, the ledger and the config. No I/O. */
export class BudgetDecider {
  view: SpendView | undefined;

  constructor(
    public config: BudgetConfig,
    public userIds: UserIdTransform,
    readonly ledger: BudgetLedger,
  ) {}

  /** Ledger key of a subject; users by their telemetry label (raw or hashed). */
  keyOf(scope: BudgetScope, subject: string): SubjectKey {
    if (scope === 'global') return 'g';
    if (scope === 'feature') return `f:${subject}`;
    return `u:${this.userIds.apply(subject) ?? subject}`;
  }

  decide(request: DecisionRequest, now: number): Decision {
    const caps = capsFor(this.config.budgets, request);
    const keys: SubjectKey[] = ['g'];
    // Each subject's key once per decision (a user's may be an HMAC), not once per cap.
    const featureKey = request.feature ? this.keyOf('feature', request.feature) : 'g';
    const userKey = request.user ? this.keyOf('user', request.user) : 'g';
    if (request.feature) keys.push(featureKey);
    if (request.user) keys.push(userKey);

    const view = this.view;
    const stale = !view || now - view.at > this.config.prometheus.stale_after;
    const statuses: CapStatus[] = [];
    let failedOpen: BudgetScope[] = NONE;
    let staleDeny: CapStatus | undefined;
    for (const applicable of caps) {
      const key =
        applicable.scope === 'user' ? userKey : applicable.scope === 'feature' ? featureKey : 'g';
      if (stale) {
        if (this.failMode(applicable.scope) === 'open') {
          if (failedOpen === NONE) failedOpen = [];
          if (!failedOpen.includes(applicable.scope)) failedOpen.push(applicable.scope);
          continue;
        }
        staleDeny ??= this.status(applicable, key, view, now);
        continue;
      }
      statuses.push(this.status(applicable, key, view, now));
    }

    if (staleDeny) {
      const detail = `Spend data is older than ${this.config.prometheus.stale_after / 1000} s and the ${staleDeny.scope} budget fails closed; try again shortly.`;
      return {
        allowed: false,
        state: 'exceeded',
        caps: statuses,
        problem: budgetProblem(staleDeny, 'budget_data_stale', this.config.upgrade, detail),
        keys,
        failedOpen,
      };
    }

    let state: CapState = 'ok';
    let tightest: CapStatus | undefined;
    let denying: CapStatus | undefined;
    for (const s of statuses) {
      if (s.state === 'exceeded') {
        state = 'exceeded';
        // All exceeded caps must reset before a retry can pass: report the last to reset.
        if (!denying || s.resetsAt > denying.resetsAt) denying = s;
      } else if (s.state === 'warning' && state === 'ok') state = 'warning';
      if (!tightest || s.remaining_usd < tightest.remaining_usd) tightest = s;
    }
    return {
      allowed: !denying,
      state,
      caps: statuses,
      tightest,
      problem: denying
        ? budgetProblem(denying, PROBLEM_CODE[denying.scope], this.config.upgrade)
        : undefined,
      keys,
      failedOpen,
    };
  }

  private status(
    applicable: ApplicableCap,
    key: SubjectKey,
    view: SpendView | undefined,
    now: number,
  ): CapStatus {
    const { scope, subject, cap } = applicable;
    let span = view?.spans.get(cap.window);
    let fromProm = 0;
    if (!span || now >= span.resetsAt) {
      // A calendar window rolled over since the last refresh: nothing of it is in the view yet.
      span = windowAt(cap.window, now, this.config.timezone);
    } else if (view) {
      fromProm =
        scope === 'global'
          ? (view.global.get(cap.window) ?? 0)
          : (view.spend[scope].get(cap.window)?.get(scope === 'user' ? key.slice(2) : subject) ??
            0);
    }
    const spent = fromProm + this.ledger.settledFor(key, span.start) + this.ledger.reservedFor(key);
    const state = capState(spent, cap.limit_usd, cap.warn_at * cap.limit_usd);
    return {
      scope,
      subject,
      window: cap.window,
      limit_usd: cap.limit_usd,
      spent_usd: round6(spent),
      remaining_usd: round6(Math.max(0, cap.limit_usd - spent)),
      resetsAt: span.resetsAt,
      state,
    };
  }

  private failMode(scope: BudgetScope): FailMode {
    const mode = this.config.fail_mode;
    return typeof mode === 'string' ? mode : (mode[scope] ?? 'open');
  }
}

/** Money on the wire to the micro-dollar. */
function round6(usd: number): number {
  return Math.round(usd * 1e6) / 1e6;
}
