/** The scripted answers a test can queue or return from a handler. */
import type { FakeRequest, FakeRoute } from './request';
import type { UsagePatch } from './usage';

/** Options every reply accepts. */
export interface ReplyCommon {
  /**
   * Which requests a queued reply may answer: a route, several routes or a predicate. Without
   * it, the reply answers the next request to any path.
   */
  match?: FakeRoute | readonly FakeRoute[] | ((req: FakeRequest) => boolean);
  /** Latency before the status line and headers. */
  delayMs?: number;
  /** Latency between stream events. */
  chunkDelayMs?: number;
  /**
   * Streams: send this many SSE events (0 = headers only), then destroy the socket; a count at
   * or above the number of events sends the whole stream. Non-streaming answers: send the
   * headers and half of the body, then destroy the socket.
   */
  abortAfterChunks?: number;
  /** Extra response headers, set last (they override the defaults). */
  headers?: Record<string, string>;
}

/** A synthetic, provider-shaped success answer (the default behaviour, with overrides). */
export interface SyntheticReply extends ReplyCommon {
  /** Partial usage in the answering provider's own shape; the rest is estimated. */
  usage?: UsagePatch;
  /** The response's `model` (default: the request model, or the server's `responseModel`). */
  model?: string;
  /** The assistant text. */
  content?: string;
  /** Number of content delta events in a stream. */
  chunks?: number;
  /** Send a usage block with wrong types / negative / missing fields, or exactly this object. */
  malformedUsage?: boolean | Record<string, unknown>;
  /** Anthropic: the thinking text; a thinking block is also sent when the request enables it. */
  thinking?: string | boolean;
  /** Anthropic streams: `message_delta.usage` with `output_tokens` only, or all cumulative counts. */
  anthropicDeltaUsage?: AnthropicDeltaUsage;
}

/** Serve a recording from the recordings directory, byte for byte, whatever the path. */
export interface ReplayReply extends ReplyCommon {
  replay: string;
}

/** A provider-shaped error answer. */
export interface ErrorReply extends ReplyCommon {
  status: number;
  /** Message, or the fields of the provider error object (OpenAI `type`/`code`/`param`). */
  error?: string | { message?: string; type?: string; code?: string | null; param?: string | null };
  /** `retry-after` header (seconds or an HTTP date). */
  retryAfter?: number | string;
  /** `retry-after-ms` header. */
  retryAfterMs?: number;
  /** `x-should-retry` header: the SDKs obey it over their status-based default. */
  shouldRetry?: boolean;
  /** A body to send instead of the provider-shaped one (string sent as-is, else JSON). */
  body?: unknown;
}

/** Destroy the socket without answering (the SDK sees a connection error). */
export interface DropReply extends ReplyCommon {
  dropConnection: true;
}

export type FakeReply = SyntheticReply | ReplayReply | ErrorReply | DropReply;

export type AnthropicDeltaUsage = 'output_only' | 'cumulative';

export type FakeHandler = (
  req: FakeRequest,
) => FakeReply | undefined | Promise<FakeReply | undefined>;

export function isReplayReply(reply: FakeReply): reply is ReplayReply {
  return 'replay' in reply && typeof reply.replay === 'string';
}

export function isErrorReply(reply: FakeReply): reply is ErrorReply {
  return 'status' in reply && typeof reply.status === 'number';
}

export function isDropReply(reply: FakeReply): reply is DropReply {
  return 'dropConnection' in reply && reply.dropConnection === true;
}

/** Whether a queued reply may answer this request. */
export function replyMatches(reply: FakeReply, req: FakeRequest): boolean {
  const { match } = reply;
  if (match === undefined) return true;
  if (typeof match === 'function') return match(req);
  if (typeof match === 'string') return req.route === match;
  return req.route !== undefined && match.includes(req.route);
}
