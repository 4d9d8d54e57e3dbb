/**
 * Pre-flight budget enforcement in the instrumentation, against a node:http double of the
 * sidecar's reserve/settle API (the real sidecar is exercised by budget-burst.test.ts): what is
 * reserved, when the request may start, what a refusal or an outage does, and the settlement.
 */
import * as anthropicModule from '@anthropic-ai/sdk';
import Anthropic from '@anthropic-ai/sdk';
import { propagation, context } from '@opentelemetry/api';
import express from 'express';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { join } from 'node:path';
import * as openaiModule from 'openai';
import OpenAI from 'openai';
import * as openaiV4Module from 'openai-v4';
import OpenAIV4 from 'openai-v4';
import * as openaiV5Module from 'openai-v5';
import OpenAIV5 from 'openai-v5';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { startFakeProvider, type FakeProvider } from '../demo/fake-provider';
import { withAttribution } from '../instrumentation/attribution';
import { configFromEnv } from '../instrumentation/config';
import { BudgetExceededError, BudgetUnavailableError } from '../instrumentation/errors';
import { internalErrorCounts } from '../instrumentation/guard';
import { budgetErrorHandler, expressMiddleware } from '../instrumentation/middleware';
import type { LlmFinopsInstrumentationConfig } from '../instrumentation/types';
import type { BudgetProblem } from '../src/contract/budget';
import { freePort } from './helpers/child';
import { startHarness, type Harness } from './helpers/harness';

const PROBLEM = JSON.parse(
  readFileSync(join(__dirname, 'fixtures', 'budget', 'user-problem.json'), 'utf8'),
) as BudgetProblem;

// Catalog rates, USD per token (pricing/catalog.yaml, 2026-12-01).
const GPT4O_MINI = { input: 0.15e-6, output: 0.6e-6 };
const O4_MINI = { input: 1.1e-6, output: 4.4e-6 };
const SONNET_4_5 = { input: 3e-6, cacheWrite: 3.75e-6, output: 15e-6 };
const EMBED_3_SMALL = { input: 0.02e-6 };

// ---------------------------------------------------------------------------------------------
// The sidecar double: POST /v1/reserve and /v1/settle, scriptable answers, every request kept.

interface SidecarRequest {
  path: string;
  headers: IncomingHttpHeaders;
  body: Record<string, unknown>;
  /** Which connection carried it (1, 2, ... in order of first use). */
  socket: number;
  receivedAt: number;
  answer?: Answer;
  answeredAt?: number;
}

interface Answer {
  status: number;
  body?: unknown;
  /** Sent as is instead of JSON. */
  raw?: string;
  delayMs?: number;
}

interface SidecarDouble {
  url: string;
  requests: SidecarRequest[];
  reserves(): SidecarRequest[];
  settles(): SidecarRequest[];
  /** Answers replacing the defaults (return undefined for the default answer). */
  script(fn: ((req: SidecarRequest) => Answer | undefined) | undefined): void;
  close(): Promise<void>;
}

