/**
 * Series and memory at scale: how many Prometheus series an instrumented process creates per
 * 1,000 active users and per model, and how much memory 100,000 users cost it.
 *
 *   npm run bench:scale [-- options]
 *
 * The fake provider runs in its own process and answers at once; each app (app.ts) is its own
 * process, instrumented as an app would be (`--require dist/instrumentation/register.js`,
 * `OTEL_METRICS_EXPORTER=prometheus` on a free port, no span exporter) or not at all.
 *
 * 1. Series: one instrumented app per (users, features, models) configuration; every user calls
 *    every feature; /metrics is scraped and counted per family, against the formula of
 *    DESIGN.md (series.ts). Series per 1,000 users and per added model are differences between
 *    configurations.
 * 2. Memory: an instrumented and an uninstrumented app, side by side, warm up, then 100,000
 *    distinct users make one call each. RSS and heap after a forced GC, before and after; the
 *    extra is the instrumented growth minus the uninstrumented growth. Then /metrics is scraped
 *    a few times: size and time, as a Prometheus scraping every 15 s would see them.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { METRICS, type MetricKey } from '../../src/contract/metrics';
import { FAKE_PROVIDER, startFakeProvider } from '../children';
import type { ProcessStats } from '../sidecar/ipc';
import {
  APP,
  REGISTER,
  calls,
  measureSeries,
  scrape,
  settledStats,
  startApp,
  type SeriesConfig,
  type SeriesResult,
  type App,
} from './measure';
import { countSeries, expectedLabelSets, seriesPerLabelSet, type CallsCommand } from './series';

const MEMORY_TARGET_MB = 100;
const MB = 1024 * 1024;

const HELP = `Usage: node dist/bench/scale/run.js [options]

  --series-users N   users of the series configurations (default 1000; also 2 N)
  --features F       features (default 3)
  --users N          users of the memory run, one call each (default 100000)
  --concurrency N    calls in flight per app (default 16)
  --scrapes N        /metrics scrapes timed after the memory run (default 3)
  --skip-series      memory run only
  --skip-memory      series only
  --heap-snapshot F  write a heap snapshot of the instrumented app after the memory run to F
  --json FILE        also write every figure as JSON
`;

/** How a family's series grow, as DESIGN.md's formula (U users, F features, M models). */
function formula(key: MetricKey): string {
  const growth: Partial<Record<MetricKey, string>> = {
    userCost: 'U × F',
    userRequests: 'U × F',
    requests: 'M × F',
    cost: 'M × F',
    baselineCost: 'M × F',
    tokens: 'M × F × 2 types',
    requestCost: 'M × F',
    tokenUsage: 'M × 2 types',
    operationDuration: 'M',
  };
  const sets = growth[key] ?? '0';
  const per = seriesPerLabelSet(key);
  return per === 1 ? sets : `(${sets}) × ${per}`;
}

function table(head: string[], rows: (string | number)[][]): string {
  const cells = [head, ...rows.map((r) => r.map(String))];
  const widths = head.map((_, i) => Math.max(...cells.map((r) => r[i]!.length)));
  const line = (r: string[]) =>
    `| ${r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ')} |`;
  return [
    line(cells[0]!),
    `| ${widths.map((w, i) => (i === 0 ? '-'.repeat(w) : `${'-'.repeat(w - 1)}:`)).join(' | ')} |`,
    ...cells.slice(1).map(line),
  ].join('\n');
}

function seriesReport(results: SeriesResult[]): string {
  const keys = Object.keys(METRICS) as MetricKey[];
  const touched = keys.filter((k) => expectedLabelSets(1, 1, 1)[k] !== undefined);
  const head = [
    'family',
    'series (formula)',
    ...results.map((r) => `U=${r.users} F=${r.features} M=${r.models}`),
  ];
  const rows = touched.map((k) => [
    METRICS[k].promName,
    formula(k),
    ...results.map((r) => r.counts[METRICS[k].promName]?.series ?? 0),
  ]);
  rows.push(['other (target_info)', '1', ...results.map((r) => r.counts.target_info?.series ?? 0)]);
  rows.push(['total', '', ...results.map((r) => r.total)]);
  const lines = [table(head, rows), ''];
  for (const r of results)
    lines.push(
      r.mismatches.length === 0
        ? `U=${r.users} F=${r.features} M=${r.models}: every family matches the formula exactly.`
        : `U=${r.users} F=${r.features} M=${r.models}: MISMATCH ${r.mismatches.join('; ')}`,
    );
  return lines.join('\n');
}

interface MemorySide {
  readonly before: ProcessStats;
  /** Right after the calls (forced GC): V8 still holds the heap it grew to during them. */
  readonly after: ProcessStats;
  /** Once V8's memory reducer has given back what the calls' garbage needed (RSS steady). */
  readonly settled: ProcessStats;
  readonly wallMs: number;
}

