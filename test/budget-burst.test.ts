/**
 * A burst of concurrent calls against the real sidecar (`node dist/src/cli/main.js sidecar`, so
 * `npm run build` first) reading a real Prometheus: a user at $0.90 of a $1.00 monthly cap fires
 * 50 chat calls of $0.05 each at once through the real openai client. Reservations must stop the
 * burst within one call beyond the cap, and every refused call must never reach the provider.
 */
import * as openaiModule from 'openai';
import OpenAI from 'openai';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startFakeProvider, type FakeProvider } from '../demo/fake-provider';
import { withAttribution } from '../instrumentation/attribution';
import { BudgetExceededError } from '../instrumentation/errors';
import { freePort, startNode, type Child } from './helpers/child';
import { startHarness } from './helpers/harness';
import { startPrometheus, type PrometheusServer } from './helpers/prometheus';

// gpt-4o catalog rates, USD per token (pricing/catalog.yaml, 2026-12-01).
const GPT4O = { input: 2.5e-6, output: 10e-6 };
/** What each call costs: 1,000 input and 4,750 output tokens = $0.05. */
const USAGE = { prompt_tokens: 1000, completion_tokens: 4750 };
const CALL_COST = USAGE.prompt_tokens * GPT4O.input + USAGE.completion_tokens * GPT4O.output;
/**
 * The reservation: 'user' + 'hi' = 6 chars, 2 tokens + 4 per message = 6 input tokens, and
 * max_tokens output: $0.050015, just above what a call costs, as a worst case should be.
 */
const MAX_TOKENS = 5000;
const ESTIMATE = 6 * GPT4O.input + MAX_TOKENS * GPT4O.output;
const SPENT = 0.9;
const LIMIT = 1;
const BURST = 50;
const TOKEN = 'burst-token';

let metrics: Server;
let prometheus: PrometheusServer;
let sidecar: Child;
let sidecarUrl: string;
let fake: FakeProvider;
let configDir: string;

/**
 * GET /v1/check for the burst user: the spend the sidecar counts (Prometheus, settled, reserved),
 * from the user cap of an allowed answer or from the problem details of a denial.
 */
async function checkedSpend(): Promise<number> {
  const res = await fetch(`${sidecarUrl}/v1/check?user=burst-user&feature=chat`);
  const body = (await res.json()) as {
    spent_usd?: number;
    budgets?: { scope: string; spent_usd: number }[];
  };
  const spent =
    res.status === 402 ? body.spent_usd : body.budgets?.find((b) => b.scope === 'user')?.spent_usd;
  if (spent === undefined)
    throw new Error(`no user spend in ${res.status} ${JSON.stringify(body)}`);
  return spent;
}

async function poll(what: string, ms: number, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + ms;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      if (await check()) return;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out waiting for ${what}: ${String(last)}`);
}

beforeAll(async () => {
  // The app's past spend, as its /metrics would show it.
  metrics = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
    res.end(
      [
        '# TYPE llm_user_cost_usd_total counter',
        `llm_user_cost_usd_total{user="burst-user",feature="chat"} ${SPENT}`,
        '',
      ].join('\n'),
    );
  });
  await new Promise<void>((resolve) => metrics.listen(0, '127.0.0.1', resolve));
  const target = `127.0.0.1:${(metrics.address() as AddressInfo).port}`;
  prometheus = await startPrometheus({ targets: [target], scrapeInterval: '1s' });
  await poll('the first scrape', 20_000, async () => {
    const [row] = await prometheus.query('llm_user_cost_usd_total');
    return row?.value[1] === String(SPENT);
  });

  configDir = mkdtempSync(join(tmpdir(), 'llmf-burst-'));
  const configFile = join(configDir, 'budgets.yaml');
  writeFileSync(
    configFile,
    readFileSync(join(__dirname, 'fixtures', 'budget', 'burst.yaml'), 'utf8').replace(
      '${PROMETHEUS_URL}',
      prometheus.url,
    ),
  );
  const port = await freePort();
  sidecar = startNode(
    ['dist/src/cli/main.js', 'sidecar', '--config', configFile, '--port', String(port)],
    { BURST_TOKEN: TOKEN },
  );
  await sidecar.waitFor('llm-finops sidecar listening on');
  sidecarUrl = `http://127.0.0.1:${port}`;
  await poll('/readyz', 20_000, async () => (await fetch(`${sidecarUrl}/readyz`)).ok);
  // The decision must start from the $0.90 Prometheus has, not from an empty first read.
  await poll('the sidecar to count $0.90', 20_000, async () => (await checkedSpend()) === SPENT);

  fake = await startFakeProvider();
  fake.setHandler(() => ({ usage: USAGE }));
}, 120_000);

