/**
 * The fake provider: a node:http server the real OpenAI and Anthropic SDK clients talk to. It
 * records every request, answers from the reply queue, then the handler, then the synthetic
 * defaults, and writes answers with optional latency and mid-stream aborts.
 */
import { type IncomingMessage, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

import { messagesAnswer } from './anthropic-messages';
import {
  type Answer,
  type BodyAnswer,
  type SynthesisDefaults,
  type SynthesisInput,
  isStreamAnswer,
} from './answer';
import { badJsonAnswer, errorAnswer, notFoundAnswer } from './errors';
import { chatCompletionAnswer } from './openai-chat';
import { embeddingsAnswer } from './openai-embeddings';
import { responsesAnswer } from './openai-responses';
import { loadRecording } from './recordings';
import {
  type AnthropicDeltaUsage,
  type FakeHandler,
  type FakeReply,
  isDropReply,
  isErrorReply,
  isReplayReply,
  replyMatches,
} from './reply';
import { type FakeRequest, type FakeRoute, isRecord, providerOf, routeOf } from './request';

export interface FakeProviderOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0 (an ephemeral port). */
  port?: number;
  /** Per-request logic, asked after the queue; return undefined for the default answer. */
  handler?: FakeHandler;
  /** Latency for every answer (default 0): before the headers, and between stream events. */
  latency?: { firstByteMs?: number; perChunkMs?: number };
  /** Default number of content delta events per stream (default: one per word). */
  chunks?: number;
  /** Default assistant text. */
  content?: string;
  /** Output tokens when neither the reply nor a lower request max sets them (default 32). */
  defaultOutputTokens?: number;
  /** The response `model`: a fixed id, or a mapping of the request model (e.g. to a snapshot). */
  responseModel?: string | ((requestModel: string, route: FakeRoute) => string);
  /** Anthropic stream `message_delta.usage`: as recorded (`output_only`, default) or `cumulative`. */
  anthropicDeltaUsage?: AnthropicDeltaUsage;
  /** Keep every request in `requests` (default true; benchmarks may turn it off). */
  recordRequests?: boolean;
  /** Where `replay` replies read recordings (default: see resolveRecordingsDir). */
  recordingsDir?: string;
}

export interface FakeProvider {
  /** Base URL, e.g. http://127.0.0.1:PORT */
  readonly url: string;
  readonly port: number;
  /** `${url}/v1`, for `new OpenAI({ baseURL })`. */
  readonly openaiBaseURL: string;
  /** `url`, for `new Anthropic({ baseURL })`. */
  readonly anthropicBaseURL: string;
  /** Every request received, in arrival order (the same array across `reset()`). */
  readonly requests: FakeRequest[];
  /** Replies not yet consumed. */
  readonly pendingReplies: number;
  /** Queues replies; each answers the next request it matches, in order. */
  enqueue(...replies: FakeReply[]): void;
  /** Replaces the handler (undefined removes it). */
  setHandler(handler: FakeHandler | undefined): void;
  /** Clears the recorded requests and the reply queue. */
  reset(): void;
  /** Stops listening, destroys every socket and cancels pending delays. */
  close(): Promise<void>;
}

