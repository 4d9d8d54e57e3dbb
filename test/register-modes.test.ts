import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeProvider, type FakeProvider } from '../demo/fake-provider';
import { METRICS } from '../src/contract/metrics';
import { APPS, freePort, parseMetrics, startNode, sumOf } from './helpers/child';

let fake: FakeProvider;
beforeAll(async () => {
  fake = await startFakeProvider({ recordRequests: true });
});
afterAll(async () => {
  await fake.close();
});

describe('exporter endpoints down', () => {
  it.each([
    ['default', undefined],
    ['100 ms', '100'],
  ])(
    'an unreachable OTLP endpoint changes nothing for the app (%s export interval)',
    async (_name, interval) => {
      const deadPort = await freePort();
      const started = Date.now();
      const child = startNode(['--require', 'llm-finops/register', join(APPS, 'app.cjs')], {
        FAKE_PROVIDER_URL: fake.url,
        APP_EXIT_WHEN_DONE: '1',
        OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${deadPort}`,
        ...(interval ? { OTEL_METRIC_EXPORT_INTERVAL: interval } : {}),
      });
      const code = await child.exited;
      // The exit flush gives up within the OTLP timeout (10 s by default) instead of hanging.
      expect(Date.now() - started).toBeLessThan(15_000);
      expect(child.stderr()).not.toMatch(/Unhandled|ECONNREFUSED/);
      expect(child.stdout()).toContain('calls done');
      expect(code).toBe(0);
    },
    30_000,
  );

  it('a taken Prometheus port is reported, and the app carries on', async () => {
    const taken: Server = createServer();
    const port = await freePort();
    await new Promise<void>((r) => taken.listen(port, '127.0.0.1', () => r()));
    try {
      const child = startNode(['--require', 'llm-finops/register', join(APPS, 'app.cjs')], {
        FAKE_PROVIDER_URL: fake.url,
        APP_EXIT_WHEN_DONE: '1',
        OTEL_METRICS_EXPORTER: 'prometheus',
        OTEL_EXPORTER_PROMETHEUS_HOST: '127.0.0.1',
        OTEL_EXPORTER_PROMETHEUS_PORT: String(port),
        OTEL_TRACES_EXPORTER: 'none',
      });
      expect(await child.exited).toBe(0);
      expect(child.stdout()).toContain('calls done');
      expect(child.stderr()).toContain(`cannot serve /metrics on 127.0.0.1:${port}`);
    } finally {
      taken.close();
    }
  });
});

describe('OTEL_SDK_DISABLED=true', () => {
  it('makes the package a no-op: no patch, no request change, no /metrics', async () => {
    fake.reset();
    const port = await freePort();
    const child = startNode(['--require', 'llm-finops/register', join(APPS, 'app.cjs')], {
      FAKE_PROVIDER_URL: fake.url,
      OTEL_SDK_DISABLED: 'true',
      OTEL_METRICS_EXPORTER: 'prometheus',
      OTEL_EXPORTER_PROMETHEUS_PORT: String(port),
      OTEL_EXPORTER_PROMETHEUS_HOST: '127.0.0.1',
    });
    try {
      await child.waitFor('calls done');
      await expect(fetch(`http://127.0.0.1:${port}/metrics`)).rejects.toThrow();
      const streamed = fake.requests.find(
        (q) => (q.body as { stream?: boolean })?.stream && q.route === 'chat.completions',
      );
      expect(streamed?.body).not.toHaveProperty('stream_options');
    } finally {
      await child.stop();
    }
  });
});

describe('an app that starts its own OTel SDK', () => {
  /** The app's own /metrics after its one call, with or without our producer on its reader. */
  async function appMetrics(producer: boolean, app: Record<string, string> = {}) {
    const ours = await freePort();
    const theirs = await freePort();
    const child = startNode(['--require', 'llm-finops/register', join(APPS, 'own-sdk.cjs')], {
      FAKE_PROVIDER_URL: fake.url,
      APP_METRICS_PORT: String(theirs),
      ...(producer ? { APP_METRIC_PRODUCER: '1' } : {}),
      ...app,
      OTEL_METRICS_EXPORTER: 'prometheus',
      OTEL_EXPORTER_PROMETHEUS_HOST: '127.0.0.1',
      OTEL_EXPORTER_PROMETHEUS_PORT: String(ours),
      OTEL_TRACES_EXPORTER: 'none',
    });
    try {
      await child.waitFor('calls done', 60_000);
      const text = await (await fetch(`http://127.0.0.1:${theirs}/metrics`)).text();
      await expect(fetch(`http://127.0.0.1:${ours}/metrics`)).rejects.toThrow();
      return { text, samples: parseMetrics(text) };
    } finally {
      await child.stop();
    }
  }

  it('gets llm-finops metrics in its own provider, and ours stops serving', async () => {
    const { samples: s } = await appMetrics(false);
    expect(sumOf(s, 'llm_user_requests_total', { user: 'own-sdk-user', feature: 'unknown' })).toBe(
      1,
    );
    expect(sumOf(s, 'llm_requests_total', { model: 'gpt-4o-mini', status: 'ok' })).toBe(1);
  });

  it('gets the same metrics through llmFinopsMetricProducer() on its reader, each family once', async () => {
    const viaMeter = await appMetrics(false);
    const viaProducer = await appMetrics(true);
    // Everything but the measured duration is the same, series by series.
    const comparable = (samples: typeof viaMeter.samples) =>
      samples
        .filter((x) => !x.name.startsWith('gen_ai_client_operation_duration_'))
        .map((x) => `${x.name}${JSON.stringify(x.labels)} ${x.value}`)
        .sort();
    expect(comparable(viaProducer.samples)).toEqual(comparable(viaMeter.samples));
    expect(sumOf(viaProducer.samples, 'gen_ai_client_operation_duration_count', {})).toBe(1);
    for (const spec of Object.values(METRICS)) {
      const declared = viaProducer.text
        .split('\n')
        .filter((l) => l === `# TYPE ${spec.promName}` || l.startsWith(`# TYPE ${spec.promName} `));
      expect(declared.length, spec.promName).toBeLessThanOrEqual(1);
    }
  });
  it('keeps every user through the producer even without our views (the meter folds them at 2000)', async () => {
    const app = { APP_NO_VIEWS: '1', APP_USERS: '2100' };
    const users = (samples: { name: string; labels: Record<string, string> }[]) =>
      samples.filter((x) => x.name === 'llm_user_requests_total' && x.labels.user).length;
    const viaProducer = await appMetrics(true, app);
    expect(users(viaProducer.samples)).toBe(2100);
    expect(viaProducer.text).not.toContain('otel_metric_overflow');
    // The same app without the producer: its meter's default limit applies to our counters.
    const viaMeter = await appMetrics(false, app);
    expect(users(viaMeter.samples)).toBe(1999);
    expect(viaMeter.text).toContain('otel_metric_overflow="true"');
  }, 120_000);
});

describe('10,000 distinct users in one process', () => {
  it('keeps every user in llm_user_cost_usd_total (no overflow series)', async () => {
    const port = await freePort();
    const child = startNode(
      ['--expose-gc', '--require', 'llm-finops/register', join(APPS, 'many-users.cjs')],
      {
        FAKE_PROVIDER_URL: fake.url,
        APP_USERS: '10000',
        OTEL_METRICS_EXPORTER: 'prometheus',
        OTEL_EXPORTER_PROMETHEUS_HOST: '127.0.0.1',
        OTEL_EXPORTER_PROMETHEUS_PORT: String(port),
        OTEL_TRACES_EXPORTER: 'none',
      },
    );
    try {
      await child.waitFor('calls done', 120_000);
      const s = parseMetrics(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text());
      const users = new Set(
        s.filter((x) => x.name === 'llm_user_cost_usd_total').map((x) => x.labels.user),
      );
      expect(users.size).toBe(10_000);
      expect(users.has('user-0') && users.has('user-9999')).toBe(true);
      expect(s.some((x) => x.labels.otel_metric_overflow === 'true')).toBe(false);
      // text-embedding-3-small at $0.02/1M, 1 token per call ("x" is 1 token by the fake's rule)
      expect(sumOf(s, 'llm_user_requests_total', { feature: 'search' })).toBe(10_000);
    } finally {
      await child.stop();
    }
  }, 180_000);
});
