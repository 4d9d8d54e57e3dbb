/**
 * Provider-looking ids (`chatcmpl-…`, `resp_…`, `msg_…`, `req_…`). Unique per process and cheap:
 * a random per-process stem plus a counter, no crypto call per request.
 */
import { randomBytes } from 'node:crypto';

const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const stemBytes = randomBytes(24);
const alphaStem = Array.from(stemBytes, (b) => ALPHANUMERIC[b % ALPHANUMERIC.length]).join('');
const hexStem = stemBytes.toString('hex');
let counter = 0;

/** The next counter value as 8 hex digits. */
function next(): string {
  counter = (counter + 1) % 0xffffffff;
  return counter.toString(16).padStart(8, '0');
}

/** `chatcmpl-` + 29 alphanumerics, like OpenAI Chat Completions. */
export function chatCompletionId(): string {
  return `chatcmpl-${alphaStem.slice(0, 21)}${next()}`;
}

/** `resp_` + 50 hex digits, like the Responses API. */
export function responseId(): string {
  return `resp_${hexStem.slice(0, 42)}${next()}`;
}

/** `msg_` + 50 hex digits: the id of a Responses API output message. */
export function responseMessageId(): string {
  return `msg_${hexStem.slice(6, 48)}${next()}`;
}

/** `msg_01` + 22 alphanumerics, like Anthropic Messages. */
export function anthropicMessageId(): string {
  return `msg_01${alphaStem.slice(0, 14)}${next()}`;
}

/** OpenAI `x-request-id`: `req_` + 32 hex digits. */
export function openaiRequestId(): string {
  return `req_${hexStem.slice(0, 24)}${next()}`;
}

/** Anthropic `request-id`: `req_011C` + 20 alphanumerics. */
export function anthropicRequestId(): string {
  return `req_011C${alphaStem.slice(2, 14)}${next()}`;
}
