/**
 * Holds an SDK request until its budget reservation is answered, while `create()` still returns
 * the SDK's own APIPromise synchronously.
 *
 * Every Stainless client here (openai v4 core.js, v5/v6 client.js, @anthropic-ai/sdk client.js)
 * runs `await this.prepareOptions(options)` in `makeRequest` before it builds and sends the
 * request (again on each retry), and every `create` spreads its options argument into the request
 * options (`{ body, ...options }`, then `{ method, path, ...opts }`). A symbol-keyed property on
 * that argument therefore reaches `prepareOptions`, which we wrap once per client to await the
 * decision and throw the refusal.
 */

/** Resolves with undefined when the request may go, or with the error that refuses it. */
export type Decision = Promise<Error | undefined>;

const GATE = Symbol('llm-finops.budget-gate');
const hooked = new WeakSet<object>();

interface StainlessClient {
  prepareOptions?: (this: unknown, options: unknown) => unknown;
}

type GatedOptions = { [GATE]?: Decision } | null | undefined;

/** Wraps the client's `prepareOptions` once; false when it has none (not a Stainless client). */
export function hookClient(client: object | undefined): boolean {
  if (!client) return false;
  if (hooked.has(client)) return true;
  const target = client as StainlessClient;
  const original = target.prepareOptions;
  if (typeof original !== 'function') return false;
  target.prepareOptions = function prepareOptions(this: unknown, options: unknown): unknown {
    const decision = (options as GatedOptions)?.[GATE];
    if (!decision) return original.call(this, options);
    return decision.then((refusal) => {
      if (refusal) throw refusal;
      return original.call(this, options);
    });
  };
  hooked.add(client);
  return true;
}

/** The SDK arguments with the decision attached to a copy of the request options. */
export function gatedArgs(args: readonly unknown[], decision: Decision): unknown[] {
  const options = args[1] as object | null | undefined;
  return [args[0], { ...options, [GATE]: decision }, ...args.slice(2)];
}
