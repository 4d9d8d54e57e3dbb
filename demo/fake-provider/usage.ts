/**
 * Provider-shaped usage blocks: the fake answers with exactly the keys (and key order) the real
 * APIs send, filled from request-derived estimates and an optional per-reply patch.
 */

/** OpenAI Chat Completions `usage` (also the final `choices: []` stream chunk). */
export interface ChatUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  prompt_tokens_details: { cached_tokens: number; audio_tokens: number };
  completion_tokens_details: {
    reasoning_tokens: number;
    audio_tokens: number;
    accepted_prediction_tokens: number;
    rejected_prediction_tokens: number;
  };
}

/** OpenAI Responses API `usage`. */
export interface ResponsesUsage {
  input_tokens: number;
  input_tokens_details: { cached_tokens: number };
  output_tokens: number;
  output_tokens_details: { reasoning_tokens: number };
  total_tokens: number;
}

/** OpenAI Embeddings `usage`. */
export interface EmbeddingsUsage {
  prompt_tokens: number;
  total_tokens: number;
}

/** Anthropic Messages `usage` (`input_tokens` excludes cache reads and writes). */
export interface AnthropicUsage {
  input_tokens: number;
  cache_creation_input_tokens: number;
  cache_read_input_tokens: number;
  cache_creation: { ephemeral_5m_input_tokens: number; ephemeral_1h_input_tokens: number };
  output_tokens: number;
  service_tier: string;
  /** Only sent when the patch sets it (newer API versions). */
  output_tokens_details?: { thinking_tokens: number };
}

type DeepPartial<T> = {
  [K in keyof T]?: NonNullable<T[K]> extends object ? DeepPartial<NonNullable<T[K]>> : T[K];
};

/**
 * A partial usage block in any provider's own shape. Only the keys of the endpoint that answers
 * are read; totals left out are recomputed from the parts.
 */
export type UsagePatch = DeepPartial<ChatUsage> &
  DeepPartial<ResponsesUsage> &
  DeepPartial<EmbeddingsUsage> &
  DeepPartial<AnthropicUsage>;

/** Token counts estimated from the request when the reply does not set them. */
export interface TokenEstimate {
  input: number;
  output: number;
}

export function chatUsage(estimate: TokenEstimate, patch: UsagePatch = {}): ChatUsage {
  const prompt = patch.prompt_tokens ?? estimate.input;
  const completion = patch.completion_tokens ?? estimate.output;
  const promptDetails = patch.prompt_tokens_details ?? {};
  const completionDetails = patch.completion_tokens_details ?? {};
  return {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: patch.total_tokens ?? prompt + completion,
    prompt_tokens_details: {
      cached_tokens: promptDetails.cached_tokens ?? 0,
      audio_tokens: promptDetails.audio_tokens ?? 0,
    },
    completion_tokens_details: {
      reasoning_tokens: completionDetails.reasoning_tokens ?? 0,
      audio_tokens: completionDetails.audio_tokens ?? 0,
      accepted_prediction_tokens: completionDetails.accepted_prediction_tokens ?? 0,
      rejected_prediction_tokens: completionDetails.rejected_prediction_tokens ?? 0,
    },
  };
}

export function responsesUsage(estimate: TokenEstimate, patch: UsagePatch = {}): ResponsesUsage {
  const input = patch.input_tokens ?? estimate.input;
  const output = patch.output_tokens ?? estimate.output;
  return {
    input_tokens: input,
    input_tokens_details: { cached_tokens: patch.input_tokens_details?.cached_tokens ?? 0 },
    output_tokens: output,
    output_tokens_details: {
      reasoning_tokens: patch.output_tokens_details?.reasoning_tokens ?? 0,
    },
    total_tokens: patch.total_tokens ?? input + output,
  };
}

export function embeddingsUsage(estimate: TokenEstimate, patch: UsagePatch = {}): EmbeddingsUsage {
  const prompt = patch.prompt_tokens ?? estimate.input;
  return { prompt_tokens: prompt, total_tokens: patch.total_tokens ?? prompt };
}

/**
 * Anthropic usage. `cache_creation_input_tokens` defaults to the sum of the TTL breakdown; a
 * bare `cache_creation_input_tokens` is attributed to the 5-minute TTL so the two agree.
 */
export function anthropicUsage(estimate: TokenEstimate, patch: UsagePatch = {}): AnthropicUsage {
  const breakdown = patch.cache_creation ?? {};
  const explicitWrite = patch.cache_creation_input_tokens;
  const oneHour = breakdown.ephemeral_1h_input_tokens ?? 0;
  const fiveMin =
    breakdown.ephemeral_5m_input_tokens ??
    (explicitWrite !== undefined ? Math.max(0, explicitWrite - oneHour) : 0);
  const usage: AnthropicUsage = {
    input_tokens: patch.input_tokens ?? estimate.input,
    cache_creation_input_tokens: explicitWrite ?? fiveMin + oneHour,
    cache_read_input_tokens: patch.cache_read_input_tokens ?? 0,
    cache_creation: { ephemeral_5m_input_tokens: fiveMin, ephemeral_1h_input_tokens: oneHour },
    output_tokens: patch.output_tokens ?? estimate.output,
    service_tier: patch.service_tier ?? 'standard',
  };
  if (patch.output_tokens_details?.thinking_tokens !== undefined) {
    usage.output_tokens_details = { thinking_tokens: patch.output_tokens_details.thinking_tokens };
  }
  return usage;
}

/** Which usage block a malformed reply corrupts. */
export type UsageShape = 'chat' | 'responses' | 'embeddings' | 'anthropic';

/**
 * Usage blocks with wrong types, negative numbers and missing fields, as a buggy proxy or a
 * changed API might send. The instrumentation must not throw or record nonsense on them.
 */
export function malformedUsage(shape: UsageShape): Record<string, unknown> {
  switch (shape) {
    case 'chat':
      return {
        prompt_tokens: '22',
        completion_tokens: -3,
        prompt_tokens_details: { cached_tokens: null },
        completion_tokens_details: 'none',
      };
    case 'responses':
      return {
        input_tokens: '14',
        input_tokens_details: null,
        output_tokens: -26,
        output_tokens_details: { reasoning_tokens: 'n/a' },
      };
    case 'embeddings':
      return { prompt_tokens: '8', total_tokens: -8 };
    case 'anthropic':
      return {
        input_tokens: '17',
        cache_creation_input_tokens: -1,
        cache_read_input_tokens: null,
        output_tokens: 'many',
      };
  }
}

/** The malformed usage a reply asks for (`true` → the canned one), or undefined. */
export function requestedMalformedUsage(
  option: boolean | Record<string, unknown> | undefined,
  shape: UsageShape,
): Record<string, unknown> | undefined {
  if (option === undefined || option === false) return undefined;
  return option === true ? malformedUsage(shape) : option;
}
