import { reportInternalError } from './guard';

/** The parts of the Stainless `APIPromise` (openai v4–v6, @anthropic-ai/sdk) we observe. */
interface ApiPromiseLike {
  responsePromise?: PromiseLike<unknown>;
  parseResponse?: (...args: unknown[]) => unknown;
}

/**
 * Observes an SDK call's result without changing what the caller gets: the same promise object
 * comes back, and the body is parsed only when the caller asks for it (so `.asResponse()` still
 * hands over an unread body). We wrap the instance's `parseResponse`, which the SDK calls when
 * (and only when) someone awaits the parsed value, and watch `responsePromise` for HTTP errors.
 */
export function observeApiPromise(
  result: unknown,
  onParsed: (value: unknown) => void,
  onError: (err: unknown) => void,
): void {
  const p = result as ApiPromiseLike | null;
  if (
    p &&
    typeof p.parseResponse === 'function' &&
    p.responsePromise &&
    typeof p.responsePromise.then === 'function'
  ) {
    const original = p.parseResponse;
    p.parseResponse = function parseResponse(this: unknown, ...args: unknown[]): unknown {
      const parsed = original.apply(this, args);
      Promise.resolve(parsed).then(
        (value) => safe(onParsed, value),
        (err: unknown) => safe(onError, err),
      );
      return parsed;
    };
    p.responsePromise.then(undefined, (err: unknown) => safe(onError, err));
    return;
  }
  // Not a Stainless promise (a future SDK shape): a plain promise is safe to observe with then.
  if (p && typeof (p as PromiseLike<unknown>).then === 'function') {
    (p as PromiseLike<unknown>).then(
      (value) => safe(onParsed, value),
      (err: unknown) => safe(onError, err),
    );
  }
}

function safe(fn: (v: unknown) => void, v: unknown): void {
  try {
    fn(v);
  } catch (err) {
    reportInternalError('observe-result', err);
  }
}
