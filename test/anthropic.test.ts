import { describe, expect, it } from 'vitest';
import { withAttribution } from '../instrumentation/attribution';
import { instrumentedSuite } from './helpers/suite';

// Catalog rates, USD per token (pricing/catalog.yaml, 2026-12-01).
const GPT4 = { input: 30e-6, output: 60e-6 };
const SONNET_4_5 = { input: 3e-6, cacheWrite: 3.75e-6, cacheRead: 0.3e-6, output: 15e-6 };
const OPUS = { input: 15e-6, output: 75e-6 };
const HAIKU_3 = { input: 0.25e-6, cacheWrite: 0.3e-6, output: 1.25e-6 };

const suite = instrumentedSuite();

const usage = {
  input_tokens: 500,
  cache_read_input_tokens: 4000,
  cache_creation_input_tokens: 1000,
  output_tokens: 200,
};
// Anthropic's input_tokens excludes cache reads and writes: the buckets are already disjoint.
const cost =
  500 * SONNET_4_5.input +
  4000 * SONNET_4_5.cacheRead +
  1000 * SONNET_4_5.cacheWrite +
  200 * SONNET_4_5.output;
const baseline = 5500 * GPT4.input + 200 * GPT4.output;
const savings = 4000 * (SONNET_4_5.input - SONNET_4_5.cacheRead);
const params = {
  model: 'claude-sonnet-4-5',
  max_tokens: 1024,
  messages: [{ role: 'user' as const, content: 'hello' }],
};
const attribution = { user: 'dana', feature: 'support' };

async function expectMetrics(stream: boolean) {
  const byModel = { provider: 'anthropic', model: 'claude-sonnet-4-5', feature: 'support' };
  expect(
    await suite.h.value('llm_requests_total', { ...byModel, tier: 'standard', status: 'ok' }),
  ).toBe(1);
  expect(await suite.h.value('llm_cost_usd_total', { ...byModel, tier: 'standard' })).toBeCloseTo(
    cost,
    12,
  );
  expect(await suite.h.value('llm_baseline_cost_usd_total', byModel)).toBeCloseTo(baseline, 12);
  expect(await suite.h.value('llm_tokens_total', { ...byModel, type: 'input' })).toBe(500);
  expect(await suite.h.value('llm_tokens_total', { ...byModel, type: 'cache_read' })).toBe(4000);
  expect(await suite.h.value('llm_tokens_total', { ...byModel, type: 'cache_write' })).toBe(1000);
  expect(await suite.h.value('llm_tokens_total', { ...byModel, type: 'output' })).toBe(200);
  expect(
    await suite.h.value('llm_cache_savings_usd_total', { ...byModel, cache: 'prompt' }),
  ).toBeCloseTo(savings, 12);
  expect(
    await suite.h.value('llm_user_cost_usd_total', { user: 'dana', feature: 'support' }),
  ).toBeCloseTo(cost, 12);
  expect(await suite.h.value('llm_user_requests_total', { user: 'dana', feature: 'support' })).toBe(
    1,
  );
  expect((await suite.h.sample('llm_request_cost_usd', byModel)).sum).toBeCloseTo(cost, 12);
  const genAi = { gen_ai_provider_name: 'anthropic', gen_ai_request_model: 'claude-sonnet-4-5' };
  expect(
    (await suite.h.sample('gen_ai_client_token_usage', { ...genAi, gen_ai_token_type: 'input' }))
      .sum,
  ).toBe(5500);
  expect(
    (await suite.h.sample('gen_ai_client_token_usage', { ...genAi, gen_ai_token_type: 'output' }))
      .sum,
  ).toBe(200);
  const spans = suite.h.spans();
  expect(spans).toHaveLength(1);
  expect(spans[0]!.name).toBe('chat claude-sonnet-4-5');
  expect(spans[0]!.attributes).toMatchObject({
    'gen_ai.provider.name': 'anthropic',
    'gen_ai.usage.input_tokens': 5500,
    'gen_ai.usage.cache_read.input_tokens': 4000,
    'gen_ai.usage.cache_creation.input_tokens': 1000,
    'gen_ai.usage.output_tokens': 200,
    'gen_ai.request.max_tokens': 1024,
    'gen_ai.response.finish_reasons': ['end_turn'],
    'user.id': 'dana',
    'app.feature': 'support',
  });
  expect(spans[0]!.attributes['gen_ai.usage.cost.amount']).toBeCloseTo(cost, 12);
  expect(spans[0]!.attributes['gen_ai.request.stream']).toBe(stream ? true : undefined);
}

