/**
 * The metric contract of DESIGN.md: one source of truth for every instrument's OTel name, unit,
 * the Prometheus name it becomes, and its labels. The instrumentation creates instruments from
 * this table; tests, docs, rules, dashboards and the sidecar read the Prometheus names from it.
 *
 * Units are chosen so that both pipelines give the same Prometheus name: the OTel Prometheus
 * exporter adds `_total` to counters and no unit suffix, and Prometheus 3's default OTLP
 * translation adds `_total` and drops curly-brace annotation units such as `{USD}`.
 */

/** Semconv bucket boundaries for `gen_ai.client.token.usage`. */
export const TOKEN_USAGE_BUCKETS = [
  1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864,
];

/** Semconv bucket boundaries for `gen_ai.client.operation.duration` (seconds). */
export const OPERATION_DURATION_BUCKETS = [
  0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92,
];

/** Buckets of `llm_request_cost_usd`: 10 µUSD to 10 USD. */
export const REQUEST_COST_BUCKETS = [
  0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
  0.25, 0.5, 1, 2.5, 5, 10,
];

export type InstrumentKind = 'counter' | 'histogram';

export interface MetricSpec {
  /** OTel instrument name. */
  readonly otelName: string;
  /** OTel unit (UCUM or curly-brace annotation). */
  readonly unit: string;
  readonly kind: InstrumentKind;
  /** Name in Prometheus (the scraped exporter's name; series add `_bucket`/`_sum`/`_count`). */
  readonly promName: string;
  /** Labels on the Prometheus series, as OTel attribute keys (dots become underscores). */
  readonly labels: readonly string[];
  readonly description: string;
  readonly buckets?: readonly number[];
}

const GENAI_LABELS = [
  'gen_ai.operation.name',
  'gen_ai.provider.name',
  'gen_ai.request.model',
  'gen_ai.response.model',
  'error.type',
] as const;