async function startSidecarDouble(): Promise<SidecarDouble> {
  const requests: SidecarRequest[] = [];
  let script: ((req: SidecarRequest) => Answer | undefined) | undefined;
  let reserved = 0;
  let sockets = 0;
  const socketIds = new WeakMap<Socket, number>();
  const timers = new Set<NodeJS.Timeout>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (!socketIds.has(req.socket)) socketIds.set(req.socket, ++sockets);
      const entry: SidecarRequest = {
        path: req.url ?? '',
        headers: req.headers,
        body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>,
        socket: socketIds.get(req.socket)!,
        receivedAt: Date.now(),
      };
      requests.push(entry);
      const answer =
        script?.(entry) ??
        (entry.path === '/v1/reserve'
          ? {
              status: 200,
              body: {
                id: `r-${++reserved}`,
                expires_at: '2099-01-01T00:00:00Z',
                allowed: true,
                state: 'ok',
                budgets: [],
              },
            }
          : { status: 200, body: { settled: true, reservation: 'released' } });
      entry.answer = answer;
      const timer = setTimeout(() => {
        timers.delete(timer);
        entry.answeredAt = Date.now();
        res.writeHead(answer.status, {
          'content-type': answer.raw === undefined ? 'application/json' : 'text/plain',
        });
        res.end(answer.raw ?? JSON.stringify(answer.body));
      }, answer.delayMs ?? 0);
      timers.add(timer);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    reserves: () => requests.filter((r) => r.path === '/v1/reserve'),
    settles: () => requests.filter((r) => r.path === '/v1/settle'),
    script(fn) {
      script = fn;
    },
    close() {
      for (const t of timers) clearTimeout(t);
      return new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

// ---------------------------------------------------------------------------------------------

let fake: FakeProvider;
let sidecar: SidecarDouble;
let h: Harness;
let warnings: string[];

beforeAll(async () => {
  fake = await startFakeProvider();
  sidecar = await startSidecarDouble();
});
afterAll(async () => {
  await fake.close();
  await sidecar.close();
});
beforeEach(async () => {
  // The previous test's settles are sent after its calls returned: let them land first.
  await settleDown();
  fake.reset();
  sidecar.requests.length = 0;
  sidecar.script(undefined);
  warnings = [];
  vi.spyOn(process, 'emitWarning').mockImplementation((w: string | Error) => {
    warnings.push(String(w));
  });
  useHarness({});
});
afterEach(() => {
  vi.restoreAllMocks();
});

/** A fresh runtime enforcing budgets with the double (options override), SDKs patched. */
function useHarness(options: Partial<LlmFinopsInstrumentationConfig>): void {
  h = startHarness({ sidecarUrl: sidecar.url, sidecarTimeoutMs: 300, ...options });
  h.instrumentation.patchModule('openai', openaiModule);
  h.instrumentation.patchModule('openai', openaiV5Module);
  h.instrumentation.patchModule('openai', openaiV4Module);
  h.instrumentation.patchModule('@anthropic-ai/sdk', anthropicModule);
}

const openai = () => new OpenAI({ apiKey: 'test', baseURL: fake.openaiBaseURL, maxRetries: 0 });
const anthropic = () =>
  new Anthropic({ apiKey: 'test', baseURL: fake.anthropicBaseURL, maxRetries: 0 });
const messages = [{ role: 'user' as const, content: 'hello' }];
const chat = (client = openai()) =>
  client.chat.completions.create({ model: 'gpt-4o-mini', max_tokens: 50, messages });

async function thrown(fn: () => Promise<unknown>): Promise<unknown> {
  try {
    await fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected a throw');
}

async function until(check: () => boolean, what: string, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Lets any late reserve/settle arrive, so "exactly one" is not read too early. */
const settleDown = () => new Promise((r) => setTimeout(r, 150));

function denyAll(): void {
  sidecar.script((req) =>
    req.path === '/v1/reserve' ? { status: 402, body: PROBLEM } : undefined,
  );
}

async function expectDenied(err: unknown, calls: number): Promise<void> {
  expect(err).toBeInstanceOf(BudgetExceededError);
  expect((err as BudgetExceededError).status).toBe(402);
  expect((err as BudgetExceededError).problem).toEqual(PROBLEM);
  expect(fake.requests).toHaveLength(0);
  expect(await h.value('llm_requests_total', { status: 'denied' })).toBe(calls);
  expect(await h.value('llm_requests_total', { status: 'ok' })).toBe(0);
}

// ---------------------------------------------------------------------------------------------

describe('the reservation', () => {
  it('sends user, feature, plan and the estimate with the bearer token, before the request', async () => {
    useHarness({ sidecarToken: 's3cret' });
    sidecar.script((req) =>
      req.path === '/v1/reserve'
        ? { status: 200, body: { id: 'slow-1', allowed: true }, delayMs: 150 }
        : undefined,
    );
    const res = await withAttribution({ user: 'alice', feature: 'chat', plan: 'pro' }, () =>
      openai().chat.completions.create({
        model: 'gpt-4o-mini',
        max_tokens: 100,
        messages: [
          { role: 'system', content: 'You are terse.' },
          { role: 'user', content: 'hello there, how are you?' },
        ],
      }),
    );
    expect(res.choices[0]?.message.role).toBe('assistant');
    const [reserve] = sidecar.reserves();
    expect(sidecar.reserves()).toHaveLength(1);
    // 'system' 6 + 'You are terse.' 14 + 'user' 4 + 25 = 49 chars: 13 tokens, + 2 messages x 4.
    expect(reserve!.body).toEqual({
      user: 'alice',
      feature: 'chat',
      plan: 'pro',
      estimate_usd: 21 * GPT4O_MINI.input + 100 * GPT4O_MINI.output,
    });
    expect(reserve!.headers.authorization).toBe('Bearer s3cret');
    expect(reserve!.headers['content-type']).toBe('application/json');
    // The provider saw the request only after the sidecar answered.
    expect(fake.requests).toHaveLength(1);
    expect(fake.requests[0]!.time).toBeGreaterThanOrEqual(reserve!.answeredAt!);
  });

  it('sends the raw user id in hash mode, none in off mode, and the request user as fallback', async () => {
    useHarness({ userIdMode: 'hash', userIdHashKey: 'k' });
    await withAttribution({ user: 'alice@example.com' }, () => chat());
    useHarness({ userIdMode: 'off' });
    await withAttribution({ user: 'alice@example.com', feature: 'f' }, () => chat());
    useHarness({});
    await openai().chat.completions.create({
      model: 'gpt-4o-mini',
      max_tokens: 1,
      messages,
      user: 'req-user',
    });
    expect(sidecar.reserves().map((r) => [r.body.user, r.body.feature])).toEqual([
      ['alice@example.com', undefined],
      [undefined, 'f'],
      ['req-user', undefined],
    ]);
  });

  it('estimates Anthropic input at the cache-write rate, skipping image data, tools as JSON', async () => {
    const tools = [
      {
        name: 'get_time',
        description: 'Current time',
        input_schema: { type: 'object' as const, properties: {} },
      },
    ];
    await anthropic().messages.create({
      model: 'claude-sonnet-4-5',
      max_tokens: 200,
      system: 'Be brief.',
      tools,
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'Summarise this.' },
            {
              type: 'image',
              source: { type: 'base64', media_type: 'image/png', data: 'iVBORw0KGgo='.repeat(100) },
            },
          ],
        },
      ],
    });
    // 'Be brief.' 9 + 'user' 4 + 'text' 4 + 'Summarise this.' 15 + 'image' 5 + tools JSON 99
    // = 136 chars: 34 tokens, + 1 message x 4 = 38, at max(input, cache write).
    expect(sidecar.reserves()[0]!.body.estimate_usd).toBe(
      38 * SONNET_4_5.cacheWrite + 200 * SONNET_4_5.output,
    );
  });

  it('estimates Responses, embeddings, n choices, the default output and unpriced models', async () => {
    useHarness({ reserveOutputTokens: 2000 });
    const client = openai();
    await client.responses.create({
      model: 'o4-mini',
      instructions: 'Be brief.',
      input: 'What is 2+2?',
      max_output_tokens: 500,
    });
    await client.embeddings.create({
      model: 'text-embedding-3-small',
      input: ['abcdefgh', 'ijkl'],
      max_tokens: 999,
    } as OpenAI.EmbeddingCreateParams);
    await client.chat.completions.create({ model: 'gpt-4o-mini', n: 3, max_tokens: 10, messages });
    await client.chat.completions.create({ model: 'gpt-4o-mini', messages });
    await client.chat.completions.create({ model: 'acme-unpriced-1', messages });
    expect(sidecar.reserves().map((r) => r.body.estimate_usd)).toEqual([
      // 'Be brief.' 9 + 'What is 2+2?' 12 = 21 chars: 6 tokens, + 1 input item x 4.
      10 * O4_MINI.input + 500 * O4_MINI.output,
      // 12 chars: 3 tokens, no message overhead, no output.
      3 * EMBED_3_SMALL.input,
      // 'user' + 'hello' = 9 chars: 3 tokens + 4; output 10 tokens x 3 choices.
      7 * GPT4O_MINI.input + 30 * GPT4O_MINI.output,
      7 * GPT4O_MINI.input + 2000 * GPT4O_MINI.output,
      0,
    ]);
    expect(fake.requests).toHaveLength(5);
  });
});