describe('messages.create', () => {
  it('prices cache reads and writes at their own rates', async () => {
    suite.fake.enqueue({ usage });
    const message = await withAttribution(attribution, () =>
      suite.anthropic.messages.create(params),
    );
    expect(message.usage.cache_read_input_tokens).toBe(4000);
    await expectMetrics(false);
  });

  it('prices a stream: true call from message_start and message_delta usage', async () => {
    suite.fake.enqueue({ usage, chunks: 4 });
    const types = await withAttribution(attribution, async () => {
      const stream = await suite.anthropic.messages.create({ ...params, stream: true });
      const seen: string[] = [];
      for await (const event of stream) seen.push(event.type);
      return seen;
    });
    expect(types[0]).toBe('message_start');
    expect(types.at(-1)).toBe('message_stop');
    await expectMetrics(true);
  });

  it('prices the messages.stream() helper once, and finalMessage() still works', async () => {
    suite.fake.enqueue({ usage, chunks: 4, content: 'four words of text' });
    const final = await withAttribution(attribution, async () => {
      const stream = suite.anthropic.messages.stream(params);
      const texts: string[] = [];
      stream.on('text', (t) => texts.push(t));
      const message = await stream.finalMessage();
      expect(texts.join('')).toBe('four words of text');
      return message;
    });
    expect(final.usage.output_tokens).toBe(200);
    expect(final.content[0]).toMatchObject({ type: 'text', text: 'four words of text' });
    await expectMetrics(true);
  });

  it('replays the recorded stream (claude-3-opus, 17 in, 158 out)', async () => {
    suite.fake.enqueue({ replay: 'anthropic-messages-stream' });
    const stream = await suite.anthropic.messages.create({
      ...params,
      model: 'claude-3-opus-20240229',
      stream: true,
    });
    for await (const event of stream) void event;
    expect(await suite.h.value('llm_tokens_total', { model: 'claude-3-opus', type: 'input' })).toBe(
      17,
    );
    expect(
      await suite.h.value('llm_tokens_total', { model: 'claude-3-opus', type: 'output' }),
    ).toBe(158);
    expect(await suite.h.value('llm_cost_usd_total', { model: 'claude-3-opus' })).toBeCloseTo(
      17 * OPUS.input + 158 * OPUS.output,
      12,
    );
  });

  it('replays the recorded cache-creation response (claude-3-haiku)', async () => {
    suite.fake.enqueue({ replay: 'anthropic-messages-cache-creation' });
    await suite.anthropic.messages.create({ ...params, model: 'claude-3-haiku-20240307' });
    expect(await suite.h.value('llm_tokens_total', { type: 'cache_write' })).toBe(1200);
    expect(await suite.h.value('llm_cost_usd_total', { model: 'claude-3-haiku' })).toBeCloseTo(
      1231 * HAIKU_3.input + 1200 * HAIKU_3.cacheWrite + 5 * HAIKU_3.output,
      12,
    );
  });
});

describe('beta.messages with thinking', () => {
  it('prices the recorded thinking response: thinking is billed as output', async () => {
    suite.fake.enqueue({ replay: 'anthropic-messages-thinking' });
    const message = await suite.anthropic.beta.messages.create({
      ...params,
      model: 'claude-opus-4-1-20250805',
      thinking: { type: 'enabled', budget_tokens: 1024 },
      betas: ['interleaved-thinking-2025-05-14'],
    });
    expect(message.content[0]?.type).toBe('thinking');
    expect(
      await suite.h.value('llm_tokens_total', { model: 'claude-opus-4-1', type: 'output' }),
    ).toBe(186);
    expect(await suite.h.value('llm_cost_usd_total', { model: 'claude-opus-4-1' })).toBeCloseTo(
      49 * OPUS.input + 186 * OPUS.output,
      12,
    );
    expect(suite.h.spans()[0]!.attributes['gen_ai.response.model']).toBe(
      'claude-opus-4-1-20250805',
    );
  });

  it('prices a synthetic streamed thinking call', async () => {
    suite.fake.enqueue({
      usage: {
        input_tokens: 100,
        output_tokens: 900,
        output_tokens_details: { thinking_tokens: 600 },
      },
      thinking: true,
    });
    const stream = suite.anthropic.beta.messages.stream({
      ...params,
      thinking: { type: 'enabled', budget_tokens: 1024 },
    });
    const message = await stream.finalMessage();
    expect(message.content.some((b) => b.type === 'thinking')).toBe(true);
    expect(await suite.h.value('llm_cost_usd_total')).toBeCloseTo(
      100 * SONNET_4_5.input + 900 * SONNET_4_5.output,
      12,
    );
    expect(await suite.h.value('llm_requests_total')).toBe(1);
    // Newer API versions report thinking apart: it becomes the reasoning bucket, billed as output.
    expect(await suite.h.value('llm_tokens_total', { type: 'reasoning' })).toBe(600);
    expect(await suite.h.value('llm_tokens_total', { type: 'output' })).toBe(300);
    expect(suite.h.spans()[0]!.attributes['gen_ai.usage.reasoning.output_tokens']).toBe(600);
    expect(suite.h.spans()[0]!.attributes['gen_ai.usage.output_tokens']).toBe(900);
  });
});
