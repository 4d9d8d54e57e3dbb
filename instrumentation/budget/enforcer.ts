import type { UserIdTransform } from '../../src/attribution/user-id';
import type { PriceBook } from '../../src/pricing/types';
import { reportInternalError, warnOnce } from '../guard';
import type { LlmCall } from '../recorder';
import type { LlmFinopsInstrumentationConfig } from '../types';
import { SidecarClient } from './client';
import { estimateCostUsd } from './estimate';
import { gatedArgs, hookClient } from './gate';
import { BudgetSidecar, type BudgetSubject } from './sidecar';

/** Pre-flight budget enforcement (LLM_FINOPS_SIDECAR_URL): one reservation per provider call. */
export class BudgetEnforcer {
  private readonly sidecar: BudgetSidecar;
  private readonly outputTokens: number;

  constructor(
    config: LlmFinopsInstrumentationConfig & { sidecarUrl: string },
    private readonly prices: PriceBook,
    private readonly userIds: UserIdTransform,
  ) {
    const client = new SidecarClient(
      config.sidecarUrl,
      config.sidecarTimeoutMs ?? 500,
      config.sidecarToken,
    );
    this.sidecar = new BudgetSidecar(client, config.sidecarFailMode ?? 'open');
    this.outputTokens = config.reserveOutputTokens ?? 1024;
  }

  /**
   * Starts the call's reservation and returns the SDK arguments that hold its request until the
   * sidecar answers; the call settles when it ends. On an internal error the arguments come back
   * unchanged: a bug of ours must not stop the app's calls.
   */
  gate(self: { _client?: object }, args: unknown[], call: LlmCall): unknown[] {
    try {
      if (!hookClient(self._client)) {
        warnOnce(
          'budget-unhookable',
          `budgets are not enforced for ${call.start.fallbackProvider} calls: the SDK client has no prepareOptions (an SDK version llm-finops does not know)`,
        );
        return args;
      }
      const body = (args[0] ?? {}) as Record<string, unknown>;
      const estimate = estimateCostUsd(
        this.prices.resolve(call.start.requestModel),
        call.start,
        body,
        this.outputTokens,
      );
      // Inside the call's span, so an HTTP instrumentation's span of the reservation nests under it.
      const reservation = call.runInSpan(() =>
        this.sidecar.reserve(this.subjectOf(call), estimate),
      );
      call.reservation = reservation;
      return gatedArgs(args, reservation.decision);
    } catch (err) {
      reportInternalError('budget-gate', err);
      return args;
    }
  }

  private subjectOf(call: LlmCall): BudgetSubject {
    const { attribution } = call;
    return {
      // `off` records no user anywhere, so user caps do not apply; the sidecar hashes raw ids.
      user: this.userIds.mode === 'off' ? undefined : (attribution.user ?? call.start.requestUser),
      feature: attribution.feature,
      plan: attribution.plan,
    };
  }
}
