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
}

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
}
