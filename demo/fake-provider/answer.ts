/**
 * A prepared HTTP answer (status, headers, and a body or SSE events) and the shared inputs the
 * endpoint modules build it from. The server writes it, applying latency and aborts.
 */
import { anthropicRequestId, openaiRequestId } from './ids';
import type { AnthropicDeltaUsage, SyntheticReply } from './reply';
import type { FakeProviderName, FakeRoute } from './request';

export type AnswerHeaders = Record<string, string>;

export interface BodyAnswer {
  status: number;
  headers: AnswerHeaders;
  body: string;
}

export interface StreamAnswer {
  status: number;
  headers: AnswerHeaders;
  /** Complete SSE events, each ending in a blank line. */
  events: readonly string[];
}

export type Answer = BodyAnswer | StreamAnswer;

export function isStreamAnswer(answer: Answer): answer is StreamAnswer {
  return 'events' in answer;
}

/** Server-wide defaults the synthetic answers fall back on. */
export interface SynthesisDefaults {
  outputTokens: number;
  chunks: number | undefined;
  content: string | undefined;
  responseModel: ((requestModel: string, route: FakeRoute) => string) | undefined;
  anthropicDeltaUsage: AnthropicDeltaUsage;
}

export interface SynthesisInput {
  route: FakeRoute;
  body: Record<string, unknown>;
  reply: SyntheticReply;
  defaults: SynthesisDefaults;
}

const FALLBACK_MODEL: Record<FakeRoute, string> = {
  'chat.completions': 'gpt-4o-mini',
  responses: 'gpt-4o-mini',
  embeddings: 'text-embedding-3-small',
  messages: 'claude-sonnet-4-5',
};

/** The response `model`: the reply's, else the server mapping of, else the request's. */
export function responseModel(input: SynthesisInput): string {
  if (input.reply.model !== undefined) return input.reply.model;
  const requested =
    typeof input.body.model === 'string' ? input.body.model : FALLBACK_MODEL[input.route];
  return input.defaults.responseModel
    ? input.defaults.responseModel(requested, input.route)
    : requested;
}

export function unixSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

export const JSON_TYPE = 'application/json';
export const SSE_TYPE = 'text/event-stream; charset=utf-8';

/** The headers the real APIs send that SDKs read (request ids, versions), per provider. */
export function providerHeaders(provider: FakeProviderName, contentType: string): AnswerHeaders {
  if (provider === 'anthropic') {
    const headers: AnswerHeaders = {
      'content-type': contentType,
      'request-id': anthropicRequestId(),
    };
    if (contentType === SSE_TYPE) headers['cache-control'] = 'no-cache';
    return headers;
  }
  return {
    'content-type': contentType,
    'openai-version': '2020-10-01',
    'openai-processing-ms': '0',
    'access-control-expose-headers': 'X-Request-ID',
    'x-request-id': openaiRequestId(),
  };
}

/** One SSE event: optional `event:` line, one `data:` line, blank line. */
export function sseEvent(data: string, event?: string): string {
  return event === undefined ? `data: ${data}\n\n` : `event: ${event}\ndata: ${data}\n\n`;
}
