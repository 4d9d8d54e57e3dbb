import type { ModelEntry } from './model-entry';
import type { ModelPrice } from './types';

/**
 * Distinct ids memoised before the memo is cleared: model ids come from requests and responses,
 * so a misbehaving caller could send unbounded distinct ids; real traffic has a few dozen.
 */
const MEMO_LIMIT = 10_000;

/**
 * Finds the catalog entry of a model id as providers, SDKs and gateways report it. Normalisation
 * only ever removes routing prefixes and version or date suffixes and never compares prefixes of
 * model names, so an id cannot land on another family (`gpt-4o-mini-2024-07-18` is `gpt-4o-mini`,
 * `o1-mini` is never `o1`, `gpt-4` never matches `gpt-4o`).
 */
export class ModelResolver {
  private readonly exact = new Map<string, ModelPrice>();
  private readonly folded = new Map<string, ModelPrice>();
  private readonly patterns: { readonly re: RegExp; readonly price: ModelPrice }[] = [];
  private readonly memo = new Map<string, ModelPrice | null>();

  /** `entries` in priority order: on a shared id, the earlier entry wins; keys win over aliases. */
  constructor(entries: Iterable<ModelEntry>) {
    const list = [...entries];
    for (const { price } of list) this.index(price.key, price);
    for (const { price, aliases } of list) for (const alias of aliases) this.index(alias, price);
    for (const { price, match } of list) if (match) this.patterns.push({ re: match, price });
  }

  /** The price of `model`, or undefined when nothing in the catalog is that model. */
  resolve(model: string): ModelPrice | undefined {
    // Hot path: one Map lookup once an id has been seen (null records "unknown").
    const hit = this.memo.get(model);
    if (hit !== undefined) return hit ?? undefined;
    const price = this.lookup(model) ?? null;
    if (this.memo.size >= MEMO_LIMIT) this.memo.clear();
    this.memo.set(model, price);
    return price ?? undefined;
  }

  private index(id: string, price: ModelPrice): void {
    if (!this.exact.has(id)) this.exact.set(id, price);
    const key = id.toLowerCase();
    if (!this.folded.has(key)) this.folded.set(key, price);
  }

  private lookup(model: string): ModelPrice | undefined {
    const id = model.trim();
    const exact = this.exact.get(id);
    if (exact) return exact;
    for (const candidate of candidateIds(id)) {
      const price = this.folded.get(candidate);
      if (price) return price;
    }
    return this.patterns.find(({ re }) => re.test(id))?.price;
  }
}

/**
 * Bedrock ids: optional cross-region inference prefix, then the vendor
 * (`us.anthropic.claude-sonnet-4-20250514-v1:0`, `anthropic.claude-3-5-sonnet-20240620-v1:0`).
 */
const BEDROCK_PREFIX =
  /^(?:(?:us|eu|apac|ap|jp|au|ca|us-gov|global)\.)?(?:anthropic|openai|amazon|meta|mistral|cohere|ai21|deepseek)\./;
/**
 * Bedrock model version (`-v1:0`, `-v2:0`). Only with its `:N`: a bare `-v3` can be part of a
 * model's name (deepseek-v3).
 */
const BEDROCK_VERSION = /-v\d+:\d+$/;
/** Vertex AI version and snapshot (`claude-3-5-sonnet-v2@20241022`, `claude-sonnet-4@20250514`). */
const VERTEX_SUFFIX = /(?:-v\d+)?@[^@]*$/;
/**
 * OpenRouter variants (`:thinking`, `:beta`, `:extended`) bill as the model; `:free` does not,
 * and is left unresolved rather than priced.
 */
const ROUTER_VARIANT = /:(?!free$)[a-z][a-z-]*$/;
/** Snapshot suffixes: `-2024-08-06`, `-20241022`, `-0613`, `-latest`. */
const SNAPSHOT_SUFFIX = /-(?:\d{4}-\d{2}-\d{2}|\d{8}|\d{4}|latest)$/;

/** Ids to look up (lower case), most specific first. */
export function candidateIds(model: string): string[] {
  let id = model.trim().toLowerCase();
  const out = [id];
  // Routing prefixes: openai/, azure/, bedrock/us-west-2/, openrouter/anthropic/, vertex_ai/...
  for (let slash = id.indexOf('/'); slash >= 0; slash = id.indexOf('/')) {
    id = id.slice(slash + 1);
    out.push(id);
  }
  let base = id
    .replace(BEDROCK_PREFIX, '')
    .replace(VERTEX_SUFFIX, '')
    .replace(ROUTER_VARIANT, '')
    .replace(BEDROCK_VERSION, '');
  // OpenRouter writes Claude versions with dots (claude-3.5-sonnet); OpenAI ids keep theirs.
  if (base.startsWith('claude-')) base = base.replace(/(\d)\.(\d)/g, '$1-$2');
  out.push(base, base.replace(SNAPSHOT_SUFFIX, ''));
  return [...new Set(out)];
}
