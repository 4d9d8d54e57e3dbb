/**
 * A real Prometheus holding the 30-day history of test/helpers/finops-scenario.ts:
 *
 * 1. the scenario's OpenMetrics (app counters, sidecar gauges, synthetic ALERTS) written as TSDB
 *    blocks with `promtool tsdb create-blocks-from openmetrics` (in one block: promtool reads the
 *    whole file once per block);
 * 2. the recording rules of prometheus/rules/recording.yaml evaluated every 5m over the last
 *    `rulesDays` (14) days, so that the week-long bands of the alerts and the anomalies dashboard
 *    have data at the scenario's anomalies (days 25 to 27). They are evaluated with range queries
 *    against a Prometheus on that data, as `promtool tsdb create-blocks-from rules` does, and
 *    backfilled the same way as the history: promtool's rule backfill writes a 2h block per group
 *    and interval (over 1000 blocks here), which took minutes to build and to open. Rules that
 *    read another recorded series (tier:llm_cost_usd:share1h) are evaluated in a second pass, on
 *    the data plus the first pass's blocks;
 * 3. a Prometheus started on a fresh copy of the combined blocks.
 *
 * The blocks are built once per scenario hash (and recording rules text) under os.tmpdir()
 * (llmf-finops-history-<key>) and reused by later test files and runs; every start works on its
 * own copy, so test files can run in parallel.
 */
import {
  closeSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { loadPriceBook } from '../../src/pricing';
import { ROOT } from './child';
import {
  generateFinopsScenario,
  type FinopsScenario,
  type FinopsScenarioOptions,
} from './finops-scenario';
import {
  backfillFile,
  startPrometheus,
  type PromRangeResult,
  type PrometheusServer,
} from './prometheus';

export interface FinopsHistoryOptions extends FinopsScenarioOptions {
  /** Days before `end` over which the recording rules are evaluated, default 14. */
  rulesDays?: number;
}

export interface FinopsHistory {
  /** Prometheus on a private copy of the history; `stop()` removes the copy. */
  prom: PrometheusServer;
  scenario: FinopsScenario;
  /** Unix seconds of the last sample (= scenario.ledger.end). */
  end: number;
  /** Seconds per stage in this process (backfill and rules 0 when the blocks came from the cache). */
  timings: BuildTimings;
  stop(): Promise<void>;
}

/** Seconds per build stage (all 0 on a cache hit). */
export interface BuildTimings {
  generate: number;
  backfill: number;
  rules: number;
  total: number;
  /** Per evaluation pass of the recording rules. */
  rulePasses?: RulePassTimings[];
}

/** Seconds of one pass of recording rules: Prometheus start, range queries, backfill. */
export interface RulePassTimings {
  rules: number;
  start: number;
  evaluate: number;
  backfill: number;
}

/** promtool's largest block range (2h x 3^9). */
const ONE_BLOCK = '39366h';
const RECORDING_RULES = join(ROOT, 'prometheus', 'rules', 'recording.yaml');
const built = new Map<string, Promise<{ dir: string; timings: BuildTimings }>>();

/** Starts a Prometheus holding the scenario's history (built on first use, then cached). */
export async function startFinopsHistory(
  options: FinopsHistoryOptions = {},
): Promise<FinopsHistory> {
  const t0 = performance.now();
  const scenario = generateFinopsScenario(loadPriceBook(), options);
  const generate = (performance.now() - t0) / 1000;
  const rulesDays = options.rulesDays ?? 14;
  const key = `${scenario.hash}-${rulesDays}-${hashText(readFileSync(RECORDING_RULES, 'utf8'))}`;
  let build = built.get(key);
  if (!build) {
    build = buildBlocks(scenario, rulesDays, key, generate);
    built.set(key, build);
  }
  const { dir, timings: buildTimings } = await build;
  // Generation runs in every process; backfill and rules only when the blocks were built here.
  const timings = {
    ...buildTimings,
    generate,
    total: buildTimings.total - buildTimings.generate + generate,
  };
  const dataDir = mkdtempSync(join(tmpdir(), 'llmf-finops-data-'));
  cpSync(dir, dataDir, { recursive: true });
  let prom: PrometheusServer;
  try {
    prom = await startPrometheus({ dataDir, flags: ['--query.lookback-delta=5m'] });
  } catch (error) {
    rmSync(dataDir, { recursive: true, force: true });
    throw error;
  }
  return { prom, scenario, end: scenario.ledger.end, timings, stop: () => prom.stop() };
}

function hashText(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16);
}

