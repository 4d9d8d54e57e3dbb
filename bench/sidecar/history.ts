/**
 * The spend the bench feeds Prometheus: per-user counters (`llm_user_cost_usd_total`) and
 * per-feature counters (`llm_cost_usd_total`) of N users, as an app exposes them, written as
 * OpenMetrics text for `promtool tsdb create-blocks-from openmetrics`; and the budget config and
 * request paths that go with them.
 *
 * The history runs from `pastMs` before now to `futureMs` after it: samples in the future are
 * invisible until their time comes, so the counters look live while the bench runs and no series
 * ends (a Prometheus scraping 100k series would cost CPU on the same two cores). Users are
 * deterministic: the same options give the same file.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { seededRandom } from '../../demo/traffic/random';
import { METRICS } from '../../src/contract/metrics';

export interface Population {
  /** Label value (`population="100k"`) that the population's config selects. */
  readonly name: string;
  readonly users: number;
}

export interface HistoryOptions {
  readonly populations: readonly Population[];
  /** Scrape interval of the samples. */
  readonly stepMs: number;
  readonly pastMs: number;
  readonly futureMs: number;
  /** A multiple of `stepMs`. */
  readonly now: number;
}

/** Users with a cap override: the first ones of every population. */
export const OVERRIDES = 100;
const FEATURES = ['chat', 'search', 'agent'] as const;
const INSTANCES = ['app-1', 'app-2'] as const;
/** Share of users who spend fast enough to exceed their caps. */
const HEAVY_SHARE = 0.05;
/** How long the restarting instance is down: no samples, then its counters start from zero. */
const RESTART_DOWN_MS = 120_000;

export const userId = (n: number): string => `u${String(n).padStart(6, '0')}`;

interface User {
  readonly instance: 0 | 1;
  readonly feature: 0 | 1 | 2;
  /** First request (may be before the history starts: the counter then already holds spend). */
  readonly start: number;
  /** USD per minute. */
  readonly rate: number;
}

function userOf(n: number, opts: HistoryOptions): User {
  const r = seededRandom(n * 2654435761 + 17);
  const heavy = r() < HEAVY_SHARE;
  return {
    instance: r() < 0.5 ? 0 : 1,
    feature: Math.floor(r() * FEATURES.length) as 0 | 1 | 2,
    start: opts.now - 2 * opts.pastMs * r(),
    rate: heavy ? 0.05 + 0.1 * r() : 0.0002 + 0.004 * r(),
  };
}

/** Writes the history of every population to `file`; returns the number of samples. */
export function writeHistory(file: string, opts: HistoryOptions): number {
  const { stepMs, now } = opts;
  const first = now - opts.pastMs;
  const last = now + opts.futureMs;
  const steps = (last - first) / stepMs + 1;
  // Instance app-1 restarts (a deploy) half-way through the past: its counters reset.
  const restart = Math.floor((now - opts.pastMs / 2) / stepMs) * stepMs;
  const fd = openSync(file, 'w');
  let lines: string[] = [];
  let samples = 0;
  const flush = (force = false) => {
    if (!force && lines.length < 50_000) return;
    writeSync(fd, lines.join('\n') + '\n');
    lines = [];
  };
  const userMetric = METRICS.userCost.promName;
  const costMetric = METRICS.cost.promName;
  // Per population, instance and feature: the feature counter's value at each step.
  const featureTotals = new Map<string, Float64Array>();

  lines.push(`# TYPE ${userMetric.replace(/_total$/, '')} counter`);
  for (const population of opts.populations) {
    for (let n = 0; n < population.users; n++) {
      const user = userOf(n, opts);
      const instance = INSTANCES[user.instance];
      const feature = FEATURES[user.feature];
      const key = `${population.name}\u0000${instance}\u0000${feature}`;
      let totals = featureTotals.get(key);
      if (!totals) featureTotals.set(key, (totals = new Float64Array(steps)));
      const series = `${userMetric}{job="app",instance="${instance}",population="${population.name}",user="${userId(n)}",feature="${feature}"}`;
      const from = Math.max(first, Math.ceil(user.start / stepMs) * stepMs);
      for (let t = from; t <= last; t += stepMs) {
        const restarted = user.instance === 0 && t >= restart;
        if (restarted && t < restart + RESTART_DOWN_MS) continue;
        // A first request of 1 cent, then a steady rate; a restarted process counts from zero.
        const since = restarted && user.start < restart ? restart + RESTART_DOWN_MS : user.start;
        const value = Math.round(((t - since) / 60_000) * user.rate * 1e6) / 1e6 + 0.01;
        lines.push(`${series} ${value} ${t / 1000}`);
        totals[(t - first) / stepMs] = (totals[(t - first) / stepMs] ?? 0) + value;
        samples++;
        flush();
      }
    }
  }
  lines.push(`# TYPE ${costMetric.replace(/_total$/, '')} counter`);
  for (const [key, totals] of featureTotals) {
    const [population, instance, feature] = key.split('\u0000');
    // Two models share a feature's spend, as the per-feature counters carry model labels.
    for (const [model, share] of [
      ['gpt-4o', 0.7],
      ['gpt-4o-mini', 0.3],
    ] as const) {
      const series = `${costMetric}{job="app",instance="${instance}",population="${population}",feature="${feature}",provider="openai",model="${model}",tier="standard"}`;
      for (let i = 0; i < steps; i++) {
        const value = totals[i] ?? 0;
        if (value === 0) continue;
        lines.push(
          `${series} ${Math.round(value * share * 1e6) / 1e6} ${(first + i * stepMs) / 1000}`,
        );
        samples++;
        flush();
      }
    }
  }
  lines.push('# EOF');
  flush(true);
  closeSync(fd);
  return samples;
}