describe('a 402 stops the request before the provider, on every SDK', () => {
  const cases: [string, () => Promise<unknown>][] = [
    ['openai v6 chat', () => chat()],
    [
      'openai v6 chat stream',
      async () => {
        const stream = await openai().chat.completions.create({
          model: 'gpt-4o-mini',
          messages,
          stream: true,
        });
        for await (const chunk of stream) void chunk;
      },
    ],
    ['openai v6 responses', () => openai().responses.create({ model: 'o4-mini', input: 'hi' })],
    [
      'openai v6 embeddings',
      () => openai().embeddings.create({ model: 'text-embedding-3-small', input: 'hi' }),
    ],
    [
      'openai v5 chat',
      () =>
        new OpenAIV5({
          apiKey: 'test',
          baseURL: fake.openaiBaseURL,
          maxRetries: 0,
        }).chat.completions.create({ model: 'gpt-4o-mini', messages }),
    ],
    [
      'openai v4 chat',
      () =>
        new OpenAIV4({
          apiKey: 'test',
          baseURL: fake.openaiBaseURL,
          maxRetries: 0,
        }).chat.completions.create({ model: 'gpt-4o-mini', messages }),
    ],
    [
      'openai v4 responses',
      () =>
        new OpenAIV4({
          apiKey: 'test',
          baseURL: fake.openaiBaseURL,
          maxRetries: 0,
        }).responses.create({ model: 'o4-mini', input: 'hi' }),
    ],
    [
      'anthropic messages',
      () => anthropic().messages.create({ model: 'claude-sonnet-4-5', max_tokens: 10, messages }),
    ],
    [
      'anthropic beta messages',
      () =>
        anthropic().beta.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 10, messages }),
    ],
  ];

  it.each(cases)('%s rejects with BudgetExceededError, counted denied', async (_name, call) => {
    denyAll();
    const err = await thrown(call);
    await expectDenied(err, 1);
    const span = h.spans()[0]!;
    expect(span.attributes['error.type']).toBe('BudgetExceededError');
    expect(span.status.code).toBe(2);
    expect(span.attributes).not.toHaveProperty('gen_ai.usage.cost.amount');
    // A denial is not an operation nor a user's request, and there is nothing to settle.
    expect((await h.samples()).map((s) => s.name)).toEqual(['llm_requests_total']);
    await settleDown();
    expect(sidecar.settles()).toHaveLength(0);
  });

  it('the SDK stream helpers refuse too, wrapping the error, which the handler finds', async () => {
    denyAll();
    const anthropicErr = await thrown(() =>
      anthropic()
        .messages.stream({ model: 'claude-sonnet-4-5', max_tokens: 10, messages })
        .finalMessage(),
    );
    expect(anthropicErr).toBeInstanceOf(Anthropic.AnthropicError);
    expect((anthropicErr as Error).cause).toBeInstanceOf(BudgetExceededError);
    const res = await request(
      (app) =>
        app.post('/ask', async (_req, res) => {
          const stream = openai().chat.completions.stream({ model: 'gpt-4o-mini', messages });
          res.json(await stream.finalChatCompletion());
        }),
      {},
    );
    expect(res.status).toBe(402);
    expect(res.body).toEqual(PROBLEM);
    expect(fake.requests).toHaveLength(0);
    expect(await h.value('llm_requests_total', { status: 'denied' })).toBe(2);
  });
});

