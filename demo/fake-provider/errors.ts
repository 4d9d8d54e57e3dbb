/**
 * Provider-shaped error answers. OpenAI: `{"error":{"message","type","param","code"}}` with
 * `x-request-id`; Anthropic: `{"type":"error","error":{"type","message"},"request_id"}` with
 * `request-id`. The SDKs map the status to their typed errors (RateLimitError, …) and retry
 * 408/409/429/5xx unless `x-should-retry: false` says otherwise.
 */
import { type BodyAnswer, JSON_TYPE, providerHeaders } from './answer';
import type { ErrorReply } from './reply';
import type { FakeProviderName } from './request';

interface ErrorDefaults {
  type: string;
  code: string | null;
  message: string;
}

function openaiDefaults(status: number): ErrorDefaults {
  switch (status) {
    case 400:
      return { type: 'invalid_request_error', code: null, message: 'Invalid request.' };
    case 401:
      return {
        type: 'invalid_request_error',
        code: 'invalid_api_key',
        message: 'Incorrect API key provided.',
      };
    case 403:
      return {
        type: 'invalid_request_error',
        code: 'unsupported_country_region_territory',
        message: 'Country, region, or territory not supported',
      };
    case 404:
      return {
        type: 'invalid_request_error',
        code: 'model_not_found',
        message: 'The model does not exist or you do not have access to it.',
      };
    case 429:
      return {
        type: 'requests',
        code: 'rate_limit_exceeded',
        message: 'Rate limit reached for requests. Please try again in 1s.',
      };
    default:
      return status >= 500
        ? {
            type: 'server_error',
            code: null,
            message: 'The server had an error while processing your request. Sorry about that!',
          }
        : { type: 'invalid_request_error', code: null, message: `Request failed (${status}).` };
  }
}

function anthropicDefaults(status: number): Omit<ErrorDefaults, 'code'> {
  const types: Record<number, [string, string]> = {
    400: ['invalid_request_error', 'Invalid request.'],
    401: ['authentication_error', 'invalid x-api-key'],
    403: [
      'permission_error',
      'Your API key does not have permission to use the specified resource.',
    ],
    404: ['not_found_error', 'The requested resource could not be found.'],
    413: ['request_too_large', 'Request exceeds the maximum allowed number of bytes.'],
    429: ['rate_limit_error', 'Number of request tokens has exceeded your per-minute rate limit.'],
    500: ['api_error', 'Internal server error'],
    529: ['overloaded_error', 'Overloaded'],
  };
  const [type, message] =
    types[status] ??
    (status >= 500
      ? ['api_error', 'Internal server error']
      : ['invalid_request_error', `Request failed (${status}).`]);
  return { type, message };
}

export function errorAnswer(provider: FakeProviderName, reply: ErrorReply): BodyAnswer {
  const headers = providerHeaders(provider, JSON_TYPE);
  if (reply.retryAfter !== undefined) headers['retry-after'] = String(reply.retryAfter);
  if (reply.retryAfterMs !== undefined) headers['retry-after-ms'] = String(reply.retryAfterMs);
  if (reply.shouldRetry !== undefined) headers['x-should-retry'] = String(reply.shouldRetry);

  if (reply.body !== undefined) {
    const body = typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body);
    return { status: reply.status, headers, body };
  }
  const given = typeof reply.error === 'string' ? { message: reply.error } : (reply.error ?? {});
  if (provider === 'anthropic') {
    const defaults = anthropicDefaults(reply.status);
    const error = {
      type: 'error',
      error: { type: given.type ?? defaults.type, message: given.message ?? defaults.message },
      request_id: headers['request-id'],
    };
    return { status: reply.status, headers, body: JSON.stringify(error) };
  }
  const defaults = openaiDefaults(reply.status);
  const error = {
    error: {
      message: given.message ?? defaults.message,
      type: given.type ?? defaults.type,
      param: given.param ?? null,
      code: given.code !== undefined ? given.code : defaults.code,
    },
  };
  return { status: reply.status, headers, body: JSON.stringify(error) };
}

/** 404 for paths the fake does not serve, in the provider's shape. */
export function notFoundAnswer(
  provider: FakeProviderName,
  method: string,
  path: string,
): BodyAnswer {
  return errorAnswer(provider, {
    status: 404,
    error:
      provider === 'anthropic'
        ? { type: 'not_found_error', message: `Not found: ${method} ${path}` }
        : { message: `Invalid URL (${method} ${path})`, type: 'invalid_request_error', code: null },
  });
}

/** 400 for a body that is not a JSON object. */
export function badJsonAnswer(provider: FakeProviderName): BodyAnswer {
  return errorAnswer(provider, {
    status: 400,
    error:
      provider === 'anthropic'
        ? {
            type: 'invalid_request_error',
            message: 'There was an issue with your request body: invalid JSON',
          }
        : {
            message:
              "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly.)",
            type: 'invalid_request_error',
            code: null,
          },
  });
}
