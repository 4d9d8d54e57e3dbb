/** What the fake provider records about each request, and which endpoint it targets. */
import type { IncomingHttpHeaders } from 'node:http';

/** The endpoints the fake answers; matched on the pathname only (`?beta=true` is ignored). */
export type FakeRoute = 'chat.completions' | 'responses' | 'embeddings' | 'messages';

export type FakeProviderName = 'openai' | 'anthropic';

const ROUTES: Readonly<Record<string, FakeRoute>> = {
  '/v1/chat/completions': 'chat.completions',
  '/v1/responses': 'responses',
  '/v1/embeddings': 'embeddings',
  '/v1/messages': 'messages',
};

export function routeOf(pathname: string): FakeRoute | undefined {
  return ROUTES[pathname];
}

/** The provider whose error shape a path gets: Anthropic for `/v1/messages…`, else OpenAI. */
export function providerOf(pathname: string): FakeProviderName {
  return pathname.startsWith('/v1/messages') ? 'anthropic' : 'openai';
}

export interface FakeRequest {
  method: string;
  /** Path with query, as sent: `/v1/messages?beta=true`. */
  path: string;
  /** Path without query: `/v1/messages`. */
  pathname: string;
  /** Query string without `?` (empty when none). */
  query: string;
  route: FakeRoute | undefined;
  headers: IncomingHttpHeaders;
  /** The parsed JSON body when it is an object; undefined for no body or non-object JSON. */
  body: Record<string, unknown> | undefined;
  /** The body text as received. */
  rawBody: string;
  /** Arrival time, epoch milliseconds. */
  time: number;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `stream: true` in the body. */
export function isStreaming(req: FakeRequest): boolean {
  return req.body?.stream === true;
}
