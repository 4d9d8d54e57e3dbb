import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageRoot } from '../../src/package-info';
import { freePort } from '../free-port';
import { startAlertReceiver, type AlertReceiver } from './alert-receiver';
import { alertmanagerConfig, startAlertmanager } from './alertmanager';
import type { Binaries } from './binaries';
import { writeBudgets } from './budgets-file';
import { startNodeService } from './node-service';
import { startPrometheus } from './prometheus';
import { writeRules } from './rules';
import type { Services } from './services';

/** Scrape and rule evaluation interval of the demo's Prometheus. */
const INTERVAL = '1s';
/**
 * `for:` of every shipped alert in the demo: short enough for a one-minute run, long enough to
 * skip the seconds before the first LLM call is scraped (LlmTelemetryAbsent).
 */
const ALERT_FOR = '15s';

/** Where the running stack's parts are, for the traffic and the summary. */
export interface Stack {
  dir: string;
  appUrl: string;
  appMetricsUrl: string;
  prometheusUrl: string;
  receiver: AlertReceiver;
}

/**
 * Starts every part of the demo, each added to `services` as soon as it runs (so that Ctrl-C
 * during the start stops what is up): the alert receiver, the fake provider, Alertmanager, the
 * app, Prometheus, the sidecar; returns once the sidecar is ready. `checkpoint` throws when the
 * demo is interrupted.
 */
export async function startStack(options: {
  bin: Binaries;
  services: Services;
  keepData?: string;
  checkpoint: () => void;
}): Promise<Stack> {
  const { bin, services, checkpoint } = options;
  const root = packageRoot();
  const dir = mkdtempSync(join(tmpdir(), 'llm-finops-demo-'));
  services.removeOnStop(dir);
  for (const d of ['alertmanager', 'prometheus/rules', 'sidecar'])
    mkdirSync(join(dir, d), { recursive: true });
  if (options.keepData) mkdirSync(options.keepData, { recursive: true });

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
      // Provider-like latency; each answer's output is the request's max tokens (up to 600).
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

  // The app starts before Prometheus, so that the first scrape finds it up, with the sidecar's
  // port chosen now; the sidecar is ready before any traffic.
  const sidecarPort = await freePort();
  const appMetricsPort = await freePort();
  const app = await startNodeService({
    name: 'demo app',
    args: [
      ...['--require', join(root, 'dist/instrumentation/register.js')],
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
  checkpoint();

  const rulesDir = join(dir, 'prometheus', 'rules');
  writeRules(rulesDir, ALERT_FOR);
  const prom = await startPrometheus({
    bin: bin.prometheus,
    dir: join(dir, 'prometheus'),
    dataDir: options.keepData ?? join(dir, 'prometheus', 'data'),
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
  // Ready once its first spend refresh from Prometheus succeeded.
  for (;;) {
    checkpoint();
    const status = await fetch(`${sidecar.url}/readyz`).then(
      (r) => r.status,
      () => 0,
    );
    if (status === 200) break;
    if (sidecar.proc.exitCode !== null) throw new Error(`budget sidecar exited:\n${sidecar.log()}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    dir,
    appUrl: app.url,
    appMetricsUrl: `http://127.0.0.1:${appMetricsPort}/metrics`,
    prometheusUrl: prom.url,
    receiver,
  };
}
