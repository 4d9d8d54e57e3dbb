import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '../free-port';
import { stopProcess, waitReady } from '../service-process';

export interface DemoPrometheusOptions {
  bin: string;
  /** Folder for prometheus.yml (the caller's). */
  dir: string;
  /** TSDB folder: kept after the run with --keep-data. */
  dataDir: string;
  /** Scrape and rule evaluation interval, e.g. `1s`. */
  interval: string;
  /** host:port of the app's /metrics (job llm-app, as LlmTelemetryAbsent expects). */
  app: string;
  /** host:port of the budget sidecar's /metrics. */
  sidecar: string;
  /** host:port of Alertmanager. */
  alertmanager: string;
  /** Glob of the rule files. */
  rules: string;
}

/** A Prometheus child process. */
export interface PrometheusProcess {
  readonly url: string;
  readonly proc: ChildProcess;
  log: () => string;
  stop: () => Promise<void>;
}

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

/** Starts Prometheus on a free port and waits until it answers /-/ready. */
export async function startPrometheus(options: DemoPrometheusOptions): Promise<PrometheusProcess> {
  const port = await freePort();
  const configFile = join(options.dir, 'prometheus.yml');
  writeFileSync(configFile, prometheusConfig(options));
  const url = `http://127.0.0.1:${port}`;
  const proc = spawn(
    options.bin,
    [
      `--config.file=${configFile}`,
      `--storage.tsdb.path=${options.dataDir}`,
      `--web.listen-address=127.0.0.1:${port}`,
    ],
    // Its own process group: a Ctrl-C in the terminal reaches the demo, which stops it in order.
    { stdio: ['ignore', 'ignore', 'pipe'], detached: true },
  );
  let log = '';
  proc.stderr?.on('data', (d: Buffer) => {
    log += d.toString();
    if (log.length > 200_000) log = log.slice(-100_000);
  });
  const server = { url, proc, log: () => log, stop: () => stopProcess(proc) };
  try {
    await waitReady('prometheus', url, proc, () => log);
  } catch (e) {
    await server.stop();
    throw e;
  }
  return server;
}

export interface PromSeries {
  metric: Record<string, string>;
  value: [number, string];
}

/** Instant query at `time` (seconds since the epoch): the result vector. */
export async function promQuery(url: string, expr: string, time: number): Promise<PromSeries[]> {
  const params = new URLSearchParams({ query: expr, time: String(time) });
  const res = await fetch(`${url}/api/v1/query?${params.toString()}`);
  const body = (await res.json()) as {
    status: string;
    error?: string;
    data?: { resultType: string; result: PromSeries[] };
  };
  if (body.status !== 'success') throw new Error(`query ${expr}: ${body.error}`);
  return body.data?.result ?? [];
}
