import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeProvider, type FakeProvider, type FakeReply } from '../demo/fake-provider';
import { METRICS } from '../src/contract/metrics';
import {
  APPS,
  ROOT,
  freePort,
  parseMetrics,
  startNode,
  sumOf,
  type PromSample,
} from './helpers/child';

// Catalog rates, USD per token (pricing/catalog.yaml, 2026-12-01).
const RATES = {
  'gpt-4o-mini': { input: 0.15e-6, cacheRead: 0.075e-6, output: 0.6e-6 },
  'claude-sonnet-4-5': { input: 3e-6, cacheRead: 0.3e-6, output: 15e-6 },
  'claude-haiku-4-5': { input: 1e-6, output: 5e-6 },
  'text-embedding-3-small': { input: 0.02e-6 },
  'gpt-4.1': { input: 2e-6, output: 8e-6 },
  'gpt-4': { input: 30e-6, output: 60e-6 },
};

/** Usage the fake provider answers per model (see test/fixtures/apps/calls.cjs for the calls). */
const REPLIES: Record<string, FakeReply> = {
  'gpt-4o-mini': {
    usage: {
      prompt_tokens: 1000,
      completion_tokens: 100,
      prompt_tokens_details: { cached_tokens: 200 },
    },
  },
  'claude-sonnet-4-5': {
    usage: { input_tokens: 300, cache_read_input_tokens: 1000, output_tokens: 50 },
  },
  'claude-haiku-4-5': { usage: { input_tokens: 400, output_tokens: 80 } },
  'text-embedding-3-small': { usage: { prompt_tokens: 2000, total_tokens: 2000 } },
  'gpt-4.1': { usage: { input_tokens: 500, output_tokens: 120 } },
};

const r = RATES;
const cost = {
  aliceChat:
    2 *
    (800 * r['gpt-4o-mini'].input +
      200 * r['gpt-4o-mini'].cacheRead +
      100 * r['gpt-4o-mini'].output),
  bobChat:
    300 * r['claude-sonnet-4-5'].input +
    1000 * r['claude-sonnet-4-5'].cacheRead +
    50 * r['claude-sonnet-4-5'].output,
  carolSummarise:
    400 * r['claude-haiku-4-5'].input +
    80 * r['claude-haiku-4-5'].output +
    2000 * r['text-embedding-3-small'].input,
  aliceSummarise: 500 * r['gpt-4.1'].input + 120 * r['gpt-4.1'].output,
};

let fake: FakeProvider;
beforeAll(async () => {
  expect(
    existsSync(join(ROOT, 'dist', 'instrumentation', 'register.js')),
    'run `npm run build` first',
  ).toBe(true);
  fake = await startFakeProvider({
    handler: (req) => REPLIES[String((req.body as { model?: string } | undefined)?.model)],
  });
});
afterAll(async () => {
  await fake.close();
});

async function scrape(port: number): Promise<PromSample[]> {
  const res = await fetch(`http://127.0.0.1:${port}/metrics`);
  expect(res.status).toBe(200);
  return parseMetrics(await res.text());
}

