/**
 * `npm run demo`: the whole llm-finops stack on this machine, without Docker. A fake
 * OpenAI/Anthropic provider, the demo app under `--require llm-finops/register`, the budget
 * sidecar, Prometheus with the shipped rules and Alertmanager with the shipped routes; then
 * simulated users for `--duration`, the 402s as they happen, and at the end the ROI statement,
 * spend by feature, model and user, and the alerts that fired, all read from Prometheus.
 *
 *   node dist/demo/run.js [--duration 2m] [--users 40] [--rate 6] [--keep-data DIR] [--json]
 */
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_BASELINE_MODEL } from '../src/pricing/price-book';
import { parseDuration } from '../src/sidecar/config/schema';
import { packageRoot } from '../src/package-info';
import { freePort } from './free-port';
import { startAlertReceiver } from './stack/alert-receiver';
import { alertmanagerConfig, startAlertmanager } from './stack/alertmanager';
import { alertLines, allDelivered, deliveredAlerts, firedAlerts } from './stack/alerts';
import { requireBinaries } from './stack/binaries';
import { spendBreakdown } from './stack/breakdown';
import { writeBudgets } from './stack/budgets-file';
import { startNodeService } from './stack/node-service';
import { promQuery, startPrometheus } from './stack/prometheus';
import { cacheStatement, roiAt, roiStatement } from './stack/roi';
import { writeRules } from './stack/rules';
import { Services } from './stack/services';
import { runTraffic } from './traffic/simulation';
import { parseExposition, sumOf } from './exposition';

/** Scrape and rule evaluation interval of the demo's Prometheus. */
const INTERVAL = '1s';
/** The shipped rules' `for:` in the demo: long enough to skip the seconds before the first LLM call. */
const ALERT_FOR = '15s';

const USAGE =
  'Usage: npm run demo -- [--duration 2m] [--users 40] [--rate 6] [--keep-data DIR] [--json]\n' +
  '  --duration   how long the simulated users send requests (60s, 5m, ...)\n' +
  '  --users      simulated users besides the runaway one\n' +
  '  --rate       their requests per second, on average\n' +
  "  --keep-data  keep Prometheus's data in DIR after the run\n" +
  '  --json       end with one JSON line of the ROI figures\n';

interface Options {
  durationMs: number;
  users: number;
  rate: number;
  keepData?: string;
  json: boolean;
}

