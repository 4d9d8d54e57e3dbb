import { context, propagation } from '@opentelemetry/api';
import { W3CBaggagePropagator } from '@opentelemetry/core';
import { DEFAULT_HEADERS } from '../src/contract/attributes';
import { PROBLEM_CONTENT_TYPE } from '../src/contract/budget';
import { ensureContextManager, withAttribution } from './attribution';
import { BudgetExceededError, findBudgetRefusal } from './errors';
import type { Attribution } from './types';

/** Minimal request/response shapes, so Express is not a dependency of the package. */
interface Req {
  headers: Record<string, string | string[] | undefined>;
}
interface Res {
  headersSent?: boolean;
  status(code: number): Res;
  setHeader(name: string, value: string): unknown;
  end(body: string): unknown;
}
type Next = (err?: unknown) => void;

/** Options of the Express middleware. */
export interface MiddlewareOptions {
  /** Header names to read attribution from (default `x-llm-user`, `x-llm-session`, `x-llm-feature`, `x-llm-plan`). */
  headers?: Partial<Record<keyof Attribution, string>>;
  /** Feature to use when the request names none (e.g. per router). */
  defaultFeature?: string;
}

const baggagePropagator = new W3CBaggagePropagator();
const headerGetter = {
  keys: (carrier: Req['headers']) => Object.keys(carrier),
  get: (carrier: Req['headers'], key: string) => carrier[key],
};

function header(req: Req, name: string): string | undefined {
  const v = req.headers[name.toLowerCase()];
  const s = Array.isArray(v) ? v[0] : v;
  return s ? s.trim() || undefined : undefined;
}

/**
 * Express middleware: attributes every LLM call made while handling the request to the user,
 * session and feature named by its headers (then its W3C `baggage` header).
 */
export function expressMiddleware(
  options: MiddlewareOptions = {},
): (req: Req, res: Res, next: Next) => void {
  const names = { ...pick(DEFAULT_HEADERS), ...options.headers };
  return (req, _res, next) => {
    ensureContextManager();
    let ctx = context.active();
    if (req.headers.baggage) ctx = baggagePropagator.extract(ctx, req.headers, headerGetter);
    const attribution: Attribution = {
      user: header(req, names.user),
      session: header(req, names.session),
      feature:
        header(req, names.feature) ??
        (propagation.getBaggage(ctx)?.getEntry('app.feature') ? undefined : options.defaultFeature),
      plan: header(req, names.plan),
    };
    context.with(ctx, () => withAttribution(attribution, () => next()));
  };
}

function pick(h: typeof DEFAULT_HEADERS): Record<keyof Attribution, string> {
  return { user: h.user, session: h.session, feature: h.feature, plan: h.plan };
}

/**
 * Express error handler: a `BudgetExceededError` becomes the 402 problem+json response with
 * `Retry-After`, a `BudgetUnavailableError` (sidecar down, fail mode closed) a 503 one, also when
 * an SDK helper wrapped them as `cause`; any other error goes on to the app's own handlers.
 */
export function budgetErrorHandler(): (err: unknown, req: Req, res: Res, next: Next) => void {
  return (err, _req, res, next) => {
    const refusal = findBudgetRefusal(err);
    if (!refusal || res.headersSent) {
      next(err);
      return;
    }
    res.status(refusal.status);
    res.setHeader('content-type', PROBLEM_CONTENT_TYPE);
    res.setHeader('retry-after', String(refusal.retryAfterSeconds));
    // Retrying a denial before the window resets cannot succeed; an outage may pass.
    if (refusal instanceof BudgetExceededError) res.setHeader('x-should-retry', 'false');
    res.end(JSON.stringify(refusal.problem));
  };
}
