/**
 * POST /v1/chat/completions: a `chat.completion` body, or `chat.completion.chunk` SSE ending in
 * `data: [DONE]`. As OpenAI does, chunks carry `"usage":null` and a final `choices: []` chunk
 * carries the usage only when the request set `stream_options.include_usage: true`.
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
import { chatCompletionId } from './ids';
import { isRecord } from './request';
import { estimateInputTokens, estimateOutputTokens } from './tokens';
import { chatUsage, requestedMalformedUsage } from './usage';

const PROMPT_FIELDS = ['messages', 'tools', 'functions'] as const;

function usageOf(input: SynthesisInput): unknown {
  const { reply, body, defaults } = input;
  const malformed = requestedMalformedUsage(reply.malformedUsage, 'chat');
  if (malformed) return malformed;
  const maxTokens = body.max_completion_tokens ?? body.max_tokens;
  return chatUsage(
    {
      input: estimateInputTokens(body, PROMPT_FIELDS),
      output: estimateOutputTokens(maxTokens, defaults.outputTokens),
    },
    reply.usage,
  );
}

export function chatCompletionAnswer(input: SynthesisInput): Answer {
  const { body, reply, defaults } = input;
  const pieces = contentPieces(reply.content ?? defaults.content, reply.chunks ?? defaults.chunks);
  const id = chatCompletionId();
  const created = unixSeconds();
  const model = responseModel(input);
  const usage = usageOf(input);

  if (body.stream !== true) {
    const completion = {
      id,
      object: 'chat.completion',
      created,
      model,
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content: pieces.join(''), refusal: null, annotations: [] },
          logprobs: null,
          finish_reason: 'stop',
        },
      ],
      usage,
      service_tier: 'default',
      system_fingerprint: null,
    };
    return {
      status: 200,
      headers: providerHeaders('openai', JSON_TYPE),
      body: JSON.stringify(completion),
    };
  }

  const includeUsage = isRecord(body.stream_options) && body.stream_options.include_usage === true;
  const head = `{"id":"${id}","object":"chat.completion.chunk","created":${created},"model":${JSON.stringify(model)},"service_tier":"default","system_fingerprint":null,"choices":[`;
  const tail = includeUsage ? '],"usage":null}' : ']}';
  const events: string[] = [
    sseEvent(
      `${head}{"index":0,"delta":{"role":"assistant","content":"","refusal":null},"logprobs":null,"finish_reason":null}${tail}`,
    ),
  ];
  for (const piece of pieces) {
    events.push(
      sseEvent(
        `${head}{"index":0,"delta":{"content":${JSON.stringify(piece)}},"logprobs":null,"finish_reason":null}${tail}`,
      ),
    );
  }
  events.push(
    sseEvent(`${head}{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}${tail}`),
  );
  if (includeUsage) events.push(sseEvent(`${head}],"usage":${JSON.stringify(usage)}}`));
  events.push(sseEvent('[DONE]'));
  return { status: 200, headers: providerHeaders('openai', SSE_TYPE), events };
}
