/**
 * What the scale bench's app calls and how many Prometheus series those calls must create, by the
 * metric contract of DESIGN.md: `user` is a label of the two `llm_user_*` counters only, so they
 * grow with users × features; the per-model families grow with models × features; the GenAI
 * semconv histograms carry no feature nor user, so they grow with models only.
 */
import { parseExposition } from '../../demo/exposition';
import { METRICS, type MetricKey } from '../../src/contract/metrics';

/** Priced OpenAI chat models of the bundled catalog, one tier each; a run uses the first M. */
export const MODELS = ['gpt-4o-mini', 'gpt-4o', 'gpt-4.1', 'gpt-4.1-mini', 'gpt-4.1-nano'];

/** Feature names; a run uses the first F. */
export const FEATURES = ['chat', 'search', 'summarise', 'support', 'agent', 'extract'];

/** One batch of calls an app makes: users `from` … `to - 1`. */
export interface CallsCommand {
  readonly from: number;
  readonly to: number;
  readonly features: number;
  readonly models: number;
  /**
   * `every`: each user calls once per feature (series growth users × features); `one`: each user
   * makes one call, with feature `u mod F` (the memory run: 100,000 users, one call each).
   */
  readonly perUser: 'every' | 'one';
  /** Calls in flight at once. */
  readonly concurrency: number;
  /** User id prefix, so that warm-up users are not counted as the measured ones. */
  readonly prefix?: string;
}

/** One call of a batch: user index, feature and model. */
export interface PlannedCall {
  readonly user: number;
  readonly feature: string;
  readonly model: string;
}

/**
 * The calls of a batch. User `u` with feature `f` uses model `(u + f) mod M`: with at least M
 * users every feature meets every model, so the per-model families reach models × features.
 */
export function* plannedCalls(c: CallsCommand): Generator<PlannedCall> {
  for (let u = c.from; u < c.to; u++) {
    const features = c.perUser === 'every' ? range(c.features) : [u % c.features];
    for (const f of features)
      yield { user: u, feature: FEATURES[f]!, model: MODELS[(u + f) % c.models]! };
  }
}

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

/**
 * A user id shaped like the UUIDs apps use (36 characters): shorter synthetic ids would make
 * each series look cheaper than it is in production.
 */
export function userId(index: number, prefix = 'u'): string {
  const hex = index.toString(16).padStart(12, '0');
  return `${prefix.padEnd(8, '0').slice(0, 8)}-0000-4000-8000-${hex}`;
}

/** Series and distinct label sets ("attribute sets", what the OTel SDK stores) of one family. */
export interface FamilyCount {
  /** Lines of the exposition: a histogram's label set gives its buckets, +Inf, _sum and _count. */
  series: number;
  /** Distinct label sets without `le`. */
  labelSets: number;
}

/** Counts per Prometheus family (contract names; anything else under its own name). */
export function countSeries(exposition: string): Record<string, FamilyCount> {
  const familyOf = new Map<string, string>();
  for (const spec of Object.values(METRICS)) {
    familyOf.set(spec.promName, spec.promName);
    if (spec.kind === 'histogram')
      for (const suffix of ['_bucket', '_sum', '_count'])
        familyOf.set(spec.promName + suffix, spec.promName);
  }
  const counts: Record<string, FamilyCount> = {};
  const sets = new Map<string, Set<string>>();
  for (const sample of parseExposition(exposition)) {
    const family = familyOf.get(sample.name) ?? sample.name;
    const count = (counts[family] ??= { series: 0, labelSets: 0 });
    count.series++;
    const key = JSON.stringify(
      Object.entries(sample.labels)
        .filter(([name]) => name !== 'le')
        .sort(([a], [b]) => (a < b ? -1 : 1)),
    );
    const seen = sets.get(family) ?? new Set<string>();
    sets.set(family, seen);
    if (!seen.has(key)) {
      seen.add(key);
      count.labelSets++;
    }
  }
  return counts;
}

/** Series per label set of a family: 1 for a counter; buckets, +Inf, _sum and _count for a histogram. */
export function seriesPerLabelSet(key: MetricKey): number {
  const spec = METRICS[key];
  return spec.kind === 'histogram' ? (spec.buckets?.length ?? 0) + 3 : 1;
}

/**
 * Label sets each family must hold after `users` users made their calls (`every`: each user
 * calls every feature) with `models` models: all calls non-streaming chat, answered ok, priced,
 * without cached or reasoning tokens, so token types are input and output only. Families the
 * workload never touches (cache, outcomes, unpriced) have none.
 */
export function expectedLabelSets(
  users: number,
  features: number,
  models: number,
): Partial<Record<MetricKey, number>> {
  const tokenTypes = 2;
  return {
    userCost: users * features,
    userRequests: users * features,
    requests: models * features,
    cost: models * features,
    baselineCost: models * features,
    tokens: models * features * tokenTypes,
    requestCost: models * features,
    // Semconv attributes: operation, provider, request and response model (and token type).
    tokenUsage: models * tokenTypes,
    operationDuration: models,
  };
}

/** Expected counts per Prometheus family name, series included. */
export function expectedCounts(
  users: number,
  features: number,
  models: number,
): Record<string, FamilyCount> {
  const out: Record<string, FamilyCount> = {};
  for (const [key, sets] of Object.entries(expectedLabelSets(users, features, models))) {
    const metric = key as MetricKey;
    out[METRICS[metric].promName] = {
      labelSets: sets,
      series: sets * seriesPerLabelSet(metric),
    };
  }
  return out;
}
