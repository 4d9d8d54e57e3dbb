import type { BudgetProblem } from '../../src/contract/budget';
import { BudgetExceededError, BudgetUnavailableError } from '../errors';
import { countInternalError, warnOnce } from '../guard';
import type { SidecarFailMode } from '../types';
import type { SidecarAnswer, SidecarClient } from './client';
import type { Decision } from './gate';

/** Who a call is for, as the sidecar's caps see it (raw ids: the sidecar hashes if configured). */
export interface BudgetSubject {
  user?: string;
  feature?: string;
  plan?: string;
}

/** One call's reservation. */
export interface Reservation {
  readonly decision: Decision;
  /** Reports the call's actual cost and releases the reservation; only the first call counts. */
  settle(costUsd: number): void;
}

interface Outcome {
  /** Reservation id, when the sidecar reserved. */
  id?: string;
  refusal?: Error;
}

/** Stage of `llm_finops_internal_errors_total` counting sidecar failures. */
export const SIDECAR_STAGE = 'budget-sidecar';

/** The reserve/settle protocol of the budget sidecar, and what a call does when it fails. */
export class BudgetSidecar {
  constructor(
    private readonly client: SidecarClient,
    private readonly failMode: SidecarFailMode,
  ) {}

  reserve(subject: BudgetSubject, estimateUsd: number): Reservation {
    const outcome = this.client.post('/v1/reserve', { ...subject, estimate_usd: estimateUsd }).then(
      (answer) => this.decide(answer),
      (err: unknown) => this.failed('unavailable', `is unreachable (${messageOf(err)})`),
    );
    let settled = false;
    return {
      decision: outcome.then((o) => o.refusal),
      settle: (costUsd) => {
        if (settled) return;
        settled = true;
        void outcome.then((o) => {
          if (o.id !== undefined) this.settle(o.id, subject, costUsd);
        });
      },
    };
  }

  private decide({ status, body }: SidecarAnswer): Outcome {
    const answer = body as Record<string, unknown> | undefined;
    if (status === 200 && typeof answer?.id === 'string') return { id: answer.id };
    if (status === 402 && isProblem(answer)) return { refusal: new BudgetExceededError(answer) };
    const detail = typeof answer?.detail === 'string' ? `: ${answer.detail}` : '';
    if (status === 400) return this.failed('rejected', `rejected a reservation (400${detail})`);
    if (status === 401 || status === 403)
      return this.failed('unauthorized', `refused LLM_FINOPS_SIDECAR_TOKEN (${status}${detail})`);
    if (status === 200 || status === 402)
      return this.failed('unavailable', `answered ${status} with an unexpected body`);
    return this.failed('unavailable', `answered ${status}${detail}`);
  }

  /** Counts the failure, says so once per kind, and applies the fail mode. */
  private failed(kind: string, what: string): Outcome {
    countInternalError(SIDECAR_STAGE);
    const open = this.failMode === 'open';
    warnOnce(
      `sidecar:${kind}`,
      `budget sidecar ${this.client.origin} ${what}: calls ${
        open
          ? 'proceed without a budget check (LLM_FINOPS_SIDECAR_FAIL_MODE=open)'
          : 'fail with BudgetUnavailableError (LLM_FINOPS_SIDECAR_FAIL_MODE=closed)'
      }. Further failures are counted in llm_finops_internal_errors_total{stage="${SIDECAR_STAGE}"}, not logged.`,
    );
    return open ? {} : { refusal: new BudgetUnavailableError(`the budget sidecar ${what}`) };
  }

  private settle(id: string, subject: BudgetSubject, costUsd: number): void {
    const cost = Number.isFinite(costUsd) && costUsd > 0 ? costUsd : 0;
    const unsettled = (what: string): void => {
      countInternalError(SIDECAR_STAGE);
      warnOnce(
        'sidecar:settle',
        `budget sidecar ${this.client.origin}: settle ${what}; the reservation is released when it expires, and the cost counts once Prometheus has it. Further failures are counted in llm_finops_internal_errors_total{stage="${SIDECAR_STAGE}"}.`,
      );
    };
    this.client
      .post('/v1/settle', { id, cost_usd: cost, user: subject.user, feature: subject.feature })
      .then(
        ({ status }) => {
          if (status !== 200) unsettled(`answered ${status}`);
        },
        (err: unknown) => unsettled(`failed (${messageOf(err)})`),
      );
  }
}

function isProblem(body: Record<string, unknown> | undefined): body is BudgetProblem {
  return body?.status === 402 && typeof body.code === 'string';
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