describe('settlement', () => {
  it('settles the recorded cost once, after the call, without delaying it', async () => {
    sidecar.script((req) =>
      req.path === '/v1/settle'
        ? { status: 200, body: { settled: true }, delayMs: 2000 }
        : undefined,
    );
    fake.enqueue({ usage: { prompt_tokens: 1000, completion_tokens: 200 } });
    const started = Date.now();
    await withAttribution({ user: 'bob', feature: 'chat' }, () => chat());
    expect(Date.now() - started).toBeLessThan(1000);
    await until(() => sidecar.settles().length === 1, 'settle');
    const cost = h.spans()[0]!.attributes['gen_ai.usage.cost.amount'];
    expect(cost).toBe(1000 * GPT4O_MINI.input + 200 * GPT4O_MINI.output);
    expect(sidecar.settles()[0]!.body).toEqual({
      id: (sidecar.reserves()[0]!.answer!.body as { id: string }).id,
      cost_usd: cost,
      user: 'bob',
      feature: 'chat',
    });
    await settleDown();
    expect(sidecar.settles()).toHaveLength(1);
  });

  it('settles 0 when the provider fails, the cost so far when a stream is cut short', async () => {
    fake.enqueue({ status: 500, error: 'boom' });
    await thrown(() => chat());
    fake.enqueue({ match: 'messages', usage: { input_tokens: 100, output_tokens: 40 }, chunks: 8 });
    const stream = await anthropic().messages.create({
      model: 'claude-sonnet-4-5',
      max_tokens: 100,
      messages,
      stream: true,
    });
    for await (const event of stream) if (event.type === 'content_block_delta') break;
    await until(() => sidecar.settles().length === 2, 'settles');
    await settleDown();
    expect(sidecar.settles()).toHaveLength(2);
    const [failed, cut] = sidecar.reserves().map((r) => (r.answer!.body as { id: string }).id);
    const settled = new Map(sidecar.settles().map((s) => [s.body.id, s.body.cost_usd]));
    expect(settled.get(failed)).toBe(0);
    // message_start carried the input tokens: the cost so far is what the recorder priced.
    const cutCost = h.spans()[1]!.attributes['gen_ai.usage.cost.amount'];
    expect(cutCost).toBeGreaterThanOrEqual(100 * SONNET_4_5.input);
    expect(settled.get(cut)).toBe(cutCost);
  });

  it('settles a call that threw synchronously once its reservation answers', async () => {
    sidecar.script((req) =>
      req.path === '/v1/reserve'
        ? { status: 200, body: { id: 'late', allowed: true }, delayMs: 100 }
        : undefined,
    );
    // The SDK refuses a non-streaming call this long before sending anything.
    expect(() =>
      anthropic().messages.create({ model: 'claude-sonnet-4-5', max_tokens: 100_000, messages }),
    ).toThrow(/Streaming is required/);
    await until(() => sidecar.settles().length === 1, 'settle');
    expect(sidecar.settles()[0]!.body).toMatchObject({ id: 'late', cost_usd: 0 });
    expect(fake.requests).toHaveLength(0);
  });

  it('reuses one keep-alive connection', async () => {
    for (let i = 0; i < 5; i++) {
      await chat();
      await until(() => sidecar.settles().length === i + 1, 'settle');
    }
    // The next reserve can start before the previous settle's answer has freed its socket (the
    // wait above sees the settle arrive, not its answer leave): one or two pooled sockets, never
    // one per request.
    expect(new Set(sidecar.requests.map((r) => r.socket)).size).toBeLessThanOrEqual(2);
    expect(sidecar.requests).toHaveLength(10);
  });
});