describe.each([
  ['--require', 'app.cjs'],
  ['--import', 'app.mjs'],
])('node %s llm-finops/register %s', (flag, app) => {
  it('exposes the contract metrics with exact values for three users and two features', async () => {
    const port = await freePort();
    const child = startNode([flag, 'llm-finops/register', join(APPS, app)], {
      FAKE_PROVIDER_URL: fake.url,
      OTEL_METRICS_EXPORTER: 'prometheus',
      OTEL_EXPORTER_PROMETHEUS_PORT: String(port),
      OTEL_EXPORTER_PROMETHEUS_HOST: '127.0.0.1',
      OTEL_TRACES_EXPORTER: 'none',
      OTEL_SERVICE_NAME: 'fixture-app',
    });
    try {
      await child.waitFor('calls done');
      const s = await scrape(port);

      expect(sumOf(s, 'llm_user_cost_usd_total', { user: 'alice', feature: 'chat' })).toBeCloseTo(
        cost.aliceChat,
        12,
      );
      expect(sumOf(s, 'llm_user_cost_usd_total', { user: 'bob', feature: 'chat' })).toBeCloseTo(
        cost.bobChat,
        12,
      );
      expect(
        sumOf(s, 'llm_user_cost_usd_total', { user: 'carol', feature: 'summarise' }),
      ).toBeCloseTo(cost.carolSummarise, 12);
      expect(
        sumOf(s, 'llm_user_cost_usd_total', { user: 'alice', feature: 'summarise' }),
      ).toBeCloseTo(cost.aliceSummarise, 12);
      expect(sumOf(s, 'llm_user_requests_total', { user: 'alice', feature: 'chat' })).toBe(2);
      expect(sumOf(s, 'llm_user_requests_total', { user: 'carol', feature: 'summarise' })).toBe(2);
      expect(sumOf(s, 'llm_user_requests_total')).toBe(6);

      expect(
        sumOf(s, 'llm_cost_usd_total', {
          provider: 'openai',
          model: 'gpt-4o-mini',
          tier: 'economy',
          feature: 'chat',
        }),
      ).toBeCloseTo(cost.aliceChat, 12);
      expect(
        sumOf(s, 'llm_cost_usd_total', {
          provider: 'anthropic',
          model: 'claude-sonnet-4-5',
          tier: 'standard',
          feature: 'chat',
        }),
      ).toBeCloseTo(cost.bobChat, 12);
      expect(sumOf(s, 'llm_cost_usd_total', { feature: 'chat' })).toBeCloseTo(
        cost.aliceChat + cost.bobChat,
        12,
      );
      expect(sumOf(s, 'llm_cost_usd_total', { feature: 'summarise' })).toBeCloseTo(
        cost.carolSummarise + cost.aliceSummarise,
        12,
      );
      expect(sumOf(s, 'llm_baseline_cost_usd_total', { model: 'gpt-4o-mini' })).toBeCloseTo(
        2 * (1000 * r['gpt-4'].input + 100 * r['gpt-4'].output),
        12,
      );
      expect(
        sumOf(s, 'llm_requests_total', {
          provider: 'openai',
          model: 'gpt-4o-mini',
          tier: 'economy',
          feature: 'chat',
          status: 'ok',
        }),
      ).toBe(2);
      expect(sumOf(s, 'llm_requests_total', { status: 'ok' })).toBe(6);
      expect(
        sumOf(s, 'llm_tokens_total', { model: 'gpt-4o-mini', feature: 'chat', type: 'cache_read' }),
      ).toBe(400);
      expect(
        sumOf(s, 'llm_tokens_total', { model: 'gpt-4o-mini', feature: 'chat', type: 'input' }),
      ).toBe(1600);
      expect(sumOf(s, 'llm_tokens_total', { model: 'claude-sonnet-4-5', type: 'cache_read' })).toBe(
        1000,
      );
      expect(
        sumOf(s, 'llm_cache_savings_usd_total', { model: 'claude-sonnet-4-5', cache: 'prompt' }),
      ).toBeCloseTo(1000 * (3e-6 - 0.3e-6), 12);
      expect(
        sumOf(s, 'llm_request_cost_usd_count', { model: 'gpt-4o-mini', feature: 'chat' }),
      ).toBe(2);
      expect(
        sumOf(s, 'llm_request_cost_usd_sum', { model: 'gpt-4o-mini', feature: 'chat' }),
      ).toBeCloseTo(cost.aliceChat, 12);
      expect(
        sumOf(s, 'gen_ai_client_token_usage_sum', {
          gen_ai_request_model: 'gpt-4.1',
          gen_ai_token_type: 'input',
        }),
      ).toBe(500);
      expect(
        sumOf(s, 'gen_ai_client_operation_duration_count', { gen_ai_provider_name: 'anthropic' }),
      ).toBe(2);

      // Every contract label is present on every series of its metric.
      for (const spec of Object.values(METRICS)) {
        const names = spec.kind === 'histogram' ? [`${spec.promName}_count`] : [spec.promName];
        for (const sample of s.filter((x) => names.includes(x.name))) {
          for (const label of spec.labels.filter(
            (l) => l !== 'error.type' && l !== 'gen_ai.response.model',
          )) {
            expect(sample.labels, `${sample.name} lacks ${label}`).toHaveProperty(
              label.replaceAll('.', '_'),
            );
          }
        }
      }
      // The caller of the streamed chat never saw the injected usage chunk (the app checks, and
      // would have failed), and the provider did get the request for it.
      const streamed = fake.requests.find(
        (q) => (q.body as { stream?: boolean })?.stream && q.route === 'chat.completions',
      );
      expect(streamed?.body).toMatchObject({ stream_options: { include_usage: true } });
    } finally {
      await child.stop();
    }
  });
});