/**
 * Windows of the caps: calendar ones (day, month: the first refresh reads the month's history), or
 * rolling ones of the same number (1h, 2h: it reads 2 hours), for populations whose month-long
 * history read is beyond the bench's Prometheus.
 */
export type WindowKind = 'calendar' | 'rolling';

/**
 * The bench's budget config: a default user cap, a plan, 100 overrides, feature and global caps:
 * two user caps, a feature cap and the global cap decide each request, whatever the windows.
 * The bench drives the refreshes itself (every 15 s while it measures them, one at a chosen
 * moment while it measures decisions), so the loop's own interval is an hour; and the timeout is
 * long enough to see how long 1M users' queries take rather than fail at the default 2 min.
 */
export function budgetConfig(
  prometheusUrl: string,
  population: Population,
  windows: WindowKind = 'calendar',
): string {
  const [short, long, feature] =
    windows === 'calendar' ? ['day', 'month', '4h'] : ['1h', '2h', '1h'];
  const overrides = Array.from(
    { length: OVERRIDES },
    (_, n) => `      ${userId(n)}: [{ window: ${long}, limit_usd: 500 }]`,
  );
  return [
    'prometheus:',
    `  url: ${prometheusUrl}`,
    '  refresh: 1h',
    '  stale_after: 2h',
    '  timeout: 15m',
    `  selector: 'population="${population.name}"'`,
    'upgrade:',
    '  url: https://example.com/upgrade',
    'budgets:',
    '  global:',
    `    - { window: ${long}, limit_usd: 1000000 }`,
    '  features:',
    `    chat: [{ window: ${short}, limit_usd: 100000 }]`,
    `    agent: [{ window: ${feature}, limit_usd: 50000 }]`,
    '  users:',
    '    default:',
    `      - { window: ${short}, limit_usd: 5 }`,
    `      - { window: ${long}, limit_usd: 20 }`,
    '    plans:',
    `      pro: [{ window: ${long}, limit_usd: 100 }]`,
    '    overrides:',
    ...overrides,
    '',
  ].join('\n');
}

/**
 * `count` decision requests over a population's users, drawn at random: every user as likely
 * (so the spend maps are read all over), except that 1 % go to the users with overrides whatever
 * the population's size (their caps differ: the mix stays the same); a feature on each, the `pro`
 * plan on some.
 */
export function checkPaths(population: Population, count: number): string[] {
  const r = seededRandom(population.users);
  const others = population.users - OVERRIDES;
  return Array.from({ length: count }, () => {
    const n = r() < 0.01 ? Math.floor(r() * OVERRIDES) : OVERRIDES + Math.floor(r() * others);
    const feature = FEATURES[Math.floor(r() * FEATURES.length)] ?? 'chat';
    const plan = r() < 0.1 ? '&plan=pro' : '';
    return `/v1/check?user=${userId(n)}&feature=${feature}${plan}`;
  });
}
