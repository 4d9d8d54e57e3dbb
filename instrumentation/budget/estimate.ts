import type { ModelPrice } from '../../src/pricing/types';
import type { CallStart } from '../recorder';

/** Rough characters per token of English text and code. */
export const CHARS_PER_TOKEN = 4;
/** Tokens a chat format adds around each message (role markers, separators). */
export const TOKENS_PER_MESSAGE = 4;

/** Request fields holding prompt text, across OpenAI chat/responses/embeddings and Anthropic. */
const TEXT_FIELDS = ['messages', 'input', 'system', 'instructions'] as const;
/** Tool definitions: their JSON is what the model reads. */
const TOOL_FIELDS = ['tools', 'functions'] as const;
/** Keys of image, audio and file payloads: base64 is not prompt text, and is not estimated. */
const BINARY_KEYS = new Set(['image_url', 'source', 'file_data', 'input_audio']);

type Body = Record<string, unknown>;

/**
 * Input tokens of a request, estimated without a tokenizer: ceil(characters / 4) over every
 * string in the prompt fields (role names included, image/audio/file payloads excluded) and the
 * JSON of the tool definitions, plus 4 tokens per chat message.
 */
export function estimateInputTokens(body: Body, operation: CallStart['operation']): number {
  let chars = 0;
  for (const field of TEXT_FIELDS) chars += textChars(body[field]);
  for (const field of TOOL_FIELDS) if (body[field]) chars += JSON.stringify(body[field]).length;
  return Math.ceil(chars / CHARS_PER_TOKEN) + TOKENS_PER_MESSAGE * messageCount(body, operation);
}

/**
 * Worst-case cost in USD of a call before it is made: estimated input tokens at the higher of the
 * input and cache-write rates, plus the output limit (`max_tokens` and its variants, else
 * `defaultOutputTokens`) times the number of choices at the higher of the output and reasoning
 * rates. Embeddings have no output. An unpriced model is estimated at 0.
 */
export function estimateCostUsd(
  price: ModelPrice | undefined,
  start: CallStart,
  body: Body,
  defaultOutputTokens: number,
): number {
  if (!price) return 0;
  const input = estimateInputTokens(body, start.operation);
  const choices = typeof body.n === 'number' && Number.isInteger(body.n) && body.n > 1 ? body.n : 1;
  const output =
    start.operation === 'embeddings' ? 0 : (start.maxTokens ?? defaultOutputTokens) * choices;
  return (
    input * Math.max(price.input, price.cacheWrite) +
    output * Math.max(price.output, price.reasoning)
  );
}

function messageCount(body: Body, operation: CallStart['operation']): number {
  if (operation === 'embeddings') return 0;
  const { messages, input } = body;
  const inputItems = Array.isArray(input) ? input.length : typeof input === 'string' ? 1 : 0;
  return (Array.isArray(messages) ? messages.length : 0) + inputItems;
}

function textChars(value: unknown): number {
  if (typeof value === 'string') return value.length;
  // A number in a prompt is a token id (embeddings accept token arrays): one token.
  if (typeof value === 'number') return CHARS_PER_TOKEN;
  if (Array.isArray(value)) {
    let n = 0;
    for (const item of value) n += textChars(item);
    return n;
  }
  if (value && typeof value === 'object') {
    let n = 0;
    for (const [key, item] of Object.entries(value))
      if (!BINARY_KEYS.has(key)) n += textChars(item);
    return n;
  }
  return 0;
}
