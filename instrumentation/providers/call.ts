import { observeApiPromise } from '../api-promise';
import type { BudgetEnforcer } from '../budget/enforcer';
import { reportInternalError } from '../guard';
import { LlmCall, type CallStart } from '../recorder';
import { getRuntime, type Runtime } from '../runtime';

/** How to instrument one SDK method call, decided from the call's arguments. */
export interface CallPlan {
  readonly start: CallStart;
  /** Replacement arguments (e.g. a body asking for stream usage); the caller's are never mutated. */
  readonly args?: unknown[];
  /** Consumes the parsed result: ends the call, or observes the stream that will end it. */
  observe(value: unknown, call: LlmCall): void;
}

export type Planner = (
  self: { _client?: object },
  args: unknown[],
  runtime: Runtime,
) => CallPlan | undefined;

type Method = (this: unknown, ...args: unknown[]) => unknown;

/**
 * Wraps an SDK `create` method. Whatever happens inside llm-finops, the original method is
 * called once with equivalent arguments and its return value (or synchronous throw) reaches the
 * caller as is.
 */
export function instrumentMethod(original: Method, planner: Planner): Method {
  return function instrumented(this: unknown, ...args: unknown[]): unknown {
    let plan: CallPlan | undefined;
    let call: LlmCall | undefined;
    let budget: BudgetEnforcer | undefined;
    try {
      const runtime = getRuntime();
      plan = planner(this as { _client?: object }, args, runtime);
      if (plan) call = new LlmCall(runtime, plan.start);
      budget = runtime.budget;
    } catch (err) {
      reportInternalError('start', err);
      plan = undefined;
      call = undefined;
    }
    if (!plan || !call) return original.apply(this, args);
    const active = call;
    const planned = plan;
    let callArgs = planned.args ?? args;
    if (budget) callArgs = budget.gate(this as { _client?: object }, callArgs, active);
    let result: unknown;
    try {
      result = active.runInSpan(() => original.apply(this, callArgs));
    } catch (err) {
      active.end({ error: err });
      throw err;
    }
    try {
      observeApiPromise(
        result,
        (value) => planned.observe(value, active),
        (err) => active.end({ error: err }),
      );
    } catch (err) {
      reportInternalError('observe', err);
    }
    return result;
  };
}

/** A non-negative integer `max_tokens`-style parameter, or undefined. */
export function intParam(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 ? v : undefined;
}

/** A string parameter, or undefined. */
export function strParam(v: unknown): string | undefined {
  return typeof v === 'string' && v.length > 0 ? v : undefined;
}
