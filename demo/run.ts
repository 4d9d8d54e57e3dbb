/**
 * `npm run demo`: a fake provider, the example app under `--require llm-finops/register`, some
 * traffic from several users, then the priced and attributed metrics the app exposed.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { parseExposition, type PromSample } from './exposition';
import { startFakeProvider, type FakeReply } from './fake-provider';
import { freePort } from './free-port';

const USERS = ['ana', 'ben', 'chloe', 'dev', 'eli', 'fay'];
const FEATURES = ['chat', 'chat', 'summarise', 'agent'] as const;

function sumBy(samples: PromSample[], name: string, label: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const s of samples)
    if (s.name === name) out.set(s.labels[label]!, (out.get(s.labels[label]!) ?? 0) + s.value);
  return new Map([...out].sort((a, b) => b[1] - a[1]));
}

const usd = (n: number) => `$${n.toFixed(6)}`;

function table(title: string, rows: string[][]): void {
  console.log(`\n${title}`);
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  for (const r of rows)
    console.log(
      '  ' + r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('   '),
    );
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { requests: { type: 'string', default: '60' } } });
  const total = Math.max(1, Number(values.requests));

  // Realistic token usage: chat prompts reuse a cached system prompt half of the time.
  let n = 0;
  const fake = await startFakeProvider({
    latency: { firstByteMs: 20, perChunkMs: 2 },
    recordRequests: false,
    handler: (req): FakeReply | undefined => {
      n++;
      if (req.route === 'chat.completions') {
        return {
          usage: {
            prompt_tokens: 1400,
            completion_tokens: 120,
            prompt_tokens_details: { cached_tokens: n % 2 ? 1024 : 0 },
          },
          chunks: 8,
        };
      }
      if (req.route === 'messages') return { usage: { input_tokens: 1200, output_tokens: 150 } };
      if (req.route === 'responses') {
        const reasoning = (req.body as { model?: string }).model === 'o4-mini';
        return {
          usage: {
            input_tokens: 900,
            output_tokens: reasoning ? 700 : 200,
            output_tokens_details: { reasoning_tokens: reasoning ? 500 : 0 },
          },
        };
      }
      return undefined;
    },
  });
  const metricsPort = await freePort();
  const root = join(__dirname, '..', '..');
  const app = spawn(
    process.execPath,
    [
      '--require',
      join(root, 'dist/instrumentation/register.js'),
      join(__dirname, 'example-app.js'),
    ],
    {
      cwd: root,
      env: {
        ...process.env,
        FAKE_PROVIDER_URL: fake.url,
        OTEL_SERVICE_NAME: 'llm-finops-demo',
        OTEL_METRICS_EXPORTER: 'prometheus',
        OTEL_EXPORTER_PROMETHEUS_HOST: '127.0.0.1',
        OTEL_EXPORTER_PROMETHEUS_PORT: String(metricsPort),
        OTEL_TRACES_EXPORTER: 'none',
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const stop = async () => {
    app.kill('SIGTERM');
    await fake.close();
  };
  process.once('SIGINT', () => void stop().then(() => process.exit(130)));

  try {
    const appUrl = await new Promise<string>((resolve, reject) => {
      app.once('exit', (code) => reject(new Error(`example app exited (${code})`)));
      app.stdout.on('data', (d: Buffer) => {
        const m = /\{"url":"([^"]+)"\}/.exec(d.toString());
        if (m) resolve(m[1]!);
      });
    });
    console.log('llm-finops demo');
    console.log(`  fake OpenAI/Anthropic provider  ${fake.url}`);
    console.log(`  example app (--require)         ${appUrl}`);
    console.log(`  its metrics                     http://127.0.0.1:${metricsPort}/metrics`);
    process.stdout.write(`\nsending ${total} requests from ${USERS.length} users `);

    for (let i = 0; i < total; i++) {
      const user = USERS[i % USERS.length]!;
      const feature = FEATURES[(i * 7) % FEATURES.length]!;
      const res = await fetch(`${appUrl}/${feature}`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-llm-user': user,
          'x-llm-feature': feature,
          'x-llm-session': `${user}-s1`,
        },
        body: JSON.stringify({ text: `document ${i % 5}` }),
      });
      if (!res.ok) throw new Error(`${feature} answered ${res.status}: ${await res.text()}`);
      if (i % 5 === 0) process.stdout.write('.');
    }
    console.log(' done');

    const samples = parseExposition(
      await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text(),
    );
    const byFeature = sumBy(samples, 'llm_cost_usd_total', 'feature');
    const reqByFeature = sumBy(samples, 'llm_requests_total', 'feature');
    table('Spend by feature', [
      ['feature', 'LLM calls', 'cost'],
      ...[...byFeature].map(([f, c]) => [f, String(reqByFeature.get(f) ?? 0), usd(c)]),
    ]);
    const byUser = sumBy(samples, 'llm_user_cost_usd_total', 'user');
    table('Spend by user', [['user', 'cost'], ...[...byUser].map(([u, c]) => [u, usd(c)])]);
    const byModel = sumBy(samples, 'llm_cost_usd_total', 'model');
    const baseByModel = sumBy(samples, 'llm_baseline_cost_usd_total', 'model');
    table('Spend by model', [
      ['model', 'cost', 'at gpt-4 rates'],
      ...[...byModel].map(([m, c]) => [m, usd(c), usd(baseByModel.get(m) ?? 0)]),
    ]);

    const sum = (name: string) =>
      samples.filter((s) => s.name === name).reduce((a, s) => a + s.value, 0);
    const calls = sum('llm_requests_total');
    const cost = sum('llm_cost_usd_total');
    const baseline = sum('llm_baseline_cost_usd_total');
    const cacheSaved = sum('llm_cache_savings_usd_total');
    console.log(
      `\n${calls} LLM calls would have cost ${usd(baseline)} at gpt-4 rates, actually cost ${usd(cost)}: ` +
        `${((1 - cost / baseline) * 100).toFixed(1)}% saved; caching saved another ${usd(cacheSaved)}.`,
    );
  } finally {
    await stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