describe('when the sidecar gives no usable answer', () => {
  const failures = () => internalErrorCounts().get('budget-sidecar') ?? 0;

  it('fail open: a timeout lets calls proceed, warned once, every failure counted', async () => {
    sidecar.script((req) =>
      req.path === '/v1/reserve' ? { status: 200, body: { id: 'x' }, delayMs: 1000 } : undefined,
    );
    const before = failures();
    const started = Date.now();
    await chat();
    await chat();
    expect(Date.now() - started).toBeLessThan(1500);
    expect(fake.requests).toHaveLength(2);
    expect(failures() - before).toBe(2);
    expect(await h.value('llm_finops_internal_errors_total', { stage: 'budget-sidecar' })).toBe(2);
    expect(await h.value('llm_requests_total', { status: 'ok' })).toBe(2);
    const said = warnings.filter((w) => w.includes('budget sidecar'));
    expect(said).toHaveLength(1);
    expect(said[0]).toContain('no answer within 300 ms');
    expect(said[0]).toContain('proceed without a budget check');
    // No reservation was made, so nothing is settled.
    await settleDown();
    expect(sidecar.settles()).toHaveLength(0);
  });

  it.each<[string, Answer]>([
    ['a 5xx', { status: 503, body: { title: 'not ready' } }],
    ['a body that is not JSON', { status: 200, raw: '<html>proxy</html>' }],
    ['JSON without a reservation id', { status: 200, body: { allowed: true } }],
    ['a 402 without problem details', { status: 402, raw: 'Payment Required' }],
  ])('fail open: %s lets the call proceed, counted, not warned again', async (_name, answer) => {
    sidecar.script((req) => (req.path === '/v1/reserve' ? answer : undefined));
    const before = failures();
    await chat();
    expect(fake.requests).toHaveLength(1);
    expect(failures() - before).toBe(1);
    expect(warnings.filter((w) => w.includes('budget sidecar'))).toEqual([]);
  });

  it('fail open: an unreachable sidecar lets the call proceed', async () => {
    useHarness({ sidecarUrl: `http://127.0.0.1:${await freePort()}` });
    const before = failures();
    await chat();
    expect(fake.requests).toHaveLength(1);
    expect(failures() - before).toBe(1);
  });

  it('fail closed: BudgetUnavailableError (503), the provider is not called', async () => {
    useHarness({ sidecarFailMode: 'closed' });
    sidecar.script((req) => (req.path === '/v1/reserve' ? { status: 500, body: {} } : undefined));
    const err = await thrown(() => chat());
    expect(err).toBeInstanceOf(BudgetUnavailableError);
    expect((err as BudgetUnavailableError).status).toBe(503);
    expect((err as BudgetUnavailableError).message).toContain('answered 500');
    expect(fake.requests).toHaveLength(0);
    expect(await h.value('llm_requests_total', { status: 'denied' })).toBe(1);
    expect(h.spans()[0]!.attributes['error.type']).toBe('BudgetUnavailableError');
  });

  it('a 400 follows the fail mode, and the warning names the reason once', async () => {
    sidecar.script((req) =>
      req.path === '/v1/reserve'
        ? {
            status: 400,
            body: {
              status: 400,
              detail: 'user: names are 1-200 of A-Z a-z 0-9 . _ : @ + = / ~ | -',
            },
          }
        : undefined,
    );
    await withAttribution({ user: 'bad user' }, () => chat());
    await withAttribution({ user: 'bad user' }, () => chat());
    expect(fake.requests).toHaveLength(2);
    const said = warnings.filter((w) => w.includes('rejected a reservation'));
    expect(said).toHaveLength(1);
    expect(said[0]).toContain('user: names are 1-200 of');
    useHarness({ sidecarFailMode: 'closed' });
    expect(await thrown(() => chat())).toBeInstanceOf(BudgetUnavailableError);
    expect(fake.requests).toHaveLength(2);
  });

  it('a 401 names the token', async () => {
    sidecar.script((req) =>
      req.path === '/v1/reserve'
        ? { status: 401, body: { detail: 'bearer token required' } }
        : undefined,
    );
    await chat();
    expect(warnings.filter((w) => w.includes('LLM_FINOPS_SIDECAR_TOKEN'))).toHaveLength(1);
  });

  it('the error handler answers 503 problem+json with Retry-After', async () => {
    useHarness({ sidecarFailMode: 'closed', sidecarUrl: `http://127.0.0.1:${await freePort()}` });
    const res = await request(
      (app) =>
        app.post('/ask', async (_req, res) => {
          res.json(await chat());
        }),
      {},
    );
    expect(res.status).toBe(503);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    expect(res.headers.get('retry-after')).toBe('5');
    expect(res.body).toEqual({
      type: 'https://llm-finops.dev/problems/budget-unavailable',
      title: 'Budget check unavailable',
      status: 503,
      detail: 'The AI budget service is unavailable. Try again shortly.',
    });
  });
});

