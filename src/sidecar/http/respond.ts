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

/** Extra answer headers: an object, or a flat list of names and values (cheaper to pass on). */
export type AnswerHeaders = Record<string, string> | readonly string[];

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: AnswerHeaders = [],
): void {
  send(res, status, 'application/json', JSON.stringify(body), headers);
}

/** A JSON body already serialised (the allowed answers, written as text on the hot path). */
export function sendJsonText(
  res: ServerResponse,
  status: number,
  json: string,
  headers: AnswerHeaders = [],
): void {
  send(res, status, 'application/json', json, headers);
}

export function sendProblem(
  res: ServerResponse,
  status: number,
  problem: object,
  headers: AnswerHeaders = [],
): void {
  send(res, status, PROBLEM_CONTENT_TYPE, JSON.stringify(problem), headers);
}

function send(
  res: ServerResponse,
  status: number,
  contentType: string,
  text: string,
  headers: AnswerHeaders,
): void {
  // A flat list: node:http takes it as is, where an object is walked key by key.
  const all = [
    'content-type',
    contentType,
    'content-length',
    String(Buffer.byteLength(text)),
    'cache-control',
    'no-store',
  ];
  if (Array.isArray(headers)) for (const h of headers as readonly string[]) all.push(h);
  else for (const [name, value] of Object.entries(headers)) all.push(name, value);
  res.writeHead(status, all);
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