export const METRICS = {
  tokenUsage: {
    otelName: 'gen_ai.client.token.usage',
    unit: '{token}',
    kind: 'histogram',
    promName: 'gen_ai_client_token_usage',
    labels: [...GENAI_LABELS.filter((l) => l !== 'error.type'), 'gen_ai.token.type'],
    description: 'Number of input and output tokens used per GenAI call (OTel semconv).',
    buckets: TOKEN_USAGE_BUCKETS,
  },
  operationDuration: {
    otelName: 'gen_ai.client.operation.duration',
    unit: 's',
    kind: 'histogram',
    promName: 'gen_ai_client_operation_duration',
    labels: GENAI_LABELS,
    description:
      'GenAI operation duration, until the last stream chunk for streams (OTel semconv).',
    buckets: OPERATION_DURATION_BUCKETS,
  },
  requests: {
    otelName: 'llm.requests',
    unit: '{request}',
    kind: 'counter',
    promName: 'llm_requests_total',
    labels: ['provider', 'model', 'tier', 'feature', 'status'],
    description: 'LLM calls by outcome: ok, error (provider or network error), denied (budget).',
  },
  cost: {
    otelName: 'llm.cost.usd',
    unit: '{USD}',
    kind: 'counter',
    promName: 'llm_cost_usd_total',
    labels: ['provider', 'model', 'tier', 'feature'],
    description: 'Actual cost of LLM calls in USD, from the pricing catalog.',
  },
  baselineCost: {
    otelName: 'llm.baseline_cost.usd',
    unit: '{USD}',
    kind: 'counter',
    promName: 'llm_baseline_cost_usd_total',
    labels: ['provider', 'model', 'tier', 'feature'],
    description: 'What the same tokens would have cost at the baseline model rates, in USD.',
  },
  tokens: {
    otelName: 'llm.tokens',
    unit: '{token}',
    kind: 'counter',
    promName: 'llm_tokens_total',
    labels: ['provider', 'model', 'feature', 'type'],
    description:
      'Tokens by disjoint billing bucket: input (uncached), cache_read, cache_write, output (non-reasoning), reasoning.',
  },
  cacheSavings: {
    otelName: 'llm.cache_savings.usd',
    unit: '{USD}',
    kind: 'counter',
    promName: 'llm_cache_savings_usd_total',
    labels: ['provider', 'model', 'feature', 'cache'],
    description:
      'USD saved by caching: prompt (provider prompt cache, vs uncached input rate) or response (an app-level cache hit avoided the call).',
  },
  cacheLookups: {
    otelName: 'llm.cache_lookups',
    unit: '{lookup}',
    kind: 'counter',
    promName: 'llm_cache_lookups_total',
    labels: ['feature', 'result'],
    description: 'Response-cache lookups reported with recordCacheLookup, by result (hit/miss).',
  },
  requestCost: {
    otelName: 'llm.request_cost.usd',
    unit: '{USD}',
    kind: 'histogram',
    promName: 'llm_request_cost_usd',
    labels: ['provider', 'model', 'feature'],
    description: 'Distribution of the cost of one LLM call, in USD.',
    buckets: REQUEST_COST_BUCKETS,
  },
  outcomes: {
    otelName: 'llm.outcomes',
    unit: '{outcome}',
    kind: 'counter',
    promName: 'llm_outcomes_total',
    labels: ['feature', 'outcome'],
    description:
      'Business outcomes reported with recordOutcome (e.g. success, failure, escalated).',
  },
  unpricedRequests: {
    otelName: 'llm.unpriced_requests',
    unit: '{request}',
    kind: 'counter',
    promName: 'llm_unpriced_requests_total',
    labels: ['provider', 'model'],
    description:
      'LLM calls whose model has no price in the catalog: their cost is unknown, not zero.',
  },
  userCost: {
    otelName: 'llm.user.cost.usd',
    unit: '{USD}',
    kind: 'counter',
    promName: 'llm_user_cost_usd_total',
    labels: ['user', 'feature'],
    description: 'Actual cost in USD per user and feature (the budget sidecar reads this).',
  },
  userRequests: {
    otelName: 'llm.user.requests',
    unit: '{request}',
    kind: 'counter',
    promName: 'llm_user_requests_total',
    labels: ['user', 'feature'],
    description: 'LLM calls per user and feature.',
  },
  internalErrors: {
    otelName: 'llm_finops.internal_errors',
    unit: '{error}',
    kind: 'counter',
    promName: 'llm_finops_internal_errors_total',
    labels: ['stage'],
    description: 'Errors inside llm-finops itself, caught so that the app is never affected.',
  },
} as const satisfies Record<string, MetricSpec>;

export type MetricKey = keyof typeof METRICS;

/** Instruments carrying the `user` label: they need a cardinality limit far above the SDK default. */
export const PER_USER_METRICS: readonly MetricKey[] = ['userCost', 'userRequests'];

/** Attribute sets kept per per-user instrument before the rest is folded into an overflow series. */
export const USER_CARDINALITY_LIMIT = 200_000;

/** The limit of every other llm-finops instrument: features × models × tiers × statuses stays well below. */
export const CARDINALITY_LIMIT = 20_000;

/** Attribute sets a metric keeps (in the SDK's views and in llm-finops's own aggregation). */
export function cardinalityLimit(key: MetricKey): number {
  return PER_USER_METRICS.includes(key) ? USER_CARDINALITY_LIMIT : CARDINALITY_LIMIT;
}

/** `status` label values of `llm_requests_total`. */
export type RequestStatus = 'ok' | 'error' | 'denied';

/** `type` label values of `llm_tokens_total`: disjoint billing buckets. */
export const TOKEN_TYPES = ['input', 'cache_read', 'cache_write', 'output', 'reasoning'] as const;
export type TokenType = (typeof TOKEN_TYPES)[number];

/** Label value used when a call carries no attribution. */
export const UNKNOWN = 'unknown';

/**
 * The budget sidecar's gauges (prom-client, labels scope, subject, window unless noted), read by
 * the alert rules, the dashboards and the report.
 */
export const BUDGET_METRICS = {
  limit: 'llm_budget_limit_usd',
  warn: 'llm_budget_warn_usd',
  spent: 'llm_budget_spent_usd',
  /** Labels scope, window, state. */
  subjects: 'llm_budget_subjects',
  /** Labels scope, decision. */
  decisions: 'llm_budget_decisions_total',
  /** No labels. */
  dataAge: 'llm_budget_spend_data_age_seconds',
} as const;
