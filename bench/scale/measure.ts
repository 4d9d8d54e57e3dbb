/**
 * The scale bench's apps and what is measured on them, for run.ts and the smoke test
 * (test/bench-scale.test.ts): start an app (app.ts) instrumented or not, make it call, scrape and
 * count its /metrics.
 */
import { join } from 'node:path';
import { freePort } from '../../demo/free-port';
import { cleanEnv, DIST, REGISTER } from '../children';
import { BenchChild, type ProcessStats } from '../sidecar/ipc';
import { countSeries, expectedCounts, type CallsCommand, type FamilyCount } from './series';

export const APP = join(DIST, 'bench', 'scale', 'app.js');
export { REGISTER };

export interface App {
  readonly child: BenchChild;
  /** The instrumented app's Prometheus endpoint. */
  readonly metricsUrl?: string;
}

/** Starts app.ts, instrumented as an app would be, or not at all. */
export async function startApp(providerUrl: string, instrumented: boolean): Promise<App> {
  const env = cleanEnv();
  let metricsUrl: string | undefined;
  if (instrumented) {
    const port = await freePort();
    Object.assign(env, {
      OTEL_SERVICE_NAME: 'llm-finops-bench-scale',
      OTEL_METRICS_EXPORTER: 'prometheus',
      OTEL_EXPORTER_PROMETHEUS_HOST: '127.0.0.1',
      OTEL_EXPORTER_PROMETHEUS_PORT: String(port),
      OTEL_TRACES_EXPORTER: 'none',
    });
    metricsUrl = `http://127.0.0.1:${port}/metrics`;
  }
  // BenchChild.start forks with this process's environment: swap it for the fork only.
  const saved = process.env;
  process.env = env;
  try {
    const child = BenchChild.start(
      APP,
      [providerUrl, instrumented ? 'on' : 'off'],
      instrumented ? ['--require', REGISTER] : [],
    );
    return { child, metricsUrl };
  } finally {
    process.env = saved;
  }
}

export function calls(app: App, command: CallsCommand): Promise<{ calls: number; wallMs: number }> {
  return app.child.send('calls', { ...command });
}

export async function scrape(url: string): Promise<{ text: string; bytes: number; ms: number }> {
  const started = performance.now();
  const res = await fetch(url);
  const text = await res.text();
  const ms = performance.now() - started;
  if (!res.ok) throw new Error(`GET ${url}: ${res.status}`);
  return { text, bytes: Buffer.byteLength(text), ms };
}

export interface SeriesConfig {
  readonly users: number;
  readonly features: number;
  readonly models: number;
}

export interface SeriesResult extends SeriesConfig {
  readonly counts: Record<string, FamilyCount>;
  readonly expected: Record<string, FamilyCount>;
  readonly total: number;
  readonly mismatches: string[];
}

/** One instrumented app: every user calls every feature, then /metrics is counted. */
export async function measureSeries(
  providerUrl: string,
  config: SeriesConfig,
  concurrency: number,
): Promise<SeriesResult> {
  const app = await startApp(providerUrl, true);
  try {
    await calls(app, { from: 0, to: config.users, ...config, perUser: 'every', concurrency });
    const { text } = await scrape(app.metricsUrl!);
    const counts = countSeries(text);
    const expected = expectedCounts(config.users, config.features, config.models);
    const mismatches: string[] = [];
    for (const family of new Set([...Object.keys(counts), ...Object.keys(expected)])) {
      if (family === 'target_info') continue; // one per process, the resource's attributes
      const got = counts[family] ?? { series: 0, labelSets: 0 };
      const want = expected[family] ?? { series: 0, labelSets: 0 };
      if (got.series !== want.series || got.labelSets !== want.labelSets)
        mismatches.push(
          `${family}: ${got.labelSets} label sets / ${got.series} series, expected ${want.labelSets} / ${want.series}`,
        );
    }
    const total = Object.values(counts).reduce((a, c) => a + c.series, 0);
    return { ...config, counts, expected, total, mismatches };
  } finally {
    await app.child.stop();
  }
}

/** Stats after two full GCs (the second frees what the first's finalizers released). */
export async function settledStats(app: App): Promise<ProcessStats> {
  await app.child.stats(true);
  return app.child.stats(true);
}
