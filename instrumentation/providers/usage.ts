import type { TokenBuckets } from '../../src/pricing/types';
import type { UsageMissing } from '../recorder';

/** Provider usage normalised into disjoint buckets, or why it could not be. */
export type NormalisedUsage =
  { tokens: TokenBuckets; missing?: undefined } | { tokens?: undefined; missing: UsageMissing };

const NOT_REPORTED: NormalisedUsage = { missing: 'not_reported' };
const MALFORMED: NormalisedUsage = { missing: 'malformed' };

/** A token count: absent is 0, anything but a non-negative integer is malformed (NaN). */
function count(v: unknown): number {
  if (v === undefined || v === null) return 0;
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 ? v : NaN;
}

function required(v: unknown): number {
  return v === undefined || v === null ? NaN : count(v);
}

function buckets(
  input: number,
  cacheRead: number,
  cacheWrite: number,
  output: number,
  reasoning: number,
): NormalisedUsage {
  const t = { input, cacheRead, cacheWrite, output, reasoning };
  for (const v of Object.values(t)) if (!(v >= 0)) return MALFORMED;
  return { tokens: t };
}

type Obj = Record<string, unknown> | undefined;

/**
 * OpenAI Chat Completions and Embeddings usage: `prompt_tokens` includes
 * `prompt_tokens_details.cached_tokens`; `completion_tokens` includes
 * `completion_tokens_details.reasoning_tokens`.
 */
export function openAIChatUsage(usage: unknown): NormalisedUsage {
  if (usage === undefined || usage === null) return NOT_REPORTED;
  if (typeof usage !== 'object') return MALFORMED;
  const u = usage as Record<string, unknown>;
  const prompt = required(u.prompt_tokens);
  const completion = count(u.completion_tokens);
  const cached = count((u.prompt_tokens_details as Obj)?.cached_tokens);
  const reasoning = count((u.completion_tokens_details as Obj)?.reasoning_tokens);
  return buckets(prompt - cached, cached, 0, completion - reasoning, reasoning);
}

/** OpenAI Responses usage: `input_tokens` includes cached, `output_tokens` includes reasoning. */
export function openAIResponsesUsage(usage: unknown): NormalisedUsage {
  if (usage === undefined || usage === null) return NOT_REPORTED;
  if (typeof usage !== 'object') return MALFORMED;
  const u = usage as Record<string, unknown>;
  const input = required(u.input_tokens);
  const output = required(u.output_tokens);
  const cached = count((u.input_tokens_details as Obj)?.cached_tokens);
  const reasoning = count((u.output_tokens_details as Obj)?.reasoning_tokens);
  return buckets(input - cached, cached, 0, output - reasoning, reasoning);
}

/**
 * Anthropic usage: `input_tokens` excludes cache reads and writes, which come separately.
 * `output_tokens` includes thinking; newer API versions break it out in
 * `output_tokens_details.thinking_tokens`, which becomes the reasoning bucket.
 */
export function anthropicUsage(usage: unknown): NormalisedUsage {
  if (usage === undefined || usage === null) return NOT_REPORTED;
  if (typeof usage !== 'object') return MALFORMED;
  const u = usage as Record<string, unknown>;
  const output = required(u.output_tokens);
  const thinking = count((u.output_tokens_details as Obj)?.thinking_tokens);
  return buckets(
    required(u.input_tokens),
    count(u.cache_read_input_tokens),
    count(u.cache_creation_input_tokens),
    output - thinking,
    thinking,
  );
}
