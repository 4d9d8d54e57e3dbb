import { SpanKind } from '@opentelemetry/api';
import OpenAI from 'openai';
import * as openaiV4Module from 'openai-v4';
import OpenAIV4 from 'openai-v4';
import * as openaiV5Module from 'openai-v5';
import OpenAIV5 from 'openai-v5';
import { describe, expect, it, vi } from 'vitest';
import { withAttribution } from '../instrumentation/attribution';
import { startHarness } from './helpers/harness';
import { instrumentedSuite } from './helpers/suite';

// Catalog rates, USD per token (pricing/catalog.yaml, 2026-12-01).
const GPT4 = { input: 30e-6, output: 60e-6 };
const GPT4O_MINI = { input: 0.15e-6, cacheRead: 0.075e-6, output: 0.6e-6 };
const O4_MINI = { input: 1.1e-6, cacheRead: 0.275e-6, output: 4.4e-6 };
const EMBED_3_SMALL = { input: 0.02e-6 };

const suite = instrumentedSuite();

const chatUsage = {
  prompt_tokens: 1200,
  completion_tokens: 300,
  prompt_tokens_details: { cached_tokens: 1024 },
  completion_tokens_details: { reasoning_tokens: 0 },
};
// 176 uncached + 1024 cache read + 300 output
const chatCost = 176 * GPT4O_MINI.input + 1024 * GPT4O_MINI.cacheRead + 300 * GPT4O_MINI.output;
const chatBaseline = 1200 * GPT4.input + 300 * GPT4.output;
const chatCacheSavings = 1024 * (GPT4O_MINI.input - GPT4O_MINI.cacheRead);

async function expectChatMetrics(labels: { user: string; feature: string }) {
  const byModel = { provider: 'openai', model: 'gpt-4o-mini', feature: labels.feature };
  expect(
    await suite.h.value('llm_requests_total', { ...byModel, tier: 'economy', status: 'ok' }),
  ).toBe(1);
  expect(await suite.h.value('llm_cost_usd_total', { ...byModel, tier: 'economy' })).toBeCloseTo(
    chatCost,
    12,
  );
  expect(
    await suite.h.value('llm_baseline_cost_usd_total', { ...byModel, tier: 'economy' }),
  ).toBeCloseTo(chatBaseline, 12);
  expect(await suite.h.value('llm_tokens_total', { ...byModel, type: 'input' })).toBe(176);
  expect(await suite.h.value('llm_tokens_total', { ...byModel, type: 'cache_read' })).toBe(1024);
  expect(await suite.h.value('llm_tokens_total', { ...byModel, type: 'output' })).toBe(300);
  expect(await suite.h.value('llm_tokens_total', { ...byModel, type: 'reasoning' })).toBe(0);
  expect(
    await suite.h.value('llm_cache_savings_usd_total', { ...byModel, cache: 'prompt' }),
  ).toBeCloseTo(chatCacheSavings, 12);
  const costHist = await suite.h.sample('llm_request_cost_usd', byModel);
  expect(costHist.count).toBe(1);
  expect(costHist.sum).toBeCloseTo(chatCost, 12);
  expect(await suite.h.value('llm_user_cost_usd_total', labels)).toBeCloseTo(chatCost, 12);
  expect(await suite.h.value('llm_user_requests_total', labels)).toBe(1);
  const genAi = {
    gen_ai_operation_name: 'chat',
    gen_ai_provider_name: 'openai',
    gen_ai_request_model: 'gpt-4o-mini',
  };
  expect(
    (await suite.h.sample('gen_ai_client_token_usage', { ...genAi, gen_ai_token_type: 'input' }))
      .sum,
  ).toBe(1200);
  expect(
    (await suite.h.sample('gen_ai_client_token_usage', { ...genAi, gen_ai_token_type: 'output' }))
      .sum,
  ).toBe(300);
  const duration = await suite.h.sample('gen_ai_client_operation_duration', genAi);
  expect(duration.count).toBe(1);
  // Exactly the semconv labels: the token type of the token-usage records stays off it.
  expect(Object.keys(duration.labels).sort()).toEqual(
    [...Object.keys(genAi), 'gen_ai_response_model'].sort(),
  );
  expect(await suite.h.value('llm_unpriced_requests_total')).toBe(0);
}