function options(): Options {
  const { values } = parseArgs({
    options: {
      duration: { type: 'string', default: '2m' },
      users: { type: 'string', default: '40' },
      rate: { type: 'string', default: '6' },
      'keep-data': { type: 'string' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    process.exit(0);
  }
  const durationMs = parseDuration(values.duration);
  const users = Number(values.users);
  const rate = Number(values.rate);
  if (!durationMs || !(users >= 1) || !(rate > 0)) {
    process.stderr.write(USAGE);
    process.exit(2);
  }
  return {
    durationMs,
    users,
    rate,
    keepData: values['keep-data'] && resolve(values['keep-data']),
    json: values.json,
  };
}

const out = (line: string) => console.log(line);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function main(): Promise<number> {
  const opts = options();
  const stop = new AbortController();
  const services = new Services();
  const interrupted = (signal: NodeJS.Signals) => {
    if (!stop.signal.aborted) out(`\n${signal}: stopping everything the demo started...`);
    stop.abort(signal);
  };
  process.on('SIGINT', interrupted);
  process.on('SIGTERM', interrupted);
  const checkpoint = () => {
    if (stop.signal.aborted) throw stop.signal.reason;
  };

  try {
    const bin = requireBinaries(out);
    const root = packageRoot();
    const dir = mkdtempSync(join(tmpdir(), 'llm-finops-demo-'));
    services.removeOnStop(dir);
    const dataDir = opts.keepData ?? join(dir, 'prometheus-data');
    for (const d of ['alertmanager', 'prometheus', 'sidecar']) mkdirSync(join(dir, d));
    if (opts.keepData) mkdirSync(opts.keepData, { recursive: true });

    const receiver = await startAlertReceiver();
    services.add({
      name: 'alert webhook receiver',
      url: `${receiver.url}/alerts`,
      stop: receiver.close,
    });
    checkpoint();

    const fake = await startNodeService({
      name: 'fake provider',
      args: [
        join(root, 'dist/demo/fake-provider/main.js'),
        // Realistic latency; the output is max_tokens of each request (up to 600 tokens).
        ...['--first-byte-ms', '200', '--per-chunk-ms', '15', '--chunks', '12'],
        ...['--output-tokens', '600'],
      ],
      env: {},
      urlPattern: /"url":"([^"]+)"/,
    });
    services.add({
      name: 'fake OpenAI/Anthropic provider',
      url: fake.url,
      pid: fake.proc.pid,
      stop: fake.stop,
    });
    checkpoint();

    const am = await startAlertmanager({
      bin: bin.alertmanager,
      config: alertmanagerConfig(`${receiver.url}/alerts`),
      dir: join(dir, 'alertmanager'),
    });
    services.add({ name: 'Alertmanager', url: am.url, pid: am.proc.pid, stop: am.stop });
    checkpoint();

    // The app starts before Prometheus, so its first scrape finds it up (LlmTelemetryAbsent),
    // with the sidecar's port chosen now; the sidecar is up before any traffic.
    const sidecarPort = await freePort();
    const appMetricsPort = await freePort();
    const app = await startNodeService({
      name: 'demo app',
      args: [
        '--require',
        join(root, 'dist/instrumentation/register.js'),
        join(root, 'dist/demo/app/main.js'),
      ],
      env: {
        PORT: '0',
        HOST: '127.0.0.1',
        FAKE_PROVIDER_URL: fake.url,
        LLM_FINOPS_SIDECAR_URL: `http://127.0.0.1:${sidecarPort}`,
        OTEL_SERVICE_NAME: 'llm-finops-demo',
        OTEL_METRICS_EXPORTER: 'prometheus',
        OTEL_EXPORTER_PROMETHEUS_HOST: '127.0.0.1',
        OTEL_EXPORTER_PROMETHEUS_PORT: String(appMetricsPort),
        OTEL_TRACES_EXPORTER: 'none',
      },
      urlPattern: /"url":"([^"]+)"/,
    });
    services.add({
      name: 'demo app (--require llm-finops/register)',
      url: app.url,
      pid: app.proc.pid,
      stop: app.stop,
    });
    const appMetrics = `http://127.0.0.1:${appMetricsPort}/metrics`;
    checkpoint();

    const rulesDir = join(dir, 'prometheus', 'rules');
    mkdirSync(rulesDir);
    writeRules(rulesDir, ALERT_FOR);
    const prom = await startPrometheus({
      bin: bin.prometheus,
      dir: join(dir, 'prometheus'),
      dataDir,
      interval: INTERVAL,
      app: `127.0.0.1:${appMetricsPort}`,
      sidecar: `127.0.0.1:${sidecarPort}`,
      alertmanager: new URL(am.url).host,
      rules: join(rulesDir, '*.yaml'),
    });
    services.add({ name: 'Prometheus', url: prom.url, pid: prom.proc.pid, stop: prom.stop });
    checkpoint();

    const sidecar = await startNodeService({
      name: 'budget sidecar',
      args: [
        join(root, 'dist/src/cli/main.js'),
        ...['sidecar', '--config', writeBudgets(join(dir, 'sidecar'), prom.url)],
        ...['--host', '127.0.0.1', '--port', String(sidecarPort)],
      ],
      env: {},
      urlPattern: /listening on (\S+)/,
    });
    services.add({
      name: 'budget sidecar',
      url: sidecar.url,
      pid: sidecar.proc.pid,
      stop: sidecar.stop,
    });
    while (
      (await fetch(`${sidecar.url}/readyz`).then(
        (r) => r.status,
        () => 0,
      )) !== 200
    ) {
      checkpoint();
      if (sidecar.proc.exitCode !== null)
        throw new Error(`budget sidecar exited:\n${sidecar.log()}`);
      await sleep(200);
    }

    out('llm-finops demo: every part runs on this machine');
    for (const part of services.list())
      out(`  ${part.name.padEnd(42)} ${part.url}${part.pid ? `  (pid ${part.pid})` : ''}`);
    out(`  ${'app metrics (scraped every 1 s)'.padEnd(42)} ${appMetrics}`);
    out(`  ${'temporary files'.padEnd(42)} ${dir}`);
    if (opts.keepData) out(`  ${'Prometheus data (kept)'.padEnd(42)} ${opts.keepData}`);
    out(
      `\nTraffic: ${opts.users} users (heavy-tailed) at ~${opts.rate} requests/s and one runaway ` +
        `user looping agent tasks, for ${Math.round(opts.durationMs / 1000)} s. Ctrl-C stops everything.`,
    );

    const started = Date.now();
    const traffic = await runTraffic({
      target: app.url,
      durationMs: opts.durationMs,
      users: opts.users,
      rate: opts.rate,
      signal: stop.signal,
      out,
    });
    checkpoint();

    // Every call's cost in Prometheus: the app's counters as scraped equal those it exposes now.
    out('\nTraffic done; waiting for the last scrape and the alerts to be delivered...');
    const exposed = sumOf(
      parseExposition(await (await fetch(appMetrics)).text()),
      'llm_requests_total',
    );
    for (;;) {
      checkpoint();
      const scraped = await promQuery(prom.url, 'sum(llm_requests_total)', Date.now() / 1000);
      if (Number(scraped[0]?.value[1] ?? -1) === exposed) break;
      await sleep(250);
    }
    // Seconds, to the millisecond: the test repeats the queries at this time on the kept data.
    const evaluationTime = Math.floor(Date.now()) / 1000;
    const runSeconds = (Date.now() - started) / 1000 + 10;
    const fired = await firedAlerts(prom.url, evaluationTime, runSeconds);
    for (let waited = 0; waited < 20_000; waited += 250) {
      checkpoint();
      if (allDelivered(fired, deliveredAlerts(receiver.alerts))) break;
      await sleep(250);
    }

    const roi = await roiAt(
      prom.url,
      evaluationTime,
      process.env.LLM_FINOPS_BASELINE_MODEL || DEFAULT_BASELINE_MODEL,
    );
    const denied = Object.entries(traffic.denied).sort((a, b) => b[1] - a[1]);
    out(`\n${roiStatement(roi)}`);
    out(cacheStatement(roi));
    for (const line of await spendBreakdown(prom.url, evaluationTime)) out(line);
    out(
      `\nBudget 402s: ${denied.reduce((a, [, n]) => a + n, 0)} (` +
        (denied.map(([u, n]) => `${u} ${n}`).join(', ') || 'none') +
        `); LLM calls refused before reaching the provider: ${roi.deniedCalls}`,
    );
    out(
      `Requests: ${traffic.requests} sent, ${traffic.ok} ok, ${traffic.failedTasks} agent tasks ` +
        `failed, ${traffic.errors} errors`,
    );
    for (const line of alertLines(fired, deliveredAlerts(receiver.alerts))) out(line);
    out(
      `\nFigures read from Prometheus at ${new Date(evaluationTime * 1000).toISOString()} (evaluation time ${evaluationTime}).`,
    );
    if (opts.json) out(JSON.stringify({ roi, denied: traffic.denied, alertsFired: fired }));
    return 0;
  } catch (err) {
    // 128 + the signal's number, as shells report a process ended by it.
    if (stop.signal.aborted) return stop.signal.reason === 'SIGTERM' ? 143 : 130;
    throw err;
  } finally {
    await services.stopAll();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`demo failed: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
