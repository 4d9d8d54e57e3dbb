import Anthropic from '@anthropic-ai/sdk';
import * as openaiModule from 'openai';
import OpenAI from 'openai';
import { describe, expect, it, vi } from 'vitest';
import { internalErrorCounts } from '../instrumentation/guard';
import { instrumentedSuite } from './helpers/suite';

const suite = instrumentedSuite();
const messages = [{ role: 'user' as const, content: 'hello' }];

/** Runs `fn` and returns what it threw. */
async function thrown(fn: () => Promise<unknown>): Promise<unknown> {
  try {
    await fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected a throw');
}

describe('provider errors', () => {
  it.each([
    [429, OpenAI.RateLimitError],
    [400, OpenAI.BadRequestError],
    [500, OpenAI.InternalServerError],
  ])(
    'OpenAI %i reaches the caller as the SDK error, counted as status=error',
    async (status, ErrorClass) => {
      suite.fake.enqueue({ status, error: 'boom' });
      const err = await thrown(() =>
        suite.openai.chat.completions.create({ model: 'gpt-4o-mini', messages }),
      );
      expect(err).toBeInstanceOf(ErrorClass);
      expect((err as InstanceType<typeof OpenAI.APIError>).status).toBe(status);
      expect((err as Error).message).toContain('boom');
      expect(
        await suite.h.value('llm_requests_total', {
          model: 'gpt-4o-mini',
          status: 'error',
          tier: 'economy',
        }),
      ).toBe(1);
      expect(await suite.h.value('llm_requests_total', { status: 'ok' })).toBe(0);
      expect(await suite.h.value('llm_cost_usd_total')).toBe(0);
      const span = suite.h.spans()[0]!;
      expect(span.status.code).toBe(2);
      expect(span.attributes['error.type']).toBe(String(status));
      expect(
        (await suite.h.sample('gen_ai_client_operation_duration', { error_type: String(status) }))
          .count,
      ).toBe(1);
    },
  );

  it('Anthropic 529 overloaded reaches the caller unchanged', async () => {
    suite.fake.enqueue({ status: 529, error: 'Overloaded' });
    const err = await thrown(() =>
      suite.anthropic.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 10, messages }),
    );
    expect(err).toBeInstanceOf(Anthropic.APIError);
    expect((err as InstanceType<typeof Anthropic.APIError>).status).toBe(529);
    expect(
      await suite.h.value('llm_requests_total', { provider: 'anthropic', status: 'error' }),
    ).toBe(1);
  });

  it('a dropped connection is the SDK connection error, counted as status=error', async () => {
    suite.fake.enqueue({ dropConnection: true });
    const err = await thrown(() =>
      suite.openai.chat.completions.create({ model: 'gpt-4o-mini', messages }),
    );
    expect(err).toBeInstanceOf(OpenAI.APIConnectionError);
    expect(await suite.h.value('llm_requests_total', { status: 'error' })).toBe(1);
    expect(suite.h.spans()[0]!.attributes['error.type']).toBe('APIConnectionError');
  });
});

describe('malformed usage', () => {
  it('counts the call, prices nothing and marks the span', async () => {
    suite.fake.enqueue({ malformedUsage: true });
    const res = await suite.openai.chat.completions.create({ model: 'gpt-4o-mini', messages });
    expect(res.choices[0]?.message.content).toBeTruthy();
    expect(await suite.h.value('llm_requests_total', { status: 'ok' })).toBe(1);
    expect(await suite.h.value('llm_cost_usd_total')).toBe(0);
    expect(await suite.h.value('llm_tokens_total')).toBe(0);
    expect(suite.h.spans()[0]!.attributes['llm.usage.missing']).toBe('malformed');
    expect(suite.h.spans()[0]!.attributes).not.toHaveProperty('gen_ai.usage.input_tokens');
  });

  it('Anthropic negative token counts are malformed too', async () => {
    suite.fake.enqueue({ malformedUsage: { input_tokens: -5, output_tokens: 'ten' } });
    await suite.anthropic.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 10, messages });
    expect(suite.h.spans()[0]!.attributes['llm.usage.missing']).toBe('malformed');
    expect(await suite.h.value('llm_cost_usd_total')).toBe(0);
  });
});

