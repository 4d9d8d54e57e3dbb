/** Span attribute keys of the telemetry contract (OTel GenAI semconv v1.41 plus our own). */
export const ATTR = {
  operationName: 'gen_ai.operation.name',
  providerName: 'gen_ai.provider.name',
  requestModel: 'gen_ai.request.model',
  responseModel: 'gen_ai.response.model',
  responseId: 'gen_ai.response.id',
  finishReasons: 'gen_ai.response.finish_reasons',
  requestMaxTokens: 'gen_ai.request.max_tokens',
  requestStream: 'gen_ai.request.stream',
  inputTokens: 'gen_ai.usage.input_tokens',
  outputTokens: 'gen_ai.usage.output_tokens',
  cacheReadTokens: 'gen_ai.usage.cache_read.input_tokens',
  cacheCreationTokens: 'gen_ai.usage.cache_creation.input_tokens',
  reasoningTokens: 'gen_ai.usage.reasoning.output_tokens',
  tokenType: 'gen_ai.token.type',
  serverAddress: 'server.address',
  serverPort: 'server.port',
  errorType: 'error.type',
  userId: 'user.id',
  sessionId: 'session.id',
  feature: 'app.feature',
  costAmount: 'gen_ai.usage.cost.amount',
  costCurrency: 'gen_ai.usage.cost.currency',
  costSource: 'gen_ai.usage.cost.source',
  baselineAmount: 'llm.cost.baseline.amount',
  modelTier: 'llm.model.tier',
  /** Why a call carries no token counts (`not_reported`, `aborted`, `malformed`). */
  usageMissing: 'llm.usage.missing',
  /** Set when the model has no catalog price. */
  unpriced: 'llm.cost.unpriced',
} as const;

/** W3C baggage keys read for attribution. */
export const BAGGAGE_KEYS = {
  user: 'user.id',
  session: 'session.id',
  feature: 'app.feature',
  /** The user's plan, which picks the sidecar's per-plan user caps (never a metric label). */
  plan: 'app.plan',
} as const;

/** Default request headers read by the middleware and the sidecar's proxy endpoint. */
export const DEFAULT_HEADERS = {
  user: 'x-llm-user',
  session: 'x-llm-session',
  feature: 'x-llm-feature',
  plan: 'x-llm-plan',
} as const;
