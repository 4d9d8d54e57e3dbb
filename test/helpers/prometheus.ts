import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnPrometheus } from '../../demo/stack/prometheus';

/** A real Prometheus server started for one test, on a free port with its own data folder. */
export interface PrometheusServer {
  readonly url: string;
  readonly dataDir: string;
  /** Instant query at `time` (seconds since epoch, default now); the `result` array. */
  query(expr: string, time?: number): Promise<PromResult[]>;
  /** Range query from `start` to `end` (seconds since epoch) every `step` seconds; the `result` array. */
  queryRange(expr: string, start: number, end: number, step: number): Promise<PromRangeResult[]>;
  /** Stops the server (SIGTERM) and removes its folders. */
  stop(): Promise<void>;
  /** Stops the server and keeps its data folder, for a restart with `startPrometheus({ dataDir })`. */
  pause(): Promise<void>;
  log(): string;
}

export interface PromResult {
  metric: Record<string, string>;
  value: [number, string];
}

export interface PromRangeResult {
  metric: Record<string, string>;
  values: [number, string][];
}

export interface PrometheusOptions {
  /** `host:port` targets scraped at `scrapeInterval` under job `app`. */
  targets?: string[];
  /** Scrape interval, default `1s`. */
  scrapeInterval?: string;
  /** Extra YAML appended to prometheus.yml (e.g. rule_files, alerting). */
  extraConfig?: string;
  /** Reuse a data folder (from `backfill` or an earlier `pause`). */
  dataDir?: string;
  /** Extra command-line flags. */
  flags?: string[];
}

/** Starts `prometheus` and waits until it answers /-/ready. */
export async function startPrometheus(options: PrometheusOptions = {}): Promise<PrometheusServer> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'llmf-prom-data-'));
  const confDir = mkdtempSync(join(tmpdir(), 'llmf-prom-conf-'));
  const interval = options.scrapeInterval ?? '1s';
  const configFile = join(confDir, 'prometheus.yml');
  writeFileSync(
    configFile,
    [
      'global:',
      `  scrape_interval: ${interval}`,
      `  evaluation_interval: ${interval}`,
      'scrape_configs:',
      '  - job_name: app',
      `    static_configs: [{ targets: ${JSON.stringify(options.targets ?? [])} }]`,
      options.extraConfig ?? '',
    ].join('\n'),
  );
  const { url, log, stop } = await spawnPrometheus({
    bin: 'prometheus',
    configFile,
    dataDir,
    flags: [
      '--storage.tsdb.retention.time=3650d',
      '--web.enable-lifecycle',
      ...(options.flags ?? []),
    ],
  });
  let stopped = false;
  const halt = async (removeData: boolean) => {
    if (!stopped) {
      stopped = true;
      await stop();
    }
    rmSync(confDir, { recursive: true, force: true });
    if (removeData) rmSync(dataDir, { recursive: true, force: true });
  };
  return {
    url,
    dataDir,
    log,
    async query(expr, time) {
      const params = new URLSearchParams({ query: expr });
      if (time !== undefined) params.set('time', String(time));
      const res = await fetch(`${url}/api/v1/query?${params.toString()}`);
      const body = (await res.json()) as {
        status: string;
        error?: string;
        data?: { result: PromResult[] };
      };
      if (body.status !== 'success') throw new Error(`query ${expr}: ${body.error}`);
      return body.data?.result ?? [];
    },
    async queryRange(expr, start, end, step) {
      const params = new URLSearchParams({
        query: expr,
        start: String(start),
        end: String(end),
        step: String(step),
      });
      const res = await fetch(`${url}/api/v1/query_range?${params.toString()}`);
      const body = (await res.json()) as {
        status: string;
        error?: string;
        data?: { result: PromRangeResult[] };
      };
      if (body.status !== 'success') throw new Error(`query_range ${expr}: ${body.error}`);
      return body.data?.result ?? [];
    },
    stop: () => halt(true),
    pause: () => halt(false),
  };
}

/**
 * Writes OpenMetrics text (must end with `# EOF`) as TSDB blocks into a new data folder with
 * `promtool tsdb create-blocks-from openmetrics`; returns the folder for `startPrometheus`.
 */
export function backfill(openMetrics: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'llmf-prom-backfill-'));
  const input = join(dir, 'input.om');
  writeFileSync(input, openMetrics);
  const dataDir = backfillFile(input, { outputDir: join(dir, 'data') });
  rmSync(input);
  return dataDir;
}

export interface BackfillOptions {
  /** Output data folder, default a new temporary folder. */
  outputDir?: string;
  /**
   * promtool's --max-block-duration (e.g. `1458h`). promtool reads the whole input once per
   * block, so long histories backfill much faster in long blocks; default promtool's 2h.
   */
  maxBlockDuration?: string;
}

/** `promtool tsdb create-blocks-from openmetrics` of an OpenMetrics file; returns the data folder. */
export function backfillFile(inputFile: string, options: BackfillOptions = {}): string {
  const dataDir =
    options.outputDir ?? join(mkdtempSync(join(tmpdir(), 'llmf-prom-backfill-')), 'data');
  const flags = options.maxBlockDuration
    ? [`--max-block-duration=${options.maxBlockDuration}`]
    : [];
  const run = spawnSync(
    'promtool',
    ['tsdb', 'create-blocks-from', 'openmetrics', ...flags, inputFile, dataDir],
    { encoding: 'utf8', maxBuffer: 64 << 20 },
  );
  if (run.status !== 0) throw new Error(`promtool failed: ${run.stderr}${run.stdout}`);
  return dataDir;
}
