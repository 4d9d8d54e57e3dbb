import { context, createContextKey, propagation, type Context } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { BAGGAGE_KEYS } from '../src/contract/attributes';
import type { Attribution } from './types';

const ATTRIBUTION_KEY = createContextKey('llm-finops.attribution');

/** Where the OTel API keeps its globals (API major version 1). */
const API_GLOBAL = Symbol.for('opentelemetry.js.api.1');

/**
 * Attribution travels in the OTel context, which needs a context manager. An app with its own OTel
 * SDK has one; for the others we install the AsyncLocalStorage one, once, when attribution is
 * first used: on Node 20 an active AsyncLocalStorage makes every promise of the process pay for
 * async hooks, a cost an app that never attributes calls should not carry.
 */
export function ensureContextManager(): void {
  const globals = (globalThis as Record<symbol, { context?: unknown } | undefined>)[API_GLOBAL];
  if (globals?.context) return;
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
}

/**
 * Runs `fn` with the given attribution; every LLM call made inside it, across awaits, is
 * attributed to it. Nested calls override only the fields they give.
 */
export function withAttribution<T>(attribution: Attribution, fn: () => T): T {
  ensureContextManager();
  const parent = context.active();
  const outer = parent.getValue(ATTRIBUTION_KEY) as Attribution | undefined;
  const merged: Attribution = { ...outer };
  if (attribution.user) merged.user = String(attribution.user);
  if (attribution.session) merged.session = String(attribution.session);
  if (attribution.feature) merged.feature = String(attribution.feature);
  if (attribution.plan) merged.plan = String(attribution.plan);
  return context.with(parent.setValue(ATTRIBUTION_KEY, merged), fn);
}

/** Attribution of the active context: explicit withAttribution first, then W3C baggage. */
export function currentAttribution(ctx: Context = context.active()): Attribution {
  const explicit = ctx.getValue(ATTRIBUTION_KEY) as Attribution | undefined;
  const baggage = propagation.getBaggage(ctx);
  if (!baggage) return explicit ?? {};
  return {
    user: explicit?.user ?? baggage.getEntry(BAGGAGE_KEYS.user)?.value,
    session: explicit?.session ?? baggage.getEntry(BAGGAGE_KEYS.session)?.value,
    feature: explicit?.feature ?? baggage.getEntry(BAGGAGE_KEYS.feature)?.value,
    plan: explicit?.plan ?? baggage.getEntry(BAGGAGE_KEYS.plan)?.value,
  };
}