describe('attribution of the plan', () => {
  it('reads x-llm-plan and the baggage app.plan', async () => {
    const route = (app: express.Express) =>
      app.post('/ask', async (_req, res) => {
        res.json(await chat());
      });
    expect((await request(route, { 'x-llm-user': 'u1', 'x-llm-plan': 'pro' })).status).toBe(200);
    expect((await request(route, { baggage: 'user.id=u2,app.plan=team' })).status).toBe(200);
    const bag = propagation.createBaggage({ 'app.plan': { value: 'free' } });
    await context.with(propagation.setBaggage(context.active(), bag), () => chat());
    expect(sidecar.reserves().map((r) => [r.body.user, r.body.plan])).toEqual([
      ['u1', 'pro'],
      ['u2', 'team'],
      [undefined, 'free'],
    ]);
  });

  it('a denial through the middleware is the 402 answer', async () => {
    denyAll();
    const res = await request(
      (app) =>
        app.post('/ask', async (_req, res) => {
          res.json(await chat());
        }),
      {},
    );
    expect(res.status).toBe(402);
    expect(res.headers.get('x-should-retry')).toBe('false');
    expect(res.body).toEqual(PROBLEM);
    expect(fake.requests).toHaveLength(0);
  });
});

/** One request to an Express app with the middleware, `routes` and the budget error handler. */
async function request(
  routes: (app: express.Express) => void,
  headers: Record<string, string>,
): Promise<{ status: number; headers: Headers; body: unknown }> {
  const app = express();
  app.use(expressMiddleware());
  routes(app);
  app.use(budgetErrorHandler());
  const server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  try {
    const { port } = server.address() as AddressInfo;
    const res = await fetch(`http://127.0.0.1:${port}/ask`, { method: 'POST', headers });
    return { status: res.status, headers: res.headers, body: await res.json() };
  } finally {
    server.close();
    server.closeAllConnections();
  }
}

