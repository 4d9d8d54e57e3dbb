/**
 * POST /v1/messages (also `?beta=true`): a `message` body, or the Anthropic SSE sequence of the
 * recording: `message_start` (usage with the cache fields, `output_tokens: 1`),
 * `content_block_start`, `ping`, N × `content_block_delta`, `content_block_stop`,
 * `message_delta` (final `output_tokens`), `message_stop`. When the request enables extended
 * thinking, a `thinking` block with a signature comes before the text block.
 */
import {
  type Answer,
  type SynthesisInput,
  JSON_TYPE,
  SSE_TYPE,
  providerHeaders,
  responseModel,
  sseEvent,
} from './answer';
import { contentPieces } from './content';
import { anthropicMessageId } from './ids';
import { isRecord } from './request';
import { estimateInputTokens, estimateOutputTokens } from './tokens';
import { type AnthropicUsage, anthropicUsage, requestedMalformedUsage } from './usage';

const PROMPT_FIELDS = ['system', 'messages', 'tools'] as const;

const DEFAULT_THINKING = 'The user asks a question; a short, direct answer is enough here.';
const SIGNATURE =
  'EqQBCkYIBhgCKkBmYWtlLXByb3ZpZGVyLXNpZ25hdHVyZS1ub3QtYS1yZWFsLW9uZS1qdXN0LWZvci10ZXN0cxIMZmFrZXByb3ZpZGVyGgxmYWtlcHJvdmlkZXIiMGZha2UtcHJvdmlkZXItc2lnbmF0dXJlLXBheWxvYWQ=';

function thinkingText(input: SynthesisInput): string | undefined {
  const { reply, body } = input;
  if (typeof reply.thinking === 'string') return reply.thinking;
  if (reply.thinking === false) return undefined;
  const enabled =
    reply.thinking === true ||
    (isRecord(body.thinking) &&
      (body.thinking.type === 'enabled' || body.thinking.type === 'adaptive'));
  return enabled ? DEFAULT_THINKING : undefined;
}

function usageOf(input: SynthesisInput): AnthropicUsage {
  const { reply, body, defaults } = input;
  return anthropicUsage(
    {
      input: estimateInputTokens(body, PROMPT_FIELDS),
      output: estimateOutputTokens(body.max_tokens, defaults.outputTokens),
    },
    reply.usage,
  );
}

export function messagesAnswer(input: SynthesisInput): Answer {
  const { body, reply, defaults } = input;
  const pieces = contentPieces(reply.content ?? defaults.content, reply.chunks ?? defaults.chunks);
  const thinking = thinkingText(input);
  const id = anthropicMessageId();
  const model = responseModel(input);
  const malformed = requestedMalformedUsage(reply.malformedUsage, 'anthropic');
  const usage = usageOf(input);

  if (body.stream !== true) {
    const content: unknown[] = [];
    if (thinking !== undefined) content.push({ type: 'thinking', thinking, signature: SIGNATURE });
    content.push({ type: 'text', text: pieces.join('') });
    const message = {
      id,
      type: 'message',
      role: 'assistant',
      model,
      content,
      stop_reason: 'end_turn',
      stop_sequence: null,
      usage: malformed ?? usage,
    };
    return {
      status: 200,
      headers: providerHeaders('anthropic', JSON_TYPE),
      body: JSON.stringify(message),
    };
  }

  const startUsage = malformed ?? { ...usage, output_tokens: 1 };
  const deltaMode = reply.anthropicDeltaUsage ?? defaults.anthropicDeltaUsage;
  const deltaUsage =
    malformed ??
    (deltaMode === 'cumulative'
      ? {
          input_tokens: usage.input_tokens,
          cache_creation_input_tokens: usage.cache_creation_input_tokens,
          cache_read_input_tokens: usage.cache_read_input_tokens,
          output_tokens: usage.output_tokens,
        }
      : { output_tokens: usage.output_tokens });

  const message = {
    id,
    type: 'message',
    role: 'assistant',
    model,
    content: [],
    stop_reason: null,
    stop_sequence: null,
    usage: startUsage,
  };
  const events: string[] = [
    sseEvent(JSON.stringify({ type: 'message_start', message }), 'message_start'),
  ];
  let index = 0;
  if (thinking !== undefined) {
    events.push(
      sseEvent(
        `{"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":"","signature":""}}`,
        'content_block_start',
      ),
      sseEvent('{"type": "ping"}', 'ping'),
      sseEvent(
        `{"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":${JSON.stringify(thinking)}}}`,
        'content_block_delta',
      ),
      sseEvent(
        `{"type":"content_block_delta","index":0,"delta":{"type":"signature_delta","signature":"${SIGNATURE}"}}`,
        'content_block_delta',
      ),
      sseEvent('{"type":"content_block_stop","index":0}', 'content_block_stop'),
    );
    index = 1;
  }
  events.push(
    sseEvent(
      `{"type":"content_block_start","index":${index},"content_block":{"type":"text","text":""}}`,
      'content_block_start',
    ),
  );
  if (thinking === undefined) events.push(sseEvent('{"type": "ping"}', 'ping'));
  const deltaHead = `{"type":"content_block_delta","index":${index},"delta":{"type":"text_delta","text":`;
  for (const piece of pieces) {
    events.push(sseEvent(`${deltaHead}${JSON.stringify(piece)}}}`, 'content_block_delta'));
  }
  events.push(
    sseEvent(`{"type":"content_block_stop","index":${index}}`, 'content_block_stop'),
    sseEvent(
      `{"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":${JSON.stringify(deltaUsage)}}`,
      'message_delta',
    ),
    sseEvent('{"type":"message_stop"}', 'message_stop'),
  );
  return { status: 200, headers: providerHeaders('anthropic', SSE_TYPE), events };
}
