import type { ServerResponse } from 'node:http';
import { PROBLEM_CONTENT_TYPE, PROBLEM_TYPES } from '../../contract/budget';

/** A request the sidecar refuses as invalid: answered with a 4xx problem+json, never a 5xx. */
export class RequestProblem extends Error {
  constructor(
    readonly status: 400 | 401 | 404 | 405 | 413 | 415,
    readonly title: string,
    detail: string,
    readonly type: string = PROBLEM_TYPES.invalidRequest,
    /** Extra answer headers (`allow` of a 405, `www-authenticate` of a 401). */
    readonly headers: Record<string, string> = {},
  ) {
    super(detail);
  }
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  send(res, status, 'application/json', body, headers);
}

export function sendProblem(
  res: ServerResponse,
  status: number,
  problem: object,
  headers: Record<string, string> = {},
): void {
  send(res, status, PROBLEM_CONTENT_TYPE, problem, headers);
}

function send(
  res: ServerResponse,
  status: number,
  contentType: string,
  body: unknown,
  headers: Record<string, string>,
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': contentType,
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
    ...headers,
  });
  res.end(text);
}

export function requestProblemBody(err: RequestProblem): object {
  return { type: err.type, title: err.title, status: err.status, detail: err.message };
}

/** JSON on one line with every non-ASCII character escaped: safe as an HTTP header value. */
export function headerSafeJson(value: unknown): string {
  return JSON.stringify(value).replace(
    /[\u007f-\uffff]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}