function expectChatSpan(stream: boolean) {
  const [span] = suite.h.spans();
  expect(suite.h.spans()).toHaveLength(1);
  expect(span!.name).toBe('chat gpt-4o-mini');
  expect(span!.kind).toBe(SpanKind.CLIENT);
  expect(span!.attributes).toMatchObject({
    'gen_ai.operation.name': 'chat',
    'gen_ai.provider.name': 'openai',
    'gen_ai.request.model': 'gpt-4o-mini',
    'gen_ai.response.model': 'gpt-4o-mini',
    'gen_ai.usage.input_tokens': 1200,
    'gen_ai.usage.output_tokens': 300,
    'gen_ai.usage.cache_read.input_tokens': 1024,
    'gen_ai.usage.cache_creation.input_tokens': 0,
    'gen_ai.usage.reasoning.output_tokens': 0,
    'gen_ai.usage.cost.currency': 'USD',
    'gen_ai.usage.cost.source': 'local',
    'llm.model.tier': 'economy',
    'user.id': 'alice',
    'session.id': 's-1',
    'app.feature': 'chat',
    'server.address': '127.0.0.1',
    'server.port': suite.fake.port,
  });
  expect(span!.attributes['gen_ai.usage.cost.amount']).toBeCloseTo(chatCost, 12);
  expect(span!.attributes['llm.cost.baseline.amount']).toBeCloseTo(chatBaseline, 12);
  expect(span!.attributes['gen_ai.request.stream']).toBe(stream ? true : undefined);
  expect(span!.attributes['gen_ai.response.finish_reasons']).toEqual(['stop']);
  // Prompt and completion text are never recorded.
  expect(JSON.stringify(span!.attributes)).not.toContain('hello');
}

const attribution = { user: 'alice', session: 's-1', feature: 'chat' };
const messages = [{ role: 'user' as const, content: 'hello' }];