describe('streams cut short', () => {
  it('a stream aborted mid-way throws to the caller as without us; counted as error, usage aborted', async () => {
    suite.fake.enqueue({ chunks: 10, abortAfterChunks: 3 });
    const stream = await suite.openai.chat.completions.create({
      model: 'gpt-4o-mini',
      messages,
      stream: true,
    });
    let seen = 0;
    const err = await thrown(async () => {
      for await (const chunk of stream) if (chunk) seen++;
    });
    expect(err).toBeInstanceOf(Error);
    expect(seen).toBe(3);
    expect(await suite.h.value('llm_requests_total', { status: 'error' })).toBe(1);
    expect(suite.h.spans()[0]!.attributes['llm.usage.missing']).toBe('aborted');
  });

  it('an Anthropic stream aborted mid-way is counted as error', async () => {
    suite.fake.enqueue({ chunks: 10, abortAfterChunks: 2 });
    const stream = await suite.anthropic.messages.create({
      model: 'claude-sonnet-4-5',
      max_tokens: 10,
      messages,
      stream: true,
    });
    await expect(
      (async () => {
        for await (const event of stream) void event;
      })(),
    ).rejects.toThrow();
    expect(await suite.h.value('llm_requests_total', { status: 'error' })).toBe(1);
  });

  it('a consumer that breaks early ends the call as ok, usage not seen', async () => {
    suite.fake.enqueue({ chunks: 10 });
    const stream = await suite.openai.chat.completions.create({
      model: 'gpt-4o-mini',
      messages,
      stream: true,
    });
    for await (const chunk of stream) if (chunk) break;
    expect(await suite.h.value('llm_requests_total', { status: 'ok' })).toBe(1);
    expect(suite.h.spans()[0]!.attributes['llm.usage.missing']).toBe('aborted');
  });
});

describe('SDK return values are untouched', () => {
  it('asResponse() still gets an unread body; withResponse() gets data and response', async () => {
    suite.fake.enqueue(
      { usage: { prompt_tokens: 10, completion_tokens: 5 } },
      { usage: { prompt_tokens: 10, completion_tokens: 5 } },
    );
    const raw = await suite.openai.chat.completions
      .create({ model: 'gpt-4o-mini', messages })
      .asResponse();
    const body = (await raw.json()) as { usage: { prompt_tokens: number } };
    expect(body.usage.prompt_tokens).toBe(10);
    const { data, response } = await suite.openai.chat.completions
      .create({ model: 'gpt-4o-mini', messages })
      .withResponse();
    expect(response.status).toBe(200);
    expect(data.usage?.completion_tokens).toBe(5);
    expect(await suite.h.value('llm_requests_total')).toBe(1);
  });

  it('results are shaped exactly as without instrumentation', async () => {
    const usage = { prompt_tokens: 10, completion_tokens: 5 };
    suite.fake.enqueue({ usage }, { usage });
    const call = () => suite.openai.chat.completions.create({ model: 'gpt-4o-mini', messages });
    const instrumentedPromise = call();
    const instrumented = await instrumentedPromise;
    suite.h.instrumentation.unpatchModule('openai', openaiModule);
    const plainPromise = call();
    const plain = await plainPromise;
    suite.h.instrumentation.patchModule('openai', openaiModule);
    expect(instrumentedPromise.constructor).toBe(plainPromise.constructor);
    expect(Object.keys(instrumented)).toEqual(Object.keys(plain));
    expect(Object.getPrototypeOf(instrumented)).toBe(Object.getPrototypeOf(plain));
    expect(instrumented._request_id).toBeTruthy();
    expect(instrumented.usage).toEqual(plain.usage);
    expect(await suite.h.value('llm_requests_total')).toBe(1);
  });

  it('does not mutate the caller request body when injecting stream usage', async () => {
    const body = { model: 'gpt-4o-mini', messages, stream: true as const };
    const frozen = JSON.stringify(body);
    const stream = await suite.openai.chat.completions.create(body);
    for await (const chunk of stream) void chunk;
    expect(JSON.stringify(body)).toBe(frozen);
  });
});

describe('internal errors', () => {
  it('are caught, counted and logged once; the app gets its result', async () => {
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    (suite.h.runtime.prices as { resolve: (m: string) => unknown }).resolve = () => {
      throw new Error('pricing exploded');
    };
    suite.fake.enqueue(
      { usage: { prompt_tokens: 10, completion_tokens: 5 } },
      { usage: { prompt_tokens: 10, completion_tokens: 5 } },
    );
    const before = internalErrorCounts().get('record') ?? 0;
    for (let i = 0; i < 2; i++) {
      const res = await suite.openai.chat.completions.create({ model: 'gpt-4o-mini', messages });
      expect(res.choices[0]?.message.content).toBeTruthy();
    }
    expect((internalErrorCounts().get('record') ?? 0) - before).toBe(2);
    expect(await suite.h.value('llm_finops_internal_errors_total', { stage: 'record' })).toBe(2);
    const logged = warn.mock.calls.filter(([m]) => String(m).includes('pricing exploded'));
    expect(logged).toHaveLength(1);
    warn.mockRestore();
  });

  it('a throwing planner still calls the SDK exactly once with the original arguments', async () => {
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    const body = { model: 'gpt-4o-mini', messages };
    // A getter that throws inside our planner only (the SDK reads `model` later, when it is fine).
    let reads = 0;
    Object.defineProperty(body, 'stream', {
      enumerable: false,
      get() {
        reads++;
        if (reads === 1) throw new Error('hostile getter');
        return undefined;
      },
    });
    suite.fake.enqueue({ usage: { prompt_tokens: 10, completion_tokens: 5 } });
    const res = await suite.openai.chat.completions.create(body);
    expect(res.choices).toHaveLength(1);
    expect(suite.fake.requests).toHaveLength(1);
    expect(internalErrorCounts().get('start')).toBeGreaterThanOrEqual(1);
    warn.mockRestore();
  });
});
