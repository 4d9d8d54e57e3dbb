import { createHmac } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { context, propagation } from '@opentelemetry/api';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordCacheLookup, recordOutcome } from '../instrumentation/api';
import { currentAttribution, withAttribution } from '../instrumentation/attribution';
import { BudgetExceededError } from '../instrumentation/errors';
import { budgetErrorHandler, expressMiddleware } from '../instrumentation/middleware';
import { startHarness } from './helpers/harness';
import { instrumentedSuite } from './helpers/suite';

const GPT4O = { input: 2.5e-6, output: 10e-6 };

const suite = instrumentedSuite();
const messages = [{ role: 'user' as const, content: 'hello' }];
const chat = () => suite.openai.chat.completions.create({ model: 'gpt-4o-mini', messages });

describe('withAttribution', () => {
  it('follows the call across awaits and keeps concurrent requests apart', async () => {
    const run = (user: string, feature: string, delayMs: number) =>
      withAttribution({ user, feature }, async () => {
        await new Promise((r) => setTimeout(r, delayMs));
        await chat();
        await new Promise((r) => setTimeout(r, 1));
        await chat();
      });
    await Promise.all([run('u1', 'f1', 5), run('u2', 'f2', 0), run('u3', 'f1', 2)]);
    expect(await suite.h.value('llm_user_requests_total', { user: 'u1', feature: 'f1' })).toBe(2);
    expect(await suite.h.value('llm_user_requests_total', { user: 'u2', feature: 'f2' })).toBe(2);
    expect(await suite.h.value('llm_user_requests_total', { user: 'u3', feature: 'f1' })).toBe(2);
    expect(await suite.h.value('llm_requests_total', { feature: 'f1' })).toBe(4);
  });

  it('nested calls override only the fields they give', async () => {
    await withAttribution({ user: 'outer', session: 's', feature: 'chat' }, () =>
      withAttribution({ feature: 'summarise' }, async () => {
        expect(currentAttribution()).toEqual({ user: 'outer', session: 's', feature: 'summarise' });
        await chat();
      }),
    );
    expect(
      await suite.h.value('llm_user_requests_total', { user: 'outer', feature: 'summarise' }),
    ).toBe(1);
  });

  it('calls without attribution are labelled unknown, never dropped', async () => {
    await chat();
    expect(
      await suite.h.value('llm_user_requests_total', { user: 'unknown', feature: 'unknown' }),
    ).toBe(1);
    expect(await suite.h.value('llm_requests_total', { feature: 'unknown' })).toBe(1);
  });

  it('W3C baggage attributes a call; explicit attribution wins over it', async () => {
    const bag = propagation.createBaggage({
      'user.id': { value: 'bag-user' },
      'session.id': { value: 'bag-session' },
      'app.feature': { value: 'bag-feature' },
    });
    await context.with(propagation.setBaggage(context.active(), bag), async () => {
      await chat();
      await withAttribution({ user: 'explicit' }, chat);
    });
    expect(
      await suite.h.value('llm_user_requests_total', { user: 'bag-user', feature: 'bag-feature' }),
    ).toBe(1);
    expect(
      await suite.h.value('llm_user_requests_total', { user: 'explicit', feature: 'bag-feature' }),
    ).toBe(1);
    expect(suite.h.spans()[0]!.attributes['session.id']).toBe('bag-session');
  });
});

describe('user id modes', () => {
  it('hash replaces ids by a keyed HMAC everywhere, stable across runtimes', async () => {
    suite.h = startHarness({ userIdMode: 'hash', userIdHashKey: 'k3y' });
    await withAttribution({ user: 'alice@example.com', feature: 'chat' }, chat);
    const expected =
      'u_' + createHmac('sha256', 'k3y').update('alice@example.com').digest('hex').slice(0, 24);
    expect(
      await suite.h.value('llm_user_requests_total', { user: expected, feature: 'chat' }),
    ).toBe(1);
    expect(suite.h.spans()[0]!.attributes['user.id']).toBe(expected);
    const everything =
      JSON.stringify(await suite.h.samples()) +
      JSON.stringify(suite.h.spans().map((s) => s.attributes));
    expect(everything).not.toContain('alice');
  });

  it('hash keeps unattributed calls readable as unknown', async () => {
    suite.h = startHarness({ userIdMode: 'hash', userIdHashKey: 'k3y' });
    await chat();
    expect(
      await suite.h.value('llm_user_requests_total', { user: 'unknown', feature: 'unknown' }),
    ).toBe(1);
  });

  it('off records no user anywhere', async () => {
    suite.h = startHarness({ userIdMode: 'off' });
    await withAttribution({ user: 'alice', feature: 'chat' }, chat);
    expect(suite.h.spans()[0]!.attributes).not.toHaveProperty('user.id');
    expect((await suite.h.samples()).filter((s) => s.name.startsWith('llm_user_'))).toEqual([]);
    expect(await suite.h.value('llm_requests_total', { feature: 'chat' })).toBe(1);
  });
});