describe('chat.completions.create', () => {
  it('prices and attributes a plain call, returning the SDK result unchanged', async () => {
    suite.fake.enqueue({ usage: chatUsage });
    const res = await withAttribution(attribution, () =>
      suite.openai.chat.completions.create({ model: 'gpt-4o-mini', messages }),
    );
    expect(res.usage?.prompt_tokens).toBe(1200);
    expect(res.choices[0]?.message.role).toBe('assistant');
    expectChatSpan(false);
    await expectChatMetrics({ user: 'alice', feature: 'chat' });
  });

  it('asks a stream for its usage and hides the usage chunk and keys from the caller', async () => {
    suite.fake.enqueue({ usage: chatUsage, chunks: 5 });
    const chunks = await withAttribution(attribution, async () => {
      const stream = await suite.openai.chat.completions.create({
        model: 'gpt-4o-mini',
        messages,
        stream: true,
      });
      const seen = [];
      for await (const chunk of stream) seen.push(chunk);
      return seen;
    });
    expect(suite.fake.requests[0]!.body).toMatchObject({
      stream: true,
      stream_options: { include_usage: true },
    });
    expect(chunks.length).toBeGreaterThan(0);
    for (const chunk of chunks) {
      expect(chunk.choices.length).toBeGreaterThan(0);
      expect('usage' in chunk).toBe(false);
    }
    expectChatSpan(true);
    await expectChatMetrics({ user: 'alice', feature: 'chat' });
  });

  it('leaves the usage chunk to a caller that asked for it', async () => {
    suite.fake.enqueue({ usage: chatUsage });
    const stream = await withAttribution(attribution, () =>
      suite.openai.chat.completions.create({
        model: 'gpt-4o-mini',
        messages,
        stream: true,
        stream_options: { include_usage: true },
      }),
    );
    let usageChunks = 0;
    for await (const chunk of stream) if (chunk.usage) usageChunks++;
    expect(usageChunks).toBe(1);
    await expectChatMetrics({ user: 'alice', feature: 'chat' });
  });

  it('with the opt-out, sends the request as is and marks the span instead of guessing', async () => {
    suite.h = startHarness({ injectStreamUsage: false });
    const stream = await suite.openai.chat.completions.create({
      model: 'gpt-4o-mini',
      messages,
      stream: true,
    });
    for await (const chunk of stream) void chunk;
    expect(suite.fake.requests[0]!.body).not.toHaveProperty('stream_options');
    expect(suite.h.spans()[0]!.attributes['llm.usage.missing']).toBe('not_reported');
    expect(suite.h.spans()[0]!.attributes).not.toHaveProperty('gen_ai.usage.cost.amount');
    expect(
      await suite.h.value('llm_requests_total', {
        model: 'gpt-4o-mini',
        status: 'ok',
        feature: 'unknown',
      }),
    ).toBe(1);
    expect(
      await suite.h.value('llm_user_requests_total', { user: 'unknown', feature: 'unknown' }),
    ).toBe(1);
    expect(await suite.h.value('llm_cost_usd_total')).toBe(0);
    expect(await suite.h.value('llm_tokens_total')).toBe(0);
  });

  it('keeps stream helpers working: tee, toReadableStream and the .stream() runner', async () => {
    suite.fake.enqueue(
      { usage: chatUsage, chunks: 3 },
      { usage: chatUsage, chunks: 3 },
      { usage: chatUsage, chunks: 3 },
    );
    const stream = await suite.openai.chat.completions.create({
      model: 'gpt-4o-mini',
      messages,
      stream: true,
    });
    const [left, right] = stream.tee();
    let chunkCount = 0;
    const texts = await Promise.all(
      [left, right].map(async (s) => {
        let text = '';
        for await (const c of s) {
          text += c.choices[0]?.delta.content ?? '';
          if (s === left) chunkCount++;
        }
        return text;
      }),
    );
    expect(texts[0]).toBe(texts[1]);
    expect(texts[0]!.length).toBeGreaterThan(0);

    const readable = (
      await suite.openai.chat.completions.create({ model: 'gpt-4o-mini', messages, stream: true })
    ).toReadableStream();
    const reader = readable.getReader();
    const lines: string[] = [];
    for (let r = await reader.read(); !r.done; r = await reader.read())
      lines.push(new TextDecoder().decode(r.value as Uint8Array));
    expect(lines).toHaveLength(chunkCount);
    for (const line of lines) expect(line).not.toContain('usage');

    const runner = suite.openai.chat.completions.stream({ model: 'gpt-4o-mini', messages });
    const final = await runner.finalChatCompletion();
    expect(final.choices[0]?.message.content).toBe(texts[0]);
    expect(final.usage).toBeUndefined();

    expect(await suite.h.value('llm_requests_total', { status: 'ok' })).toBe(3);
    expect(await suite.h.value('llm_cost_usd_total')).toBeCloseTo(3 * chatCost, 12);
  });

  it('reads the OpenAI user parameter when there is no other attribution', async () => {
    suite.fake.enqueue({ usage: chatUsage });
    await suite.openai.chat.completions.create({
      model: 'gpt-4o-mini',
      messages,
      user: 'param-user',
    });
    expect(
      await suite.h.value('llm_user_requests_total', { user: 'param-user', feature: 'unknown' }),
    ).toBe(1);
  });

  it('replays the recorded chat completion: 22 input and 3 output tokens', async () => {
    suite.fake.enqueue({ replay: 'openai-chat-completion' });
    await suite.openai.chat.completions.create({ model: 'gpt-4o-mini', messages });
    expect(suite.h.spans()[0]!.attributes['gen_ai.response.model']).toBe('gpt-4o-mini-2024-07-18');
    expect(await suite.h.value('llm_cost_usd_total', { model: 'gpt-4o-mini' })).toBeCloseTo(
      22 * GPT4O_MINI.input + 3 * GPT4O_MINI.output,
      12,
    );
  });

  it('replays the recorded stream without usage as not reported', async () => {
    suite.h = startHarness({ injectStreamUsage: false });
    suite.fake.enqueue({ replay: 'openai-chat-stream-no-usage' });
    const stream = await suite.openai.chat.completions.create({
      model: 'gpt-4o-mini',
      messages,
      stream: true,
    });
    for await (const chunk of stream) void chunk;
    expect(suite.h.spans()[0]!.attributes['llm.usage.missing']).toBe('not_reported');
  });

  it('replays the recorded stream with usage', async () => {
    suite.fake.enqueue({ replay: 'openai-chat-stream-usage' });
    const stream = await suite.openai.chat.completions.create({
      model: 'gpt-4o-mini',
      messages,
      stream: true,
    });
    for await (const chunk of stream) void chunk;
    expect(await suite.h.value('llm_tokens_total', { type: 'input' })).toBe(22);
    expect(await suite.h.value('llm_tokens_total', { type: 'output' })).toBe(4);
  });
});