export async function startFakeProvider(options: FakeProviderOptions = {}): Promise<FakeProvider> {
  const requests: FakeRequest[] = [];
  const queue: FakeReply[] = [];
  let handler = options.handler;
  let closed = false;
  const timers = new Map<NodeJS.Timeout, (proceed: boolean) => void>();

  const firstByteMs = options.latency?.firstByteMs ?? 0;
  const perChunkMs = options.latency?.perChunkMs ?? 0;
  const recordRequests = options.recordRequests ?? true;
  const { responseModel } = options;
  const defaults: SynthesisDefaults = {
    outputTokens: options.defaultOutputTokens ?? 32,
    chunks: options.chunks,
    content: options.content,
    responseModel:
      typeof responseModel === 'string' ? () => responseModel : (responseModel ?? undefined),
    anthropicDeltaUsage: options.anthropicDeltaUsage ?? 'output_only',
  };

  /** Resolves true after `ms`, or false at once if the server closes first. */
  function wait(ms: number): Promise<boolean> {
    if (closed) return Promise.resolve(false);
    if (ms <= 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        timers.delete(timer);
        resolve(true);
      }, ms);
      timers.set(timer, resolve);
    });
  }

  async function chooseReply(req: FakeRequest): Promise<FakeReply | undefined> {
    const index = queue.findIndex((reply) => replyMatches(reply, req));
    if (index >= 0) return queue.splice(index, 1)[0];
    return handler ? await handler(req) : undefined;
  }

  async function answerFor(req: FakeRequest, reply: FakeReply | undefined): Promise<Answer> {
    const provider = providerOf(req.pathname);
    if (reply && isReplayReply(reply)) {
      const recording = await loadRecording(reply.replay, options.recordingsDir);
      const headers = { ...recording.headers };
      return recording.events
        ? { status: recording.status, headers, events: recording.events }
        : { status: recording.status, headers, body: recording.body };
    }
    if (reply && isErrorReply(reply)) return errorAnswer(provider, reply);
    if (req.route === undefined || req.method !== 'POST') {
      return notFoundAnswer(provider, req.method, req.path);
    }
    if (!req.body) return badJsonAnswer(provider);
    const input: SynthesisInput = {
      route: req.route,
      body: req.body,
      reply: reply ?? {},
      defaults,
    };
    switch (req.route) {
      case 'chat.completions':
        return chatCompletionAnswer(input);
      case 'responses':
        return responsesAnswer(input);
      case 'embeddings':
        return embeddingsAnswer(input);
      case 'messages':
        return messagesAnswer(input);
    }
  }

  async function respond(req: FakeRequest, res: ServerResponse): Promise<void> {
    const reply = await chooseReply(req);
    const delayMs = reply?.delayMs ?? firstByteMs;
    if (reply && isDropReply(reply)) {
      if (await wait(delayMs)) res.destroy();
      return;
    }
    const answer = await answerFor(req, reply);
    if (!(await wait(delayMs))) return;
    const headers = reply?.headers ? { ...answer.headers, ...reply.headers } : answer.headers;
    const abortAfter = reply?.abortAfterChunks;

    if (!isStreamAnswer(answer)) {
      res.writeHead(answer.status, {
        ...headers,
        'content-length': String(Buffer.byteLength(answer.body)),
      });
      if (abortAfter === undefined) {
        res.end(answer.body);
      } else {
        writeThenDestroy(res, answer.body.slice(0, Math.floor(answer.body.length / 2)));
      }
      return;
    }

    res.writeHead(answer.status, headers);
    const chunkDelayMs = reply?.chunkDelayMs ?? perChunkMs;
    const { events } = answer;
    // Aborting after as many events as there are would be a complete stream: send it whole.
    const abortAt =
      abortAfter !== undefined && abortAfter < events.length
        ? Math.max(0, Math.floor(abortAfter))
        : undefined;
    if (abortAt === undefined && chunkDelayMs <= 0) {
      res.write(events.join(''));
      res.end();
      return;
    }
    if (abortAt === 0) {
      writeThenDestroy(res, '');
      return;
    }
    const count = abortAt ?? events.length;
    for (let i = 0; i < count; i++) {
      if (i > 0 && !(await wait(chunkDelayMs))) return;
      if (res.destroyed) return;
      const event = events[i] ?? '';
      if (abortAt !== undefined && i === count - 1) {
        writeThenDestroy(res, event);
        return;
      }
      res.write(event);
    }
    res.end();
  }

  const server = createServer((incoming, res) => {
    const chunks: Buffer[] = [];
    incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
    incoming.on('end', () => {
      const req = toFakeRequest(incoming, Buffer.concat(chunks).toString('utf8'));
      if (recordRequests) requests.push(req);
      respond(req, res).catch((error: unknown) => sendInternalError(res, req, error));
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `http://${host}:${address.port}`;

  return {
    url,
    port: address.port,
    openaiBaseURL: `${url}/v1`,
    anthropicBaseURL: url,
    requests,
    get pendingReplies() {
      return queue.length;
    },
    enqueue(...replies: FakeReply[]) {
      queue.push(...replies);
    },
    setHandler(next: FakeHandler | undefined) {
      handler = next;
    },
    reset() {
      requests.length = 0;
      queue.length = 0;
    },
    close() {
      if (closed) return Promise.resolve();
      closed = true;
      for (const [timer, resolve] of timers) {
        clearTimeout(timer);
        resolve(false);
      }
      timers.clear();
      return new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      });
    },
  };
}

function toFakeRequest(incoming: IncomingMessage, rawBody: string): FakeRequest {
  const path = incoming.url ?? '/';
  const queryAt = path.indexOf('?');
  const pathname = queryAt >= 0 ? path.slice(0, queryAt) : path;
  let body: Record<string, unknown> | undefined;
  if (rawBody.length > 0) {
    try {
      const parsed: unknown = JSON.parse(rawBody);
      if (isRecord(parsed)) body = parsed;
    } catch {
      // recorded as rawBody; a synthetic answer turns this into a 400
    }
  }
  return {
    method: incoming.method ?? 'GET',
    path,
    pathname,
    query: queryAt >= 0 ? path.slice(queryAt + 1) : '',
    route: routeOf(pathname),
    headers: incoming.headers,
    body,
    rawBody,
    time: Date.now(),
  };
}

/** Writes the last bytes, then destroys the socket once they are flushed. */
function writeThenDestroy(res: ServerResponse, data: string): void {
  if (data.length === 0) {
    res.flushHeaders();
    setImmediate(() => res.destroy());
    return;
  }
  res.write(data, () => res.destroy());
}

function sendInternalError(res: ServerResponse, req: FakeRequest, error: unknown): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const answer: BodyAnswer = errorAnswer(providerOf(req.pathname), {
    status: 500,
    error: `fake provider: ${error instanceof Error ? error.message : String(error)}`,
  });
  res.writeHead(answer.status, answer.headers);
  res.end(answer.body);
}
