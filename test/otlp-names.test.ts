import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeProvider, type FakeProvider } from '../demo/fake-provider';
import { METRICS } from '../src/contract/metrics';
import { APPS, freePort, parseMetrics, startNode } from './helpers/child';
import { prometheusLabel, prometheusName, type OtlpMetricType } from './helpers/otlp-to-prometheus';

interface OtlpMetric {
  name: string;
  unit?: string;
  sum?: { isMonotonic?: boolean; dataPoints: { attributes?: { key: string }[] }[] };
  gauge?: { dataPoints: { attributes?: { key: string }[] }[] };
  histogram?: { dataPoints: { attributes?: { key: string }[] }[] };
}
interface OtlpBody {
  resourceMetrics: { scopeMetrics: { metrics: OtlpMetric[] }[] }[];
}

let fake: FakeProvider;
let receiver: Server;
const bodies: OtlpBody[] = [];

beforeAll(async () => {
  // Cached prompt tokens on every OpenAI chat call, so prompt-cache savings are recorded too.
  fake = await startFakeProvider({
    handler: (req) =>
      req.route === 'chat.completions'
        ? {
            usage: {
              prompt_tokens: 100,
              completion_tokens: 10,
              prompt_tokens_details: { cached_tokens: 50 },
            },
          }
        : undefined,
  });
  // A bare OTLP/HTTP JSON receiver: what the Collector or Prometheus 3 would be sent.
  receiver = createServer((req, res) => {
    let data = '';
    req.on('data', (d: Buffer) => (data += d.toString()));
    req.on('end', () => {
      if (req.url === '/v1/metrics') bodies.push(JSON.parse(data) as OtlpBody);
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', () => r()));
});
afterAll(async () => {
  await fake.close();
  receiver.closeAllConnections();
  receiver.close();
});

function typeOf(m: OtlpMetric): OtlpMetricType {
  if (m.histogram) return 'histogram';
  if (m.gauge) return 'gauge';
  return m.sum?.isMonotonic ? 'counter' : 'non-monotonic-sum';
}

describe('metric names on both pipelines', () => {
  it('the OTLP export, translated as Prometheus 3 does by default, gives the scraped names', async () => {
    const port = await freePort();
    const child = startNode(['--require', 'llm-finops/register', join(APPS, 'app.cjs')], {
      FAKE_PROVIDER_URL: fake.url,
      APP_EXTRA: '1',
      OTEL_METRICS_EXPORTER: 'prometheus,otlp',
      OTEL_EXPORTER_PROMETHEUS_HOST: '127.0.0.1',
      OTEL_EXPORTER_PROMETHEUS_PORT: String(port),
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_METRIC_EXPORT_INTERVAL: '200',
      OTEL_TRACES_EXPORTER: 'none',
    });
    try {
      await child.waitFor('calls done');
      const scraped = parseMetrics(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text());
      await new Promise((r) => setTimeout(r, 500));
      const last = bodies.at(-1)!;
      const otlp = last.resourceMetrics.flatMap((r) => r.scopeMetrics.flatMap((s) => s.metrics));

      for (const spec of Object.values(METRICS)) {
        if (spec.otelName === METRICS.internalErrors.otelName) continue; // no internal error happened
        const metric = otlp.find((m) => m.name === spec.otelName);
        expect(metric, `${spec.otelName} exported over OTLP`).toBeDefined();
        expect(metric!.unit).toBe(spec.unit);
        const viaOtlp = prometheusName(metric!.name, metric!.unit ?? '', typeOf(metric!));
        // DESIGN.md: the duration histogram alone gets its unit suffix on the OTLP path.
        const expected = spec.unit === 's' ? `${spec.promName}_seconds` : spec.promName;
        expect(viaOtlp, spec.otelName).toBe(expected);

        const seriesName = spec.kind === 'histogram' ? `${spec.promName}_count` : spec.promName;
        const series = scraped.filter((s) => s.name === seriesName);
        expect(series.length, `${seriesName} scraped`).toBeGreaterThan(0);

        const points = (metric!.sum ?? metric!.histogram ?? metric!.gauge)!.dataPoints;
        const otlpLabels = new Set(
          points.flatMap((p) => (p.attributes ?? []).map((a) => prometheusLabel(a.key))),
        );
        const scrapedLabels = new Set(
          series.flatMap((s) => Object.keys(s.labels)).filter((l) => !l.startsWith('otel_scope_')),
        );
        expect([...otlpLabels].sort(), spec.otelName).toEqual([...scrapedLabels].sort());
      }
    } finally {
      await child.stop();
    }
  });
});