describe('responses.create', () => {
  const usage = {
    input_tokens: 2000,
    output_tokens: 900,
    input_tokens_details: { cached_tokens: 1500 },
    output_tokens_details: { reasoning_tokens: 700 },
  };
  // 500 uncached + 1500 cache read + 200 output + 700 reasoning (at the output rate)
  const cost =
    500 * O4_MINI.input + 1500 * O4_MINI.cacheRead + 200 * O4_MINI.output + 700 * O4_MINI.output;
  const baseline = 2000 * GPT4.input + 900 * GPT4.output;

  async function expectResponsesMetrics() {
    const byModel = { provider: 'openai', model: 'o4-mini', feature: 'agent' };
    expect(await suite.h.value('llm_cost_usd_total', byModel)).toBeCloseTo(cost, 12);
    expect(await suite.h.value('llm_baseline_cost_usd_total', byModel)).toBeCloseTo(baseline, 12);
    expect(await suite.h.value('llm_tokens_total', { ...byModel, type: 'reasoning' })).toBe(700);
    expect(await suite.h.value('llm_tokens_total', { ...byModel, type: 'output' })).toBe(200);
    expect(await suite.h.value('llm_tokens_total', { ...byModel, type: 'cache_read' })).toBe(1500);
    expect(await suite.h.value('llm_tokens_total', { ...byModel, type: 'input' })).toBe(500);
    const span = suite.h.spans()[0]!;
    expect(span.name).toBe('chat o4-mini');
    expect(span.attributes['gen_ai.usage.reasoning.output_tokens']).toBe(700);
    expect(span.attributes['gen_ai.usage.output_tokens']).toBe(900);
    expect(span.attributes['gen_ai.usage.input_tokens']).toBe(2000);
    expect(span.attributes['gen_ai.usage.cost.amount']).toBeCloseTo(cost, 12);
    expect(span.attributes['gen_ai.response.finish_reasons']).toEqual(['completed']);
  }

  it('prices a reasoning model, reasoning tokens included', async () => {
    suite.fake.enqueue({ usage });
    const res = await withAttribution({ feature: 'agent' }, () =>
      suite.openai.responses.create({ model: 'o4-mini', input: 'hello' }),
    );
    expect(res.output_text.length).toBeGreaterThan(0);
    await expectResponsesMetrics();
  });

  it('prices a streamed response from its response.completed event', async () => {
    suite.fake.enqueue({ usage });
    const types = await withAttribution({ feature: 'agent' }, async () => {
      const stream = await suite.openai.responses.create({
        model: 'o4-mini',
        input: 'hello',
        stream: true,
      });
      const seen: string[] = [];
      for await (const event of stream) seen.push(event.type);
      return seen;
    });
    expect(types.at(-1)).toBe('response.completed');
    expect(suite.fake.requests[0]!.body).not.toHaveProperty('stream_options');
    await expectResponsesMetrics();
  });

  it('reads cached tokens from the recorded Responses body', async () => {
    suite.fake.enqueue({ replay: 'openai-responses-cached-tokens' });
    await suite.openai.responses.create({ model: 'gpt-4o-mini', input: 'hello' });
    expect(await suite.h.value('llm_tokens_total', { type: 'cache_read' })).toBe(13);
    expect(await suite.h.value('llm_tokens_total', { type: 'input' })).toBe(1);
    expect(await suite.h.value('llm_cost_usd_total')).toBeCloseTo(
      1 * GPT4O_MINI.input + 13 * GPT4O_MINI.cacheRead + 26 * GPT4O_MINI.output,
      12,
    );
  });

  it('reads usage from the recorded Responses stream', async () => {
    suite.fake.enqueue({ replay: 'openai-responses-stream' });
    const stream = await suite.openai.responses.create({
      model: 'gpt-4o-mini',
      input: 'hello',
      stream: true,
    });
    for await (const event of stream) void event;
    expect(await suite.h.value('llm_tokens_total', { type: 'input' })).toBe(13);
    expect(await suite.h.value('llm_tokens_total', { type: 'output' })).toBe(104);
  });
});