describe('Express middleware', () => {
  let base: string;
  let server: ReturnType<ReturnType<typeof express>['listen']>;
  beforeAll(async () => {
    const app = express();
    app.use(expressMiddleware({ defaultFeature: 'default-feature' }));
    app.post('/chat', async (_req, res) => {
      await chat();
      res.json({ ok: true });
    });
    app.post('/over-cap', () => {
      throw new BudgetExceededError({
        type: 'https://llm-finops.dev/problems/budget-exceeded',
        title: 'Budget exceeded',
        status: 402,
        detail: 'You have reached your AI budget for this period.',
        code: 'user_budget_exceeded',
        scope: 'user',
        subject: 'alice',
        window: 'month',
        limit_usd: 10,
        spent_usd: 10.02,
        resets_at: new Date(Date.now() + 3_600_000).toISOString(),
        upgrade_url: 'https://example.com/upgrade',
      });
    });
    app.use(budgetErrorHandler());
    await new Promise<void>((resolve) => {
      server = app.listen(0, '127.0.0.1', () => resolve());
    });
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => {
    server.close();
  });

  it('attributes calls to the x-llm-* headers', async () => {
    const res = await fetch(`${base}/chat`, {
      method: 'POST',
      headers: {
        'x-llm-user': 'hdr-user',
        'x-llm-session': 'hdr-session',
        'x-llm-feature': 'hdr-feature',
      },
    });
    expect(res.status).toBe(200);
    expect(
      await suite.h.value('llm_user_requests_total', { user: 'hdr-user', feature: 'hdr-feature' }),
    ).toBe(1);
    expect(suite.h.spans()[0]!.attributes['session.id']).toBe('hdr-session');
  });

  it('reads the W3C baggage header, and falls back to the default feature', async () => {
    await fetch(`${base}/chat`, {
      method: 'POST',
      headers: { baggage: 'user.id=bag-user,app.feature=bag-feature' },
    });
    await fetch(`${base}/chat`, { method: 'POST' });
    expect(
      await suite.h.value('llm_user_requests_total', { user: 'bag-user', feature: 'bag-feature' }),
    ).toBe(1);
    expect(
      await suite.h.value('llm_user_requests_total', {
        user: 'unknown',
        feature: 'default-feature',
      }),
    ).toBe(1);
  });

  it('turns BudgetExceededError into the 402 problem+json response', async () => {
    const res = await fetch(`${base}/over-cap`, { method: 'POST' });
    expect(res.status).toBe(402);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    expect(res.headers.get('x-should-retry')).toBe('false');
    const retryAfter = Number(res.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(3590);
    expect(retryAfter).toBeLessThanOrEqual(3600);
    expect(await res.json()).toMatchObject({
      status: 402,
      code: 'user_budget_exceeded',
      upgrade_url: 'https://example.com/upgrade',
    });
  });
});

describe('recordOutcome and recordCacheLookup', () => {
  it('count outcomes', () => {
    recordOutcome('chat', 'success');
    recordOutcome('chat', 'success');
    recordOutcome('chat', 'escalated');
    return Promise.all([
      expect(
        suite.h.value('llm_outcomes_total', { feature: 'chat', outcome: 'success' }),
      ).resolves.toBe(2),
      expect(
        suite.h.value('llm_outcomes_total', { feature: 'chat', outcome: 'escalated' }),
      ).resolves.toBe(1),
    ]);
  });

  it('a response-cache hit adds the avoided cost at the model price', async () => {
    recordCacheLookup({
      feature: 'faq',
      hit: true,
      model: 'gpt-4o-2024-08-06',
      inputTokens: 1000,
      outputTokens: 400,
    });
    recordCacheLookup({ feature: 'faq', hit: false, model: 'gpt-4o' });
    recordCacheLookup({ feature: 'faq', hit: true, model: 'no-such-model', inputTokens: 10 });
    expect(await suite.h.value('llm_cache_lookups_total', { feature: 'faq', result: 'hit' })).toBe(
      2,
    );
    expect(await suite.h.value('llm_cache_lookups_total', { feature: 'faq', result: 'miss' })).toBe(
      1,
    );
    expect(
      await suite.h.value('llm_cache_savings_usd_total', {
        feature: 'faq',
        cache: 'response',
        model: 'gpt-4o',
        provider: 'openai',
      }),
    ).toBeCloseTo(1000 * GPT4O.input + 400 * GPT4O.output, 12);
    expect(await suite.h.value('llm_cache_savings_usd_total', { cache: 'response' })).toBeCloseTo(
      1000 * GPT4O.input + 400 * GPT4O.output,
      12,
    );
  });
});