/** Stats of both apps every 5 s until neither RSS moves by 1 MB any more (at most a minute). */
async function settle(apps: readonly App[]): Promise<ProcessStats[]> {
  let last = await Promise.all(apps.map(settledStats));
  for (let i = 0; i < 12; i++) {
    await new Promise((resolve) => setTimeout(resolve, 5000));
    const now = await Promise.all(apps.map(settledStats));
    const steady = now.every((s, j) => Math.abs(s.rss - last[j]!.rss) < MB);
    last = now;
    if (steady) break;
  }
  return last;
}

async function memoryRun(
  providerUrl: string,
  users: number,
  features: number,
  concurrency: number,
  scrapes: number,
  heapSnapshot: string | undefined,
): Promise<{
  off: MemorySide;
  on: MemorySide;
  scrapes: { bytes: number; ms: number }[];
  userSeries: number;
  overflow: number;
  afterScrape: ProcessStats;
}> {
  const [off, on] = await Promise.all([startApp(providerUrl, false), startApp(providerUrl, true)]);
  try {
    const models = 3;
    // Warm-up: the same 20 users again and again, so code is loaded and optimised, connections
    // open, and the few series they create are there before the first measurement.
    const warm: CallsCommand = {
      from: 0,
      to: 20,
      features,
      models,
      perUser: 'every',
      concurrency,
      prefix: 'warm',
    };
    for (let i = 0; i < 25; i++) await Promise.all([calls(off, warm), calls(on, warm)]);
    const [offBefore, onBefore] = await Promise.all([settledStats(off), settledStats(on)]);
    const measured: CallsCommand = {
      from: 0,
      to: users,
      features,
      models,
      perUser: 'one',
      concurrency,
    };
    const [offCalls, onCalls] = await Promise.all([calls(off, measured), calls(on, measured)]);
    const [offAfter, onAfter] = await Promise.all([settledStats(off), settledStats(on)]);
    const [offSettled, onSettled] = (await settle([off, on])) as [ProcessStats, ProcessStats];
    if (heapSnapshot) await on.child.send('heap-snapshot', { file: heapSnapshot });
    const timed: { bytes: number; ms: number }[] = [];
    let last = '';
    for (let i = 0; i < scrapes; i++) {
      const s = await scrape(on.metricsUrl!);
      timed.push({ bytes: s.bytes, ms: s.ms });
      last = s.text;
    }
    const counts = countSeries(last);
    const userSeries = counts[METRICS.userRequests.promName]?.series ?? 0;
    const overflow = last.split('\n').filter((l) => l.includes('otel_metric_overflow')).length;
    const afterScrape = await on.child.stats(false);
    return {
      off: { before: offBefore, after: offAfter, settled: offSettled, wallMs: offCalls.wallMs },
      on: { before: onBefore, after: onAfter, settled: onSettled, wallMs: onCalls.wallMs },
      scrapes: timed,
      userSeries,
      overflow,
      afterScrape,
    };
  } finally {
    await Promise.all([off.child.stop(), on.child.stop()]);
  }
}