describe('configuration', () => {
  it('reads the sidecar variables, warning about bad values', () => {
    expect(
      configFromEnv({
        LLM_FINOPS_SIDECAR_URL: 'http://127.0.0.1:8787',
        LLM_FINOPS_SIDECAR_TOKEN: 't',
        LLM_FINOPS_SIDECAR_TIMEOUT_MS: '250',
        LLM_FINOPS_SIDECAR_FAIL_MODE: 'Closed',
        LLM_FINOPS_RESERVE_OUTPUT_TOKENS: '0',
      }).config,
    ).toMatchObject({
      sidecarUrl: 'http://127.0.0.1:8787',
      sidecarToken: 't',
      sidecarTimeoutMs: 250,
      sidecarFailMode: 'closed',
      reserveOutputTokens: 0,
    });
    const bad = configFromEnv({
      LLM_FINOPS_SIDECAR_URL: 'localhost:8787',
      LLM_FINOPS_SIDECAR_TIMEOUT_MS: '0',
      LLM_FINOPS_SIDECAR_FAIL_MODE: 'maybe',
      LLM_FINOPS_RESERVE_OUTPUT_TOKENS: '1.5',
    });
    expect(bad.config).toMatchObject({
      sidecarUrl: undefined,
      sidecarTimeoutMs: 500,
      sidecarFailMode: 'open',
      reserveOutputTokens: 1024,
    });
    expect(bad.problems).toHaveLength(4);
    expect(bad.problems[0]).toContain('LLM_FINOPS_SIDECAR_URL=localhost:8787');
  });

  it('without a sidecar URL nothing is reserved and the SDK client is left as it was', async () => {
    useHarness({ sidecarUrl: undefined });
    expect(h.runtime.budget).toBeUndefined();
    const client = openai();
    await chat(client);
    expect(Object.hasOwn(client, 'prepareOptions')).toBe(false);
    expect(sidecar.requests).toHaveLength(0);
    expect(fake.requests).toHaveLength(1);
    expect(await h.value('llm_requests_total', { status: 'ok' })).toBe(1);
  });
});
