import type { IncomingMessage } from 'node:http';
import { PROBLEM_TYPES } from '../../contract/budget';
import { SUBJECT_PATTERN } from '../config/schema';
import { RequestProblem } from './respond';

/** A user, feature or plan value: absent, or valid by SUBJECT_PATTERN. Never used in PromQL. */
export function subject(name: string, value: unknown): string | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string' || !SUBJECT_PATTERN.test(value)) {
    throw new RequestProblem(
      400,
      'Invalid request',
      `${name} must be 1-200 characters of A-Z a-z 0-9 . _ : @ + = / ~ | -`,
    );
  }
  return value;
}

/** One query parameter; given twice is an error (which one would count is ambiguous). */
export function queryParam(params: URLSearchParams, name: string): string | undefined {
  const all = params.getAll(name);
  if (all.length > 1)
    throw new RequestProblem(400, 'Invalid request', `${name} given ${all.length} times`);
  return all[0];
}

/** One request header (Node joins repeated ones with a comma, which SUBJECT_PATTERN refuses). */
export function headerParam(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name.toLowerCase()];
  return Array.isArray(v) ? v.join(',') : v?.trim();
}

/** Largest JSON body accepted by reserve and settle. */
export const MAX_BODY_BYTES = 16 * 1024;

/** Reads a JSON object body: 415 if not JSON, 413 above the limit, 400 if it does not parse. */
export async function jsonBody(req: IncomingMessage): Promise<Record<string, unknown>> {
  const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
  if (type !== 'application/json') {
    throw new RequestProblem(415, 'Unsupported media type', 'send the body as application/json');
  }
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > MAX_BODY_BYTES) throw tooLarge(req);
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of req as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) throw tooLarge(req);
      chunks.push(chunk);
    }
  } catch (err) {
    if (err instanceof RequestProblem) throw err;
    // The client went away or broke the chunked framing: a bad request, not an internal error.
    throw new RequestProblem(400, 'Invalid request', 'the body ended before it was complete');
  }
  let body: unknown;
  try {
    body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new RequestProblem(400, 'Invalid request', 'the body is not valid JSON');
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new RequestProblem(400, 'Invalid request', 'the body must be a JSON object');
  }
  return body as Record<string, unknown>;
}

/** Drains the rest of the body (so the connection stays usable) and makes the 413. */
function tooLarge(req: IncomingMessage): RequestProblem {
  req.resume();
  return new RequestProblem(
    413,
    'Payload too large',
    `bodies are limited to ${MAX_BODY_BYTES} bytes`,
    PROBLEM_TYPES.payloadTooLarge,
  );
}

/** A non-negative finite USD amount. */
export function usd(name: string, value: unknown, required: boolean): number | undefined {
  if (value === undefined && !required) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > 1e6) {
    throw new RequestProblem(
      400,
      'Invalid request',
      `${name} must be a number of USD from 0 to 1000000`,
    );
  }
  return value;
}