async function buildBlocks(
  scenario: FinopsScenario,
  rulesDays: number,
  key: string,
  generate: number,
): Promise<{ dir: string; timings: BuildTimings }> {
  const dir = join(tmpdir(), `llmf-finops-history-${key}`);
  const zero = { generate: 0, backfill: 0, rules: 0, total: 0 };
  // One builder at a time across processes (vitest runs test files in parallel workers): the
  // others wait for its result. A lock older than 5 minutes is a crashed builder's.
  const lock = `${dir}.lock`;
  for (;;) {
    if (existsSync(join(dir, 'complete'))) return { dir, timings: zero };
    try {
      mkdirSync(lock);
      break;
    } catch {
      let age = 0;
      try {
        age = Date.now() - statSync(lock).mtimeMs;
      } catch {
        continue; // released meanwhile
      }
      if (age > 300_000) rmSync(lock, { recursive: true, force: true });
      else await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
  if (existsSync(join(dir, 'complete'))) {
    rmSync(lock, { recursive: true, force: true });
    return { dir, timings: zero };
  }

  const work = mkdtempSync(join(tmpdir(), 'llmf-finops-build-'));
  try {
    const t0 = performance.now();
    const input = join(work, 'history.om');
    const fd = openSync(input, 'w');
    try {
      let buffer = '';
      for (const chunk of scenario.openMetrics()) {
        buffer += chunk;
        if (buffer.length > 1 << 22) {
          writeSync(fd, buffer);
          buffer = '';
        }
      }
      writeSync(fd, buffer);
    } finally {
      closeSync(fd);
    }
    // promtool parses the whole file once per block, and cuts blocks at multiples of their
    // range: 1458h blocks would still cut this month at 2026-11-19T12:00Z (a multiple of every
    // 2h x 3^k range up to 13122h). 39366h, the largest range promtool offers, keeps any month in
    // one block (its bounds are those of the data).
    const data = backfillFile(input, {
      maxBlockDuration: ONE_BLOCK,
      outputDir: join(work, 'data'),
    });
    rmSync(input);
    const t1 = performance.now();

    const passes = splitRules(readFileSync(RECORDING_RULES, 'utf8'));
    const end = scenario.ledger.end;
    const from = end - rulesDays * 86_400;
    const passTimes: RulePassTimings[] = [];
    for (const [i, rules] of passes.entries()) {
      const p0 = performance.now();
      const prom = await startPrometheus({ dataDir: data });
      const p1 = performance.now();
      const file = join(work, `rules-${i}.om`);
      try {
        writeFileSync(file, await evaluateRules(prom, rules, from, end, 300));
      } finally {
        await prom.pause();
      }
      const p2 = performance.now();
      backfillFile(file, { maxBlockDuration: ONE_BLOCK, outputDir: join(work, `rules-${i}`) });
      for (const block of readdirSync(join(work, `rules-${i}`)))
        cpSync(join(work, `rules-${i}`, block), join(data, block), { recursive: true });
      passTimes.push({
        rules: rules.length,
        start: (p1 - p0) / 1000,
        evaluate: (p2 - p1) / 1000,
        backfill: (performance.now() - p2) / 1000,
      });
    }
    const t2 = performance.now();
    // Leave only blocks: no WAL, lock or queries log of the build's Prometheus.
    for (const entry of readdirSync(data))
      if (!/^[0-9A-Z]{26}$/.test(entry))
        rmSync(join(data, entry), { recursive: true, force: true });
    writeFileSync(join(data, 'complete'), new Date().toISOString());
    // Under the lock: a folder without `complete` is a leftover, never one in use.
    if (!existsSync(join(dir, 'complete'))) rmSync(dir, { recursive: true, force: true });
    renameSync(data, dir);
    removeStaleBuilds();
    const timings = {
      generate,
      backfill: (t1 - t0) / 1000,
      rules: (t2 - t1) / 1000,
      rulePasses: passTimes,
      total: generate + (t2 - t0) / 1000,
    };
    return { dir, timings };
  } finally {
    rmSync(work, { recursive: true, force: true });
    rmSync(lock, { recursive: true, force: true });
  }
}

/** Removes cached histories of other keys (older generators, rules) untouched for a day. */
function removeStaleBuilds(): void {
  for (const entry of readdirSync(tmpdir())) {
    if (!/^llmf-finops-history-[\w-]+$/.test(entry) || entry.endsWith('.lock')) continue;
    const path = join(tmpdir(), entry);
    try {
      if (Date.now() - statSync(path).mtimeMs > 86_400_000)
        rmSync(path, { recursive: true, force: true });
    } catch {
      // removed meanwhile
    }
  }
}

interface RecordingRule {
  record: string;
  expr: string;
  labels?: Record<string, string>;
}

/**
 * The recording rules in evaluation passes: first those reading only raw series, then those
 * reading a series recorded by an earlier pass (e.g. tier:llm_cost_usd:share1h).
 */
function splitRules(text: string): RecordingRule[][] {
  const groups = (parse(text) as { groups: { rules: Partial<RecordingRule>[] }[] }).groups;
  let left = groups.flatMap((g) => g.rules).filter((r): r is RecordingRule => !!r.record);
  const passes: RecordingRule[][] = [];
  while (left.length) {
    const pending = new Set(left.map((r) => r.record));
    const reads = (r: RecordingRule) =>
      [...pending].some(
        (n) => n !== r.record && new RegExp(`(^|[^\\w:])${n}([^\\w:]|$)`).test(r.expr),
      );
    const pass = left.filter((r) => !reads(r));
    if (!pass.length) throw new Error('recording rules depend on each other in a cycle');
    passes.push(pass);
    left = left.filter((r) => reads(r));
  }
  return passes;
}

/**
 * Evaluates recording rules every `step` from `from` to `end` with range queries, as
 * `promtool tsdb create-blocks-from rules` does, into OpenMetrics for `backfillFile`. (promtool's
 * own rule backfill writes one 2h block per rule group and interval: over 1000 blocks for 14 days,
 * which make Prometheus slow to open them.)
 */
async function evaluateRules(
  prom: PrometheusServer,
  rules: RecordingRule[],
  from: number,
  end: number,
  step: number,
): Promise<string> {
  // Each rule in 2-day pieces, three queries at a time: Prometheus evaluates a query on one core.
  const piece = 2 * 86_400;
  const jobs: { rule: number; from: number; to: number }[] = [];
  for (const [i] of rules.entries())
    for (let t = from; t <= end; t += piece)
      jobs.push({ rule: i, from: t, to: Math.min(end, t + piece - step) });
  const pieces = jobs.map(() => [] as PromRangeResult[]);
  let next = 0;
  const worker = async () => {
    for (let j = next++; j < jobs.length; j = next++) {
      const job = jobs[j] as (typeof jobs)[number];
      const rule = rules[job.rule] as RecordingRule;
      pieces[j] = await prom.queryRange(rule.expr, job.from, job.to, step);
    }
  };
  await Promise.all([worker(), worker(), worker()]);
  // Series of each rule, their pieces joined in time order (jobs are in time order per rule).
  const results = rules.map(() => new Map<string, PromRangeResult>());
  for (const [j, job] of jobs.entries()) {
    const bySeries = results[job.rule] as Map<string, PromRangeResult>;
    for (const series of pieces[j] ?? []) {
      const key = JSON.stringify(Object.entries(series.metric).sort());
      const seen = bySeries.get(key);
      if (seen) seen.values.push(...series.values);
      else bySeries.set(key, { metric: series.metric, values: [...series.values] });
    }
  }
  const out: string[] = [];
  for (const [i, rule] of rules.entries()) {
    out.push(`# TYPE ${rule.record} unknown`);
    for (const series of results[i]?.values() ?? []) {
      const labels: Record<string, string> = { ...series.metric, ...rule.labels };
      delete labels.__name__;
      const text = Object.keys(labels)
        .sort()
        .map((k) => `${k}="${(labels[k] ?? '').replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`)
        .join(',');
      const head = `${rule.record}${text ? `{${text}}` : ''} `;
      for (const [t, v] of series.values) out.push(`${head}${v} ${t}`);
    }
  }
  out.push('# EOF');
  return out.join('\n') + '\n';
}