describe('embeddings.create', () => {
  it('prices input tokens and records no output', async () => {
    suite.fake.enqueue({ usage: { prompt_tokens: 5000, total_tokens: 5000 } });
    await withAttribution({ user: 'bob', feature: 'search' }, () =>
      suite.openai.embeddings.create({ model: 'text-embedding-3-small', input: ['a', 'b'] }),
    );
    const byModel = { provider: 'openai', model: 'text-embedding-3-small', feature: 'search' };
    expect(await suite.h.value('llm_cost_usd_total', byModel)).toBeCloseTo(
      5000 * EMBED_3_SMALL.input,
      12,
    );
    expect(await suite.h.value('llm_baseline_cost_usd_total', byModel)).toBeCloseTo(
      5000 * GPT4.input,
      12,
    );
    expect(await suite.h.value('llm_tokens_total', { ...byModel, type: 'input' })).toBe(5000);
    expect(await suite.h.value('llm_tokens_total', { ...byModel, type: 'output' })).toBe(0);
    const span = suite.h.spans()[0]!;
    expect(span.name).toBe('embeddings text-embedding-3-small');
    expect(span.attributes['gen_ai.operation.name']).toBe('embeddings');
    expect(span.attributes['gen_ai.usage.input_tokens']).toBe(5000);
    // As semconv's embeddings span: no output, cache or reasoning tokens.
    for (const key of [
      'gen_ai.usage.output_tokens',
      'gen_ai.usage.cache_read.input_tokens',
      'gen_ai.usage.cache_creation.input_tokens',
      'gen_ai.usage.reasoning.output_tokens',
    ])
      expect(span.attributes).not.toHaveProperty(key);
  });

  it('replays the recorded embeddings call', async () => {
    suite.fake.enqueue({ replay: 'openai-embeddings' });
    await suite.openai.embeddings.create({
      model: 'text-embedding-3-small',
      input: ['a', 'b', 'c', 'd'],
    });
    expect(await suite.h.value('llm_tokens_total', { type: 'input' })).toBe(8);
  });
});

describe.each([
  ['openai v4', openaiV4Module, OpenAIV4],
  ['openai v5', openaiV5Module, OpenAIV5],
] as const)('%s', (_name, mod, Client) => {
  it('prices plain and streamed chat calls', async () => {
    suite.h.instrumentation.patchModule('openai', mod);
    // Typed as v6: the calls below exist with the same shapes in v4 and v5.
    const old = new Client({
      apiKey: 'test',
      baseURL: suite.fake.openaiBaseURL,
      maxRetries: 0,
    }) as unknown as OpenAI;
    suite.fake.enqueue({ usage: chatUsage }, { usage: chatUsage });
    await withAttribution(attribution, () =>
      old.chat.completions.create({ model: 'gpt-4o-mini', messages }),
    );
    const stream = await old.chat.completions.create({
      model: 'gpt-4o-mini',
      messages,
      stream: true,
    });
    for await (const chunk of stream) expect('usage' in chunk).toBe(false);
    expect(await suite.h.value('llm_cost_usd_total')).toBeCloseTo(2 * chatCost, 12);
    expect(
      await suite.h.value('llm_user_cost_usd_total', { user: 'alice', feature: 'chat' }),
    ).toBeCloseTo(chatCost, 12);
  });
});

describe('unknown models', () => {
  it('are counted as unpriced, never priced at $0, and warned about once', async () => {
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    suite.fake.enqueue(
      { usage: { prompt_tokens: 10, completion_tokens: 5 } },
      { usage: { prompt_tokens: 10, completion_tokens: 5 } },
    );
    await suite.openai.chat.completions.create({ model: 'acme-llm-7b', messages });
    await suite.openai.chat.completions.create({ model: 'acme-llm-7b', messages });
    expect(
      await suite.h.value('llm_unpriced_requests_total', {
        provider: 'openai',
        model: 'acme-llm-7b',
      }),
    ).toBe(2);
    expect(
      await suite.h.value('llm_requests_total', {
        model: 'acme-llm-7b',
        tier: 'unknown',
        status: 'ok',
      }),
    ).toBe(2);
    expect(await suite.h.value('llm_tokens_total', { model: 'acme-llm-7b', type: 'input' })).toBe(
      20,
    );
    expect(
      (await suite.h.samples()).filter(
        (s) => s.name === 'llm_cost_usd_total' || s.name === 'llm_user_cost_usd_total',
      ),
    ).toEqual([]);
    const span = suite.h.spans()[0]!;
    expect(span.attributes['llm.cost.unpriced']).toBe(true);
    expect(span.attributes).not.toHaveProperty('gen_ai.usage.cost.amount');
    expect(span.attributes).not.toHaveProperty('llm.cost.baseline.amount');
    expect(warn.mock.calls.filter(([m]) => String(m).includes('acme-llm-7b'))).toHaveLength(1);
    warn.mockRestore();
  });
});
