import type { CapState } from '../contract/budget';

/**
 * The report's data, as `llm-finops report --format json` prints it. Money is in USD, unrounded
 * (renderers round); ratios are 0..1 and null where the denominator is 0; times are RFC 3339.
 */
export interface Report {
  /** The period [from, to) and the time zone of its days. */
  readonly period: { readonly from: string; readonly to: string; readonly timezone: string };
  /** The model whose rates price the baseline ("what it would have cost"). */
  readonly baseline_model: string;
  /** Successful (priced) LLM calls, as the ROI statement, the rows and the days count them. */
  readonly requests: number;
  /** LLM calls by status: `ok` ones are priced, and the ROI statement and the rows count them. */
  readonly requests_by_status: {
    readonly ok: number;
    readonly error: number;
    readonly denied: number;
  };
  /** Actual cost of the period. */
  readonly cost_usd: number;
  /** What the same tokens would have cost at the baseline model's rates. */
  readonly baseline_cost_usd: number;
  /** baseline_cost_usd - cost_usd (negative when routing cost more than the baseline). */
  readonly savings_usd: number;
  /** savings_usd / baseline_cost_usd. */
  readonly savings_ratio: number | null;
  /** The one-line ROI statement. */
  readonly roi: string;
  /** USD saved by caching: cache.savings_usd.prompt + cache.savings_usd.response. */
  readonly cache_savings_usd: number;
  /** Caching: USD saved by provider prompt caches and the app's response cache, and lookups. */
  readonly cache: {
    readonly savings_usd: { readonly prompt: number; readonly response: number };
    readonly lookups: { readonly hit: number; readonly miss: number };
    readonly hit_ratio: number | null;
  };
  /** Spend per feature, most expensive first. */
  readonly by_feature: readonly (SpendRow & { readonly feature: string })[];
  /** Spend per provider, model and tier, most expensive first. */
  readonly by_model: readonly (SpendRow & {
    readonly provider: string;
    readonly model: string;
    readonly tier: string;
  })[];
  /** Spend per model tier, most expensive first. */
  readonly by_tier: readonly (SpendRow & { readonly tier: string })[];
  /** The users who spent most, most expensive first. */
  readonly top_users: readonly UserRow[];
  /** Number of users with any spend in the period. */
  readonly users_with_spend: number;
  /** Business outcomes per feature (recordOutcome) and the cost of each successful one. */
  readonly outcomes: readonly OutcomeRow[];
  /** Calls to models without a price: their cost is unknown, not zero. */
  readonly unpriced: readonly {
    readonly provider: string;
    readonly model: string;
    readonly requests: number;
  }[];
  /** Budget standing at the end of the period, from the sidecar's gauges. */
  readonly budgets: BudgetStatus;
  /** llm-finops alerts that fired in the period. */
  readonly anomalies: readonly Anomaly[];
  /** Per local day of the period. */
  readonly daily: readonly DayRow[];
}

export interface SpendRow {
  /** Successful (priced) calls. */
  readonly requests: number;
  readonly cost_usd: number;
  readonly baseline_cost_usd: number;
  readonly savings_usd: number;
  /** This row's part of the period's cost. */
  readonly share: number | null;
}

export interface UserRow {
  readonly user: string;
  /** Calls sent to the provider, `ok` or `error` (a budget denial is not counted per user). */
  readonly requests: number;
  readonly cost_usd: number;
  /** Apportioned, not measured: see baseline_method. */
  readonly baseline_cost_usd: number;
  readonly savings_usd: number;
  /**
   * `feature_ratio`: per-user metrics carry no baseline, so each feature's cost is scaled by that
   * feature's baseline/cost ratio (exact when the user's model mix in a feature is the feature's).
   */
  readonly baseline_method: 'feature_ratio';
  readonly share: number | null;
}

export interface OutcomeRow {
  readonly feature: string;
  /** Count per outcome value (success, failure, ...). */
  readonly outcomes: Readonly<Record<string, number>>;
  readonly cost_usd: number;
  /** cost_usd / outcomes.success. */
  readonly cost_per_success_usd: number | null;
}

export interface BudgetStatus {
  /** Whether the sidecar's gauges were found (false: no sidecar scraped at that time). */
  readonly available: boolean;
  /** When the gauges were read: just before the period's end, or now for a running period. */
  readonly as_of: string;
  /** Global and feature caps, and users at warning or over. */
  readonly caps: readonly {
    readonly scope: string;
    readonly subject: string;
    readonly window: string;
    readonly limit_usd: number;
    readonly spent_usd: number;
    readonly state: CapState;
  }[];
  /** Users per state in one window (month when configured, else the first), null without user caps. */
  readonly users: {
    readonly window: string;
    readonly ok: number;
    readonly warning: number;
    readonly exceeded: number;
  } | null;
}

export interface Anomaly {
  readonly alert: string;
  readonly severity: string;
  /** The alert's labels but alertname, alertstate and severity (feature, user, scope, ...). */
  readonly labels: Readonly<Record<string, string>>;
  /** First and last evaluation recorded firing. */
  readonly first_firing: string;
  readonly last_firing: string;
}

export interface DayRow {
  /** Local date, YYYY-MM-DD. */
  readonly date: string;
  readonly requests: number;
  readonly cost_usd: number;
  readonly baseline_cost_usd: number;
  readonly savings_usd: number;
  /** Names of the alerts that fired during the day. */
  readonly anomalies: readonly string[];
}