afterAll(async () => {
  await sidecar?.stop();
  await prometheus?.stop();
  await fake?.close();
  await new Promise((resolve) => metrics?.close(resolve));
  if (configDir) rmSync(configDir, { recursive: true, force: true });
});

it('stops a 50-call burst within one call beyond the cap, before the provider', async () => {
  const h = startHarness({ sidecarUrl, sidecarToken: TOKEN });
  h.instrumentation.patchModule('openai', openaiModule);
  const client = new OpenAI({ apiKey: 'test', baseURL: fake.openaiBaseURL, maxRetries: 0 });
  const call = () =>
    client.chat.completions.create({
      model: 'gpt-4o',
      max_tokens: MAX_TOKENS,
      messages: [{ role: 'user', content: 'hi' }],
    });

  const results = await withAttribution({ user: 'burst-user', feature: 'chat' }, () =>
    Promise.allSettled(Array.from({ length: BURST }, call)),
  );

  const allowed = results.filter((r) => r.status === 'fulfilled').length;
  const refusals = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
  // At most one call beyond the cap: the spend overshoots it by at most one call's cost.
  expect(allowed).toBeGreaterThanOrEqual(1);
  expect(SPENT + allowed * CALL_COST - LIMIT).toBeLessThanOrEqual(CALL_COST + 1e-9);
  // Exactly, by the admission rule (deny when spent + outstanding reservations >= limit): the
  // second reservation sees $0.950015 and passes, the third $1.00003 and is refused.
  expect(SPENT + ESTIMATE).toBeLessThan(LIMIT);
  expect(SPENT + 2 * ESTIMATE).toBeGreaterThanOrEqual(LIMIT);
  expect(allowed).toBe(2);
  expect(fake.requests).toHaveLength(allowed);
  expect(refusals).toHaveLength(BURST - allowed);
  for (const err of refusals) {
    expect(err).toBeInstanceOf(BudgetExceededError);
    expect((err as BudgetExceededError).status).toBe(402);
    expect((err as BudgetExceededError).problem).toMatchObject({
      code: 'user_budget_exceeded',
      scope: 'user',
      subject: 'burst-user',
      window: 'month',
      limit_usd: LIMIT,
    });
  }
  expect(await h.value('llm_requests_total', { status: 'denied' })).toBe(BURST - allowed);
  expect(await h.value('llm_requests_total', { status: 'ok' })).toBe(allowed);
  expect(await h.value('llm_user_cost_usd_total', { user: 'burst-user' })).toBeCloseTo(
    allowed * CALL_COST,
    12,
  );

  // The settled costs count until Prometheus shows them: the next call is refused too.
  await poll('the settles', 10_000, async () => {
    const spent = await checkedSpend();
    return Math.abs(spent - (SPENT + allowed * CALL_COST)) < 1e-9;
  });
  await expect(withAttribution({ user: 'burst-user', feature: 'chat' }, call)).rejects.toThrow(
    BudgetExceededError,
  );
  expect(fake.requests).toHaveLength(allowed);
}, 60_000);