const mb = (bytes: number): string => (bytes / MB).toFixed(1);

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      'series-users': { type: 'string', default: '1000' },
      features: { type: 'string', default: '3' },
      users: { type: 'string', default: '100000' },
      concurrency: { type: 'string', default: '16' },
      scrapes: { type: 'string', default: '3' },
      'skip-series': { type: 'boolean', default: false },
      'skip-memory': { type: 'boolean', default: false },
      'heap-snapshot': { type: 'string' },
      json: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(HELP);
    return;
  }
  for (const file of [APP, REGISTER, FAKE_PROVIDER])
    if (!existsSync(file)) throw new Error(`${file} is missing: run npm run build first`);
  const seriesUsers = Number(values['series-users']);
  const features = Number(values.features);
  const users = Number(values.users);
  const concurrency = Number(values.concurrency);
  const started = Date.now();
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  console.log(
    `# llm-finops scale bench: ${cpus().length} × ${cpu}, Node ${process.version}, load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  const provider = await startFakeProvider();
  const json: Record<string, unknown> = {};
  try {
    if (!values['skip-series']) {
      const configs: SeriesConfig[] = [
        { users: seriesUsers, features, models: 1 },
        { users: seriesUsers, features, models: 2 },
        { users: seriesUsers, features, models: 3 },
        { users: 2 * seriesUsers, features, models: 3 },
      ];
      const results: SeriesResult[] = [];
      for (const config of configs)
        results.push(await measureSeries(provider.url, config, concurrency));
      console.log('\n## Series per family (U users each calling F features; M models)\n');
      console.log(seriesReport(results));
      const [m1, m2, m3, u2] = results as [SeriesResult, SeriesResult, SeriesResult, SeriesResult];
      const perThousandUsers = ((u2.total - m3.total) * 1000) / seriesUsers;
      const perModel = [m2.total - m1.total, m3.total - m2.total];
      console.log(
        `\nSeries per 1,000 users (F=${features}): ${perThousandUsers} (formula: 1000 × F × 2 = ${1000 * features * 2}).`,
      );
      console.log(
        `Series per added model (F=${features}): ${perModel.join(', ')} (formula: F × (1 + 1 + 1 + 2 + ${seriesPerLabelSet('requestCost')}) + 2 × ${seriesPerLabelSet('tokenUsage')} + ${seriesPerLabelSet('operationDuration')}).`,
      );
      json.series = { results, perThousandUsers, perModel };
      if (results.some((r) => r.mismatches.length > 0)) process.exitCode = 1;
    }
    if (!values['skip-memory']) {
      const m = await memoryRun(
        provider.url,
        users,
        features,
        concurrency,
        Number(values.scrapes),
        values['heap-snapshot'],
      );
      type Key = 'rss' | 'heapUsed' | 'external';
      const growth = (s: MemorySide, k: Key, when: 'after' | 'settled' = 'settled') =>
        s[when][k] - s.before[k];
      const row = (label: string, k: Key, when: 'after' | 'settled') => [
        label,
        `${mb(m.off.before[k])} → ${mb(m.off[when][k])}`,
        `${mb(m.on.before[k])} → ${mb(m.on[when][k])}`,
        mb(growth(m.off, k, when)),
        mb(growth(m.on, k, when)),
        mb(growth(m.on, k, when) - growth(m.off, k, when)),
      ];
      const rows = [
        row('rss, right after the calls', 'rss', 'after'),
        row('rss, settled', 'rss', 'settled'),
        row('heap used', 'heapUsed', 'settled'),
        row('external', 'external', 'settled'),
      ];
      console.log(
        `\n## Memory: ${users} distinct users, one call each (F=${features}, 3 models), after forced GC, MB\n`,
      );
      console.log(
        table(
          [
            'measure',
            'uninstrumented before → after',
            'instrumented before → after',
            'growth, uninstr.',
            'growth, instr.',
            'extra (instr. − uninstr.)',
          ],
          rows,
        ),
      );
      const extraRss = growth(m.on, 'rss') - growth(m.off, 'rss');
      const extraHeap = growth(m.on, 'heapUsed') - growth(m.off, 'heapUsed');
      // The measured calls add one (user, feature) label set per user to each llm_user_* counter.
      const sets = users;
      console.log(
        `\nSettled: extra RSS ${mb(extraRss)} MB, extra heap ${mb(extraHeap)} MB: target < ${MEMORY_TARGET_MB} MB ${
          extraRss < MEMORY_TARGET_MB * MB && extraHeap < MEMORY_TARGET_MB * MB ? 'met' : 'NOT met'
        }. Per (user, feature) label set, over both llm_user_* counters: ${(extraHeap / sets).toFixed(0)} B of heap, ${(extraRss / sets).toFixed(0)} B of RSS. Right after the calls the extra RSS is ${mb(growth(m.on, 'rss', 'after') - growth(m.off, 'rss', 'after'))} MB: V8 keeps the heap it grew to for the calls' garbage until its memory reducer runs (seconds of idle).`,
      );
      console.log(
        `Absolute after the calls: RSS ${mb(m.on.after.rss)} instrumented vs ${mb(m.off.after.rss)} MB; calls took ${(m.on.wallMs / 1000).toFixed(1)} s instrumented, ${(m.off.wallMs / 1000).toFixed(1)} s uninstrumented (side by side).`,
      );
      console.log(
        `llm_user_requests_total series: ${m.userSeries}; overflow series: ${m.overflow}.`,
      );
      console.log(`\n## /metrics at ${users} users\n`);
      console.log(
        table(
          ['scrape', 'bytes', 'MB', 'ms'],
          m.scrapes.map((s, i) => [i + 1, s.bytes, mb(s.bytes), s.ms.toFixed(0)]),
        ),
      );
      console.log(
        `\nPeak RSS of the instrumented app (scrapes included): ${mb(m.afterScrape.maxRss)} MB; RSS after the scrapes ${mb(m.afterScrape.rss)} MB.`,
      );
      json.memory = m;
    }
  } finally {
    provider.child.kill('SIGTERM');
  }
  console.log(
    `\n${((Date.now() - started) / 1000).toFixed(0)} s, load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  if (values.json) writeFileSync(values.json, JSON.stringify(json, null, 2));
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
