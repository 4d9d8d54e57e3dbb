import type { InstrumentationConfig } from '@opentelemetry/instrumentation';
import type { UserIdMode } from '../src/attribution/user-id';

export type { UserIdMode };

/** Attribution of LLM calls to a user, a session and a product feature. */
export interface Attribution {
  /** End user the call is made for (label `user`, span `user.id`). */
  user?: string;
  /** Conversation or session id (span `session.id` only: never a metric label). */
  session?: string;
  /** Product feature making the call (label `feature`, span `app.feature`). */
  feature?: string;
  /** The user's plan: picks the budget sidecar's per-plan user caps. Sent to the sidecar only. */
  plan?: string;
}

/** What a call does when the budget sidecar gives no usable answer. */
export type SidecarFailMode = 'open' | 'closed';

/** Options of the llm-finops instrumentation; `register` fills them from the environment. */
export interface LlmFinopsInstrumentationConfig extends InstrumentationConfig {
  /** Price override file, YAML or JSON (ours or LiteLLM's format). Env: LLM_FINOPS_PRICING_FILE. */
  pricingFile?: string;
  /** Model whose rates give the baseline cost. Env: LLM_FINOPS_BASELINE_MODEL, default `gpt-4`. */
  baselineModel?: string;
  /** How user ids are recorded: raw, hash (keyed HMAC) or off. Env: LLM_FINOPS_USER_ID_MODE. */
  userIdMode?: UserIdMode;
  /** Secret key of the `hash` mode. Env: LLM_FINOPS_USER_ID_HASH_KEY. */
  userIdHashKey?: string;
  /**
   * Ask OpenAI-compatible chat streams for their usage chunk (`stream_options.include_usage`)
   * when the caller did not, hiding it from the caller. Env: LLM_FINOPS_STREAM_USAGE=inject|off.
   */
  injectStreamUsage?: boolean;
  /**
   * Provider names for API hosts the built-in list does not know, e.g. an internal gateway.
   * Env: LLM_FINOPS_PROVIDER_HOSTS=`llm-gateway.internal=openai,127.0.0.1=openai`.
   */
  providerHosts?: Record<string, string>;
  /**
   * Base URL of the budget sidecar (`llm-finops sidecar`), e.g. `http://127.0.0.1:8787`. When set,
   * every call reserves its estimated cost there before the provider is contacted, fails with
   * `BudgetExceededError` over a cap, and settles its actual cost when it ends.
   * Env: LLM_FINOPS_SIDECAR_URL; unset: no budget checks.
   */
  sidecarUrl?: string;
  /** Bearer token of reserve and settle (the sidecar's `reservations.token_env`). Env: LLM_FINOPS_SIDECAR_TOKEN. */
  sidecarToken?: string;
  /** Time limit of one sidecar request, in ms. Env: LLM_FINOPS_SIDECAR_TIMEOUT_MS, default 500. */
  sidecarTimeoutMs?: number;
  /**
   * When the sidecar is unreachable, times out or answers an error: `open` lets the call proceed
   * unchecked, `closed` fails it with `BudgetUnavailableError` (HTTP 503).
   * Env: LLM_FINOPS_SIDECAR_FAIL_MODE, default `open`.
   */
  sidecarFailMode?: SidecarFailMode;
  /**
   * Output tokens reserved for a call that sets no `max_tokens` (or `max_completion_tokens`,
   * `max_output_tokens`). Env: LLM_FINOPS_RESERVE_OUTPUT_TOKENS, default 1024.
   */
  reserveOutputTokens?: number;
}
