import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PrometheusApi } from '../../src/prometheus/api';
import { freePort } from '../free-port';
import { startService, type ServiceProcess } from '../service-process';

export interface DemoPrometheusOptions {
  bin: string;
  /** Folder for prometheus.yml (the caller's). */
  dir: string;
  /** TSDB folder: kept after the run with --keep-data. */
  dataDir: string;
  /** Scrape and rule evaluation interval, e.g. `1s`. */
  interval: string;
  /** host:port of the app's /metrics (job llm-app). */
  app: string;
  /** host:port of the budget sidecar's /metrics. */
  sidecar: string;
  /** host:port of Alertmanager. */
  alertmanager: string;
  /** Glob of the rule files. */
  rules: string;
}

/** A Prometheus child process. */
export type PrometheusProcess = ServiceProcess;

/** The demo's prometheus.yml: the shipped file's jobs, at the demo's ports and a short interval. */
export function prometheusConfig(
  o: Omit<DemoPrometheusOptions, 'bin' | 'dir' | 'dataDir'>,
): string {
  return [
    'global:',
    `  scrape_interval: ${o.interval}`,
    `  evaluation_interval: ${o.interval}`,
    '  external_labels: { environment: demo }',
    'rule_files:',
    `  - ${JSON.stringify(o.rules)}`,
    'alerting:',
    '  alertmanagers:',
    `    - static_configs: [{ targets: [${JSON.stringify(o.alertmanager)}] }]`,
    'scrape_configs:',
    '  - job_name: llm-app',
    `    static_configs: [{ targets: [${JSON.stringify(o.app)}] }]`,
    '  - job_name: llm-budget-sidecar',
    `    static_configs: [{ targets: [${JSON.stringify(o.sidecar)}] }]`,
    '',
  ].join('\n');
}

/** Starts Prometheus on a free port with the demo's prometheus.yml and waits until it is ready. */
export async function startPrometheus(options: DemoPrometheusOptions): Promise<PrometheusProcess> {
  const configFile = join(options.dir, 'prometheus.yml');
  writeFileSync(configFile, prometheusConfig(options));
  // Its own process group: a Ctrl-C in the terminal reaches the demo, which stops it in order.
  return spawnPrometheus({
    bin: options.bin,
    configFile,
    dataDir: options.dataDir,
    detached: true,
  });
}

/**
 * Starts a Prometheus binary on a free port of 127.0.0.1 with a config file and a data folder,
 * and waits until it answers /-/ready (the demo and the tests start theirs with it).
 */
export async function spawnPrometheus(options: {
  bin: string;
  configFile: string;
  dataDir: string;
  flags?: readonly string[];
  detached?: boolean;
}): Promise<PrometheusProcess> {
  const port = await freePort();
  return startService(
    'prometheus',
    options.bin,
    [
      `--config.file=${options.configFile}`,
      `--storage.tsdb.path=${options.dataDir}`,
      `--web.listen-address=127.0.0.1:${port}`,
      ...(options.flags ?? []),
    ],
    `http://127.0.0.1:${port}`,
    { detached: options.detached },
  );
}

export interface PromSeries {
  metric: Readonly<Record<string, string>>;
  value: number;
}

/** Instant query at `time` (seconds since the epoch), with llm-finops' Prometheus client. */
export async function promQuery(url: string, expr: string, time: number): Promise<PromSeries[]> {
  const api = new PrometheusApi({ url, timeoutMs: 30_000, headers: {} });
  return (await api.instantSeries(expr, time * 1000)).map((s) => ({
    metric: s.labels,
    value: s.points[0]?.[1] ?? NaN,
  }));
}
