/**
 * POST /v1/responses: a `response` object, or the Responses SSE sequence of the recording
 * (`response.created`, `response.in_progress`, `response.output_item.added`,
 * `response.content_part.added`, N × `response.output_text.delta`, `response.output_text.done`,
 * `response.content_part.done`, `response.output_item.done`, `response.completed` with usage).
 */
import {
  type Answer,
  type SynthesisInput,
  JSON_TYPE,
  SSE_TYPE,
  providerHeaders,
  responseModel,
  sseEvent,
  unixSeconds,
} from './answer';
import { contentPieces } from './content';
import { responseId, responseMessageId } from './ids';
import { isRecord } from './request';
import { estimateInputTokens, estimateOutputTokens } from './tokens';
import { responsesUsage, requestedMalformedUsage } from './usage';

const PROMPT_FIELDS = ['input', 'instructions', 'tools'] as const;

/** Real deltas carry random padding; a fixed string keeps answers deterministic. */
const OBFUSCATION = 'fakeProviderPad';

function usageOf(input: SynthesisInput): unknown {
  const { reply, body, defaults } = input;
  const malformed = requestedMalformedUsage(reply.malformedUsage, 'responses');
  if (malformed) return malformed;
  return responsesUsage(
    {
      input: estimateInputTokens(body, PROMPT_FIELDS),
      output: estimateOutputTokens(body.max_output_tokens, defaults.outputTokens),
    },
    reply.usage,
  );
}

function orNull(value: unknown): unknown {
  return value === undefined ? null : value;
}

interface ResponseParts {
  id: string;
  createdAt: number;
  model: string;
  body: Record<string, unknown>;
}

/** The `response` object, in the key order of the recordings. */
function responseObject(
  parts: ResponseParts,
  status: 'in_progress' | 'completed',
  output: unknown[],
  usage: unknown,
): Record<string, unknown> {
  const { body } = parts;
  const reasoning = isRecord(body.reasoning) ? body.reasoning : {};
  return {
    id: parts.id,
    object: 'response',
    created_at: parts.createdAt,
    status,
    background: body.background === true,
    billing: { payer: 'developer' },
    completed_at: status === 'completed' ? unixSeconds() : null,
    error: null,
    frequency_penalty: 0,
    incomplete_details: null,
    instructions: orNull(body.instructions),
    max_output_tokens: orNull(body.max_output_tokens),
    max_tool_calls: orNull(body.max_tool_calls),
    model: parts.model,
    output,
    parallel_tool_calls: body.parallel_tool_calls !== false,
    presence_penalty: 0,
    previous_response_id: orNull(body.previous_response_id),
    prompt_cache_key: orNull(body.prompt_cache_key),
    prompt_cache_retention: orNull(body.prompt_cache_retention),
    reasoning: { effort: orNull(reasoning.effort), summary: orNull(reasoning.summary) },
    safety_identifier: orNull(body.safety_identifier),
    service_tier: status === 'completed' ? 'default' : 'auto',
    store: body.store !== false,
    temperature: typeof body.temperature === 'number' ? body.temperature : 1,
    text: { format: { type: 'text' }, verbosity: 'medium' },
    tool_choice: body.tool_choice ?? 'auto',
    tools: Array.isArray(body.tools) ? body.tools : [],
    top_logprobs: 0,
    top_p: typeof body.top_p === 'number' ? body.top_p : 1,
    truncation: 'disabled',
    usage,
    user: orNull(body.user),
    metadata: isRecord(body.metadata) ? body.metadata : {},
  };
}

function messageItem(itemId: string, text: string): Record<string, unknown> {
  return {
    id: itemId,
    type: 'message',
    status: 'completed',
    content: [{ type: 'output_text', annotations: [], logprobs: [], text }],
    role: 'assistant',
  };
}

export function responsesAnswer(input: SynthesisInput): Answer {
  const { body, reply, defaults } = input;
  const pieces = contentPieces(reply.content ?? defaults.content, reply.chunks ?? defaults.chunks);
  const text = pieces.join('');
  const parts: ResponseParts = {
    id: responseId(),
    createdAt: unixSeconds(),
    model: responseModel(input),
    body,
  };
  const itemId = responseMessageId();
  const usage = usageOf(input);

  if (body.stream !== true) {
    return {
      status: 200,
      headers: providerHeaders('openai', JSON_TYPE),
      body: JSON.stringify(responseObject(parts, 'completed', [messageItem(itemId, text)], usage)),
    };
  }

  let seq = 0;
  const event = (type: string, fields: string): string =>
    sseEvent(`{"type":"${type}",${fields},"sequence_number":${seq++}}`, type);
  const inProgress = JSON.stringify(responseObject(parts, 'in_progress', [], null));
  const itemIdJson = JSON.stringify(itemId);
  const textJson = JSON.stringify(text);
  const part = `{"type":"output_text","annotations":[],"logprobs":[],"text":${textJson}}`;

  const events: string[] = [
    event('response.created', `"response":${inProgress}`),
    event('response.in_progress', `"response":${inProgress}`),
    event(
      'response.output_item.added',
      `"item":{"id":${itemIdJson},"type":"message","status":"in_progress","content":[],"role":"assistant"},"output_index":0`,
    ),
    event(
      'response.content_part.added',
      `"content_index":0,"item_id":${itemIdJson},"output_index":0,"part":{"type":"output_text","annotations":[],"logprobs":[],"text":""}`,
    ),
  ];
  for (const piece of pieces) {
    events.push(
      event(
        'response.output_text.delta',
        `"content_index":0,"delta":${JSON.stringify(piece)},"item_id":${itemIdJson},"logprobs":[],"obfuscation":"${OBFUSCATION}","output_index":0`,
      ),
    );
  }
  events.push(
    event(
      'response.output_text.done',
      `"content_index":0,"item_id":${itemIdJson},"logprobs":[],"output_index":0,"text":${textJson}`,
    ),
    event(
      'response.content_part.done',
      `"content_index":0,"item_id":${itemIdJson},"output_index":0,"part":${part}`,
    ),
    event(
      'response.output_item.done',
      `"item":${JSON.stringify(messageItem(itemId, text))},"output_index":0`,
    ),
    event(
      'response.completed',
      `"response":${JSON.stringify(responseObject(parts, 'completed', [messageItem(itemId, text)], usage))}`,
    ),
  );
  return { status: 200, headers: providerHeaders('openai', SSE_TYPE), events };
}
