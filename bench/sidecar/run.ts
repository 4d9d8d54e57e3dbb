/**
 * The budget sidecar under load: decisions per second and latency of GET /v1/check beside a bare
 * node:http server, and the time, CPU and memory of reading 100,000 users' spend.
 *
 *   npm run bench:sidecar            (= npm run build && node dist/bench/sidecar/run.js)
 *   node dist/bench/sidecar/run.js --help
 *
 * A real Prometheus (Debian's binary) is backfilled with promtool with the spend counters of
 * each population of users (history.ts). Each population gets its own sidecar process (the real
 * Sidecar, refresh loop included), the bare server its own, and the load generator its own
 * (load.ts): the parent only orchestrates. Throughput blocks alternate sidecar and bare, then
 * bare and sidecar, so that drift of a shared machine falls on both.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { byCategory, difference, selfTimes, type FunctionTime } from '../instrumentation/profile';
import {
  OVERRIDES,
  budgetConfig,
  checkPaths,
  writeHistory,
  type Population,
  type WindowKind,
} from './history';
import { BenchChild, type AllocationFigures, type ProcessStats } from './ipc';
import type { LoadResult, LoadRun } from './load';
import { backfill, startPrometheus, type BenchPrometheus } from './prometheus';
import type { RefreshRecord } from './sidecar-process';

const ROOT = resolve(__dirname, '..', '..', '..');
const SCRIPT = {
  load: join(__dirname, 'load.js'),
  bare: join(__dirname, 'bare.js'),
  sidecar: join(__dirname, 'sidecar-process.js'),
};

const THROUGHPUT_RATIO_TARGET = 0.5;
const P99_TARGET_US = 1000;
/** The request rate the p99 target is set at. */
const TARGET_RATE = 1000;
/** Distinct decision requests the load generator cycles through. */
const PATHS = 20_000;
const WARMUP_MS = 1000;
/** The default refresh interval, at which the bench runs the steady refreshes. */
const REFRESH_MS = 15_000;

const HELP = `Usage: node dist/bench/sidecar/run.js [options]

  --users LIST        users with spend, one sidecar per population (default 100000,1000)
  --connections N     connections of the max-throughput blocks (default 32)
  --seconds S         measured seconds per block, after 1 s of warm-up (default 10)
  --pairs N           max-throughput block pairs (sidecar + bare) per population (default 3)
  --rate LIST         requests per second of the fixed-rate runs (default 1000,5000; the first
                      also gets the run with a refresh)
  --rate-runs N       fixed-rate runs per server and population (default 2)
  --steady N          steady-state refreshes observed per population (default 3)
  --history-hours H   spend history before now (default 2)
  --windows KIND      calendar (default): caps over day and month, the first refresh reads the
                      month's history; rolling: the same caps over 1h and 2h, for populations
                      whose month-long read is beyond this Prometheus (1M users here)
  --scrape S          seconds between samples in the history (default 60)
  --profile           also profile (V8 sampling, 100 µs) one more steady refresh, and the
                      sidecar and the bare server in one more max-throughput block each, and
                      print where the time goes
  --json FILE         also write every measurement as JSON
  --quick             --users 10000,1000 --seconds 3 --pairs 1 --rate-runs 1 --steady 1
                      --history-hours 1: a smoke run, figures not to quote
`;

interface Options {
  readonly users: number[];
  readonly connections: number;
  readonly seconds: number;
  readonly pairs: number;
  /** Fixed request rates of the latency runs; the first also has the run with a refresh. */
  readonly rates: number[];
  readonly rateRuns: number;
  readonly steady: number;
  readonly historyHours: number;
  readonly scrapeSeconds: number;
  readonly windows: WindowKind;
  readonly profile: boolean;
  readonly json?: string;
}

function options(): Options | undefined {
  const { values: v } = parseArgs({
    options: {
      users: { type: 'string' },
      connections: { type: 'string' },
      seconds: { type: 'string' },
      pairs: { type: 'string' },
      rate: { type: 'string' },
      'rate-runs': { type: 'string' },
      steady: { type: 'string' },
      'history-hours': { type: 'string' },
      scrape: { type: 'string' },
      windows: { type: 'string', default: 'calendar' },
      profile: { type: 'boolean', default: false },
      json: { type: 'string' },
      quick: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (v.help) {
    process.stdout.write(HELP);
    return undefined;
  }
  const q = v.quick;
  const opts: Options = {
    users: (v.users ?? (q ? '10000,1000' : '100000,1000')).split(',').map(Number),
    connections: Number(v.connections ?? 32),
    seconds: Number(v.seconds ?? (q ? 3 : 10)),
    pairs: Number(v.pairs ?? (q ? 1 : 3)),
    rates: (v.rate ?? '1000,5000').split(',').map(Number),
    rateRuns: Number(v['rate-runs'] ?? (q ? 1 : 2)),
    steady: Number(v.steady ?? (q ? 1 : 3)),
    historyHours: Number(v['history-hours'] ?? (q ? 1 : 2)),
    scrapeSeconds: Number(v.scrape ?? 60),
    windows: v.windows as WindowKind,
    profile: v.profile,
    json: v.json,
  };
  const positive = [
    opts.connections,
    opts.seconds,
    opts.pairs,
    ...opts.rates,
    opts.rateRuns,
    opts.historyHours,
    opts.scrapeSeconds,
    ...opts.users,
  ];
  if (!positive.every((n) => Number.isFinite(n) && n > 0) || !(opts.steady >= 0))
    throw new Error('every number must be positive; see --help');
  if (opts.windows !== 'calendar' && opts.windows !== 'rolling')
    throw new Error('--windows must be calendar or rolling');
  if (opts.users.some((n) => n <= OVERRIDES))
    throw new Error(`a population needs more than the ${OVERRIDES} users with overrides`);
  return opts;
}

// ---------------------------------------------------------------- measurements

interface Block {
  readonly server: Server;
  /** Requests per second of a fixed-rate run; undefined for max throughput. */
  readonly rate?: number;
  readonly load: LoadResult;
  /** Server CPU in the whole block (warm-up included) per answer of the measured period. */
  readonly serverCpuUsPerRequest: number;
  readonly serverCpuShare: number;
  /** Sidecar refreshes that ran during the block. */
  readonly refreshes: readonly RefreshRecord[];
  /** They ended before the load did. */
  readonly refreshesEnded: boolean;
}

interface RefreshFigures extends RefreshRecord {
  readonly prometheusCpuMs: number;
  /** Queries by name, from llm_budget_prometheus_query_duration_seconds_count. */
  readonly queries: Record<string, number>;
  readonly queryErrors: number;
}

interface DecideFigures {
  readonly nsPerDecision: number;
  readonly allowedShare: number;
}

type Server = 'sidecar' | 'bare';

interface PopulationResult {
  readonly population: Population;
  readonly before: ProcessStats;
  readonly afterFirst: ProcessStats;
  readonly afterSteady: ProcessStats;
  readonly first: RefreshFigures;
  readonly steady: RefreshFigures[];
  /** `Sidecar.decide()` alone, in process, three rounds. */
  readonly decide: DecideFigures[];
  readonly throughput: Block[];
  readonly fixedRate: Block[];
  /** One fixed-rate run per server with a sidecar refresh during it. */
  readonly withRefresh: Block[];
  /** Self time in µs of one more steady refresh (--profile). */
  readonly refreshProfile?: FunctionTime[];
  /** Self time per request, in one more max-throughput block of each server. */
  readonly profile?: { sidecar: FunctionTime[]; bare: FunctionTime[] };
  /** Bytes allocated per request, in one more max-throughput block of each server (--profile). */
  readonly allocations?: Record<Server, AllocationFigures & { requests: number }>;
}

const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout) || 100;

/** CPU (ms) of a process from /proc: user + system, all threads. */
function procCpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) / CLK_TCK) * 1000;
}

/** Sum of the samples of `name` whose labels include `labels`, from Prometheus text. */
function metric(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name) || (line[name.length] !== '{' && line[name.length] !== ' '))
      continue;
    if (!Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) continue;
    sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

const QUERY_NAMES = ['latest', 'window_start', 'events', 'backfill'] as const;

async function scrape(url: string): Promise<string> {
  return (await fetch(`${url}/metrics`)).text();
}

function queryCounts(text: string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const q of QUERY_NAMES)
    counts[q] = metric(text, 'llm_budget_prometheus_query_duration_seconds_count', { query: q });
  return counts;
}

function minus(a: Record<string, number>, b: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(a).map(([k, v]) => [k, v - (b[k] ?? 0)]));
}

/** A typical allow answer of the sidecar, for the bare server to repeat. */
async function sampleAnswer(
  url: string,
  paths: readonly string[],
): Promise<{ status: number; headers: Record<string, string>; body: string }> {
  for (const path of paths) {
    const res = await fetch(url + path);
    const body = await res.text();
    if (res.status !== 200) continue;
    const headers: Record<string, string> = {};
    res.headers.forEach((value, name) => {
      // Node's own per-connection headers are added by the bare server's node:http too.
      if (!['date', 'connection', 'keep-alive', 'transfer-encoding'].includes(name))
        headers[name] = value;
    });
    return { status: 200, headers, body };
  }
  throw new Error('no request of the mix was allowed');
}

class Bench {
  constructor(
    private readonly opts: Options,
    private readonly prom: BenchPrometheus,
    private readonly load: BenchChild,
    private readonly bare: { child: BenchChild; port: number },
    private readonly dir: string,
  ) {}

  async population(population: Population): Promise<PopulationResult> {
    const configFile = join(this.dir, `budgets-${population.name}.yaml`);
    writeFileSync(configFile, budgetConfig(this.prom.url, population, this.opts.windows));
    const sidecar = BenchChild.start(SCRIPT.sidecar, [configFile]);
    try {
      const before = await sidecar.stats(true);
      const url = await sidecar.send<string>('start');
      const spend = await this.refreshes(population, sidecar, url);
      const decisions = await this.decisions(population, sidecar, url, spend.steady);
      return { population, before, ...spend, ...decisions };
    } finally {
      await sidecar.stop();
    }
  }

  /** The loop's first refresh (with the backfill), then steady ones every 15 s. */
  private async refreshes(population: Population, sidecar: BenchChild, url: string) {
    let metrics = '';
    let promCpu = procCpuMs(this.prom.pid);
    const figures = async (record: RefreshRecord): Promise<RefreshFigures> => {
      const previous = metrics;
      metrics = await scrape(url);
      const cpu = procCpuMs(this.prom.pid);
      const result: RefreshFigures = {
        ...record,
        prometheusCpuMs: cpu - promCpu,
        queries: minus(queryCounts(metrics), queryCounts(previous)),
        queryErrors:
          metric(metrics, 'llm_budget_prometheus_query_errors_total') -
          metric(previous, 'llm_budget_prometheus_query_errors_total'),
      };
      if (!record.ready || result.queryErrors > 0)
        throw new Error(`a refresh failed: ${JSON.stringify(result)}`);
      return result;
    };
    const [firstRecord] = await sidecar.send<RefreshRecord[]>('refreshes', { count: 1 });
    const first = await figures(firstRecord as RefreshRecord);
    const afterFirst = await sidecar.stats(true);
    const steady: RefreshFigures[] = [];
    let last = performance.now();
    for (let i = 0; i < this.opts.steady; i++) {
      await sleep(last + REFRESH_MS - performance.now());
      last = performance.now();
      // Prometheus's idle CPU between refreshes is not the refresh's.
      promCpu = procCpuMs(this.prom.pid);
      steady.push(await figures(await sidecar.send<RefreshRecord>('refresh')));
    }
    const afterSteady = await sidecar.stats(true);
    let refreshProfile: FunctionTime[] | undefined;
    if (this.opts.profile) {
      await sleep(last + REFRESH_MS - performance.now());
      const file = join(this.dir, `refresh-${population.name}.cpuprofile`);
      await sidecar.send('profile-start');
      await sidecar.send('refresh');
      await sidecar.send('profile-stop', { file });
      // Native `dispatch` is the inspector starting the profiler: tens of ms, not the refresh's.
      refreshProfile = selfTimes(file, 1, ROOT).filter((t) => t.name !== 'dispatch' || t.where);
    }
    progress(
      `${population.name}: first refresh ${fmt(first.wallMs)} ms, steady ${steady.map((s) => fmt(s.wallMs)).join(', ')} ms`,
    );
    return { afterFirst, afterSteady, first, steady, refreshProfile };
  }

  private async decisions(
    population: Population,
    sidecar: BenchChild,
    url: string,
    steady: readonly RefreshFigures[],
  ) {
    const { opts } = this;
    const paths = checkPaths(population, PATHS);
    const decide: DecideFigures[] = [];
    for (let i = 0; i < 3; i++) decide.push(await sidecar.send('decide', { paths, rounds: 5 }));
    await this.bare.child.send('answer', await sampleAnswer(url, paths));
    await this.load.send('paths', { paths });
    const servers = {
      sidecar: { child: sidecar, port: Number(new URL(url).port) },
      bare: this.bare,
    };

    const block = async (
      server: Server,
      rate?: number,
      refreshAtMs?: number,
      durationMs = opts.seconds * 1000,
    ): Promise<Block> => {
      const { child, port } = servers[server];
      const refreshesBefore = (await sidecar.send<RefreshRecord[]>('refreshes')).length;
      const cpu0 = await child.stats();
      const t0 = performance.now();
      const run: LoadRun = {
        port,
        connections: rate ? Math.max(opts.connections, 64) : opts.connections,
        warmupMs: WARMUP_MS,
        durationMs,
        rate,
      };
      if (refreshAtMs !== undefined) {
        // As much new history to read as in the steady refreshes: 15 s since the last one.
        const records = await sidecar.send<RefreshRecord[]>('refreshes');
        await sleep(REFRESH_MS - (Date.now() - (records[records.length - 1]?.endedAt ?? 0)));
      }
      const refreshed =
        refreshAtMs === undefined
          ? undefined
          : sleep(WARMUP_MS + refreshAtMs).then(() => sidecar.send('refresh'));
      if (refreshAtMs !== undefined)
        progress(`${population.name}: ${server}, a run with a refresh`);
      const load = await this.load.send<LoadResult>('run', { ...run });
      const wallUs = (performance.now() - t0) * 1000;
      const ended = Date.now();
      const cpuUs = (await child.stats()).cpuUs - cpu0.cpuUs;
      await refreshed;
      const refreshes = (await sidecar.send<RefreshRecord[]>('refreshes')).slice(refreshesBefore);
      if (load.unanswered) progress(`${server}: ${load.unanswered} requests never answered`);
      const unexpected = Object.keys(load.statuses).filter((s) => s !== '200' && s !== '402');
      if (unexpected.length) throw new Error(`${server} answered ${JSON.stringify(load.statuses)}`);
      const warm = (run.warmupMs + run.durationMs) / run.durationMs;
      return {
        server,
        rate,
        load,
        serverCpuUsPerRequest: cpuUs / (load.requests * warm),
        serverCpuShare: cpuUs / wallUs,
        refreshes,
        refreshesEnded: refreshes.every((r) => r.endedAt <= ended),
      };
    };
    /** Pairs of blocks, sidecar first then bare first, so that drift falls on both. */
    const pairs = async (count: number, label: string, run: (s: Server) => Promise<Block>) => {
      const blocks: Block[] = [];
      for (let pair = 0; pair < count; pair++) {
        const order: Server[] = pair % 2 === 0 ? ['sidecar', 'bare'] : ['bare', 'sidecar'];
        for (const server of order) blocks.push(await run(server));
        progress(
          `${population.name}: ${label} ${pair + 1}: ${blocks.slice(-2).map(brief).join(', ')}`,
        );
      }
      return blocks;
    };

    const throughput = await pairs(opts.pairs, 'max throughput', (s) => block(s));
    const fixedRate: Block[] = [];
    for (const rate of opts.rates)
      fixedRate.push(...(await pairs(opts.rateRuns, `${rate}/s`, (s) => block(s, rate))));
    const [firstRate] = opts.rates as [number];
    // A refresh 1 s into the run, in a run long enough to see the refresh through (twice the
    // steady refreshes: a shared machine slows some down); the table says if one did not end in it.
    const refreshMs = median(steady.map((r) => r.wallMs));
    const during = Math.max(opts.seconds * 1000, Math.ceil((2 * refreshMs + 5000) / 1000) * 1000);
    const withRefresh = opts.steady
      ? await pairs(1, `${firstRate}/s with a refresh`, (s) => block(s, firstRate, 1000, during))
      : [];

    let profile: PopulationResult['profile'];
    let allocations: PopulationResult['allocations'];
    if (opts.profile) {
      const times = { sidecar: [] as FunctionTime[], bare: [] as FunctionTime[] };
      for (const server of ['sidecar', 'bare'] as const) {
        const file = join(this.dir, `${server}-${population.name}.cpuprofile`);
        await servers[server].child.send('profile-start');
        const profiled = await block(server);
        await servers[server].child.send('profile-stop', { file });
        // The profile covers the warm-up too.
        const requests =
          profiled.load.requests * ((WARMUP_MS + opts.seconds * 1000) / (opts.seconds * 1000));
        times[server] = selfTimes(file, requests, ROOT);
      }
      profile = times;
      progress(`${population.name}: CPU profiles in ${this.dir}`);
      const sampled: Partial<NonNullable<PopulationResult['allocations']>> = {};
      for (const server of ['sidecar', 'bare'] as const) {
        await servers[server].child.send('alloc-start');
        const b = await block(server);
        const figures = await servers[server].child.send<AllocationFigures>('alloc-stop');
        const requests =
          b.load.requests * ((WARMUP_MS + opts.seconds * 1000) / (opts.seconds * 1000));
        sampled[server] = { ...figures, requests };
      }
      allocations = sampled as NonNullable<PopulationResult['allocations']>;
    }
    return { decide, throughput, fixedRate, withRefresh, profile, allocations };
  }
}

const brief = (b: Block): string =>
  `${b.server} ${fmt(b.load.requests / b.load.seconds)}/s p99 ${fmt(b.load.latencyUs.p99)} µs`;

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, Math.max(0, ms)));
}

// ---------------------------------------------------------------- report

const fmt = (n: number, digits = 0): string =>
  Number.isFinite(n)
    ? n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits })
    : '–';
const mib = (bytes: number): string => fmt(bytes / 1024 / 1024, 1);

function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length / 2;
  return s.length % 2 ? (s[Math.floor(mid)] ?? NaN) : ((s[mid - 1] ?? NaN) + (s[mid] ?? NaN)) / 2;
}

const spread = (values: readonly number[], digits = 0): string =>
  values.length > 1
    ? `${fmt(median(values), digits)} (${fmt(Math.min(...values), digits)} … ${fmt(Math.max(...values), digits)})`
    : fmt(values[0] ?? NaN, digits);

function mix(blocks: readonly Block[]): string {
  let allowed = 0;
  let denied = 0;
  for (const b of blocks) {
    allowed += b.load.statuses['200'] ?? 0;
    denied += b.load.statuses['402'] ?? 0;
  }
  return `${fmt((100 * denied) / (allowed + denied), 1)} % 402`;
}

function throughputTable(results: readonly PopulationResult[], opts: Options): string {
  const rows = [
    `Closed loop, ${opts.connections} keep-alive connections, ${opts.seconds} s blocks after 1 s of warm-up, ${opts.pairs} blocks per server, no refresh during them; median (min … max) over blocks.`,
    '',
    '| users with spend | server | decisions/s | server CPU µs per request | server CPU, share of a core | load generator CPU, share of a core | latency p50 / p99 µs | answers |',
    '| ---: | --- | ---: | ---: | ---: | ---: | ---: | --- |',
  ];
  for (const r of results) {
    for (const server of ['sidecar', 'bare'] as const) {
      const blocks = r.throughput.filter((b) => b.server === server);
      rows.push(
        `| ${fmt(r.population.users)} | ${server} | ${spread(blocks.map((b) => b.load.requests / b.load.seconds))} | ${spread(
          blocks.map((b) => b.serverCpuUsPerRequest),
          1,
        )} | ${spread(
          blocks.map((b) => b.serverCpuShare),
          2,
        )} | ${spread(
          blocks.map((b) => b.load.cpuShare),
          2,
        )} | ${fmt(median(blocks.map((b) => b.load.latencyUs.p50)))} / ${fmt(median(blocks.map((b) => b.load.latencyUs.p99)))} | ${server === 'sidecar' ? mix(blocks) : 'constant 200'} |`,
      );
    }
  }
  rows.push(
    '',
    '| users with spend | sidecar ÷ bare decisions/s, per pair: median (min … max) | bare ÷ sidecar server CPU per request | target (≥ 0.5) |',
    '| ---: | ---: | ---: | --- |',
  );
  for (const r of results) {
    const ratios = pairRatios(r.throughput, (b) => b.load.requests);
    const cpu = pairRatios(r.throughput, (b) => 1 / b.serverCpuUsPerRequest);
    rows.push(
      `| ${fmt(r.population.users)} | ${spread(ratios, 2)} | ${spread(cpu, 2)} | ${median(ratios) >= THROUGHPUT_RATIO_TARGET ? 'met' : 'NOT met'} |`,
    );
  }
  return rows.join('\n');
}

/** sidecar ÷ bare of `value` for each consecutive pair of blocks. */
function pairRatios(blocks: readonly Block[], value: (b: Block) => number): number[] {
  const out: number[] = [];
  for (let i = 0; i + 1 < blocks.length; i += 2) {
    const [a, b] = [blocks[i], blocks[i + 1]] as [Block, Block];
    const [s, bare] = a.server === 'sidecar' ? [a, b] : [b, a];
    out.push(value(s) / value(bare));
  }
  return out;
}

function latencyTable(results: readonly PopulationResult[], opts: Options): string {
  const rows = [
    `Open loop, ${opts.rates.join(' and ')} requests/s over 64 connections for ${opts.seconds} s after 1 s of warm-up, ${opts.rateRuns} runs per server, no refresh during them; then, at ${opts.rates[0]}/s, one run each with a sidecar refresh starting 1 s into it (the run lasts twice as long as a steady refresh plus 5 s; for the bare server the refresh runs in the idle sidecar process and Prometheus, on the same two cores). Latency from writing the request to the answer's last byte; median (min … max) over runs.`,
    '',
    '| users with spend | server | rate | runs | achieved req/s | p50 µs | p99 µs | p99.9 µs | max µs | p99 µs from the due time | requests queued (no free connection) / connections reopened (server closed them idle) | server CPU µs per request | target (p99 < 1 ms) |',
    '| ---: | --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
  ];
  for (const r of results) {
    const groups = [
      ...opts.rates.map(
        (rate) => ['no refresh', r.fixedRate.filter((b) => b.rate === rate)] as const,
      ),
      ['a refresh during the run', r.withRefresh] as const,
    ];
    for (const [label, blocks] of groups) {
      for (const server of ['sidecar', 'bare'] as const) {
        const runs = blocks.filter((b) => b.server === server);
        if (!runs.length) continue;
        const l = (f: (b: Block) => number) => spread(runs.map(f));
        const worstP99 = Math.max(...runs.map((b) => b.load.latencyUs.p99));
        const refresh = runs.flatMap((b) => b.refreshes);
        const what =
          label === 'no refresh'
            ? `${runs.length} × ${fmt(runs[0]?.load.seconds ?? 0)} s, no refresh`
            : `${fmt(runs[0]?.load.seconds ?? 0)} s, a refresh of ${fmt(refresh[0]?.wallMs ?? NaN)} ms${runs.every((b) => b.refreshesEnded) ? '' : ' (ended after the run)'}, longest stall ${fmt(refresh[0]?.stallMs ?? NaN)} ms`;
        rows.push(
          `| ${fmt(r.population.users)} | ${server} | ${fmt(runs[0]?.rate ?? NaN)} | ${what} | ${l((b) => b.load.requests / b.load.seconds)} | ${l((b) => b.load.latencyUs.p50)} | ${l((b) => b.load.latencyUs.p99)} | ${l((b) => b.load.latencyUs.p999)} | ${l((b) => b.load.latencyUs.max)} | ${l((b) => b.load.fromDueUs?.p99 ?? NaN)} | ${runs.reduce((n, b) => n + b.load.queued, 0)} / ${runs.reduce((n, b) => n + b.load.reconnects, 0)} | ${spread(
            runs.map((b) => b.serverCpuUsPerRequest),
            1,
          )} | ${server === 'sidecar' && runs[0]?.rate === TARGET_RATE ? (worstP99 < P99_TARGET_US ? 'met' : 'NOT met') : ''} |`,
        );
      }
    }
  }
  return rows.join('\n');
}

function decideTable(results: readonly PopulationResult[]): string {
  const rows = [
    '`Sidecar.decide()` alone, in the sidecar process, over the same 20,000 requests as the HTTP runs, 5 times; three rounds, median (min … max). No HTTP, no answer body.',
    '',
    '| users with spend | ns per decision | allowed |',
    '| ---: | ---: | ---: |',
  ];
  for (const r of results)
    rows.push(
      `| ${fmt(r.population.users)} | ${spread(r.decide.map((d) => d.nsPerDecision))} | ${fmt(100 * (r.decide[0]?.allowedShare ?? NaN), 1)} % |`,
    );
  return rows.join('\n');
}

function refreshTable(results: readonly PopulationResult[]): string {
  const rows = [
    "Wall time of `Sidecar.refresh()`: first, the refresh loop's first (it reads the windows' history: backfill); steady, the next ones, 15 s apart (median (min … max)). Sidecar CPU is the whole process's during the refresh; the longest event-loop stall is how long a decision could wait behind it. Queries per refresh from `llm_budget_prometheus_query_duration_seconds_count` on /metrics (`backfill` counts its range queries as one).",
    '',
    '| users with spend | refresh | wall ms | sidecar CPU ms | longest event-loop stall ms | Prometheus CPU ms | queries: latest + window_start + events + backfill |',
    '| ---: | --- | ---: | ---: | ---: | ---: | --- |',
  ];
  const queries = (q: Record<string, number>) =>
    `${QUERY_NAMES.map((n) => q[n] ?? 0).join(' + ')} = ${QUERY_NAMES.reduce((s, n) => s + (q[n] ?? 0), 0)}`;
  for (const r of results) {
    const f = r.first;
    rows.push(
      `| ${fmt(r.population.users)} | first | ${fmt(f.wallMs)} | ${fmt(f.cpuMs)} | ${fmt(f.stallMs)} | ${fmt(f.prometheusCpuMs)} | ${queries(f.queries)} |`,
    );
    if (r.steady.length) {
      const s = r.steady;
      const distinct = [...new Set(s.map((x) => queries(x.queries)))].join('; ');
      rows.push(
        `| ${fmt(r.population.users)} | steady (${s.length}) | ${spread(s.map((x) => x.wallMs))} | ${spread(s.map((x) => x.cpuMs))} | ${spread(s.map((x) => x.stallMs))} | ${spread(s.map((x) => x.prometheusCpuMs))} | ${distinct} |`,
      );
    }
  }
  return rows.join('\n');
}

function memoryTable(results: readonly PopulationResult[]): string {
  const rows = [
    'Sidecar process after a full GC: before the first refresh, after it, and after the steady refreshes; MiB.',
    '',
    '| users with spend | RSS before → after first → after steady | heap used before → after first → after steady | heap used per user with spend, bytes | V8 heap reserved / external after steady | peak RSS |',
    '| ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const r of results) {
    const { before: b, afterFirst: f, afterSteady: s } = r;
    rows.push(
      `| ${fmt(r.population.users)} | ${mib(b.rss)} → ${mib(f.rss)} → ${mib(s.rss)} | ${mib(b.heapUsed)} → ${mib(f.heapUsed)} → ${mib(s.heapUsed)} | ${fmt((s.heapUsed - b.heapUsed) / r.population.users)} | ${mib(s.heapTotal)} / ${mib(s.external)} | ${mib(s.maxRss)} |`,
    );
  }
  return rows.join('\n');
}

function profileTable(r: PopulationResult): string {
  if (!r.profile) return '';
  const { sidecar, bare } = r.profile;
  const total = (times: readonly FunctionTime[]) => times.reduce((n, t) => n + t.selfUs, 0);
  const ours = byCategory(sidecar)['llm-finops'];
  const rows = [
    `#### Where the time goes, ${fmt(r.population.users)} users: self time in µs per request (V8 sampling profiler)`,
    '',
    `Sidecar ${fmt(total(sidecar), 1)} (of which llm-finops code ${fmt(ours, 1)}), bare ${fmt(total(bare), 1)}.`,
    '',
    '| µs/request, sidecar − bare | sidecar | bare | function | where |',
    '| ---: | ---: | ---: | --- | --- |',
  ];
  const base = new Map(bare.map((t) => [`${t.name}@${t.where}`, t.selfUs]));
  for (const t of difference(sidecar, bare).slice(0, 25)) {
    const b = base.get(`${t.name}@${t.where}`) ?? 0;
    rows.push(
      `| ${fmt(t.selfUs, 2)} | ${fmt(t.selfUs + b, 2)} | ${fmt(b, 2)} | ${t.name} | ${t.where} |`,
    );
  }
  if (r.allocations) {
    const { sidecar: s, bare: b } = r.allocations;
    const perRequest = (a: typeof s) => a.bytes / a.requests;
    rows.push(
      '',
      `#### Bytes allocated per request, ${fmt(r.population.users)} users (V8 allocation sampling, freed objects included)`,
      '',
      `Sidecar ${fmt(perRequest(s))}, bare ${fmt(perRequest(b))}. The sidecar's largest:`,
      '',
      '| bytes/request | function | where |',
      '| ---: | --- | --- |',
      ...s.top.map((t) => `| ${fmt(t.bytes / s.requests)} | ${t.name} | ${t.where} |`),
    );
  }
  if (r.refreshProfile) {
    const times = r.refreshProfile;
    rows.push(
      '',
      `#### Where a steady refresh's time goes, ${fmt(r.population.users)} users: self time in ms (sidecar process)`,
      '',
      `Total ${fmt(times.reduce((n, t) => n + t.selfUs, 0) / 1000)} ms (the profiler's own start left out), of which garbage collection ${fmt(byCategory(times).gc / 1000)} ms.`,
      '',
      '| ms | function | where |',
      '| ---: | --- | --- |',
      ...times.slice(0, 20).map((t) => `| ${fmt(t.selfUs / 1000, 1)} | ${t.name} | ${t.where} |`),
    );
  }
  return rows.join('\n');
}

// ---------------------------------------------------------------- main

/** The commit measured, and whether src/ differs from it. */
function commit(): string {
  const git = (...args: string[]) =>
    spawnSync('git', args, { cwd: ROOT, encoding: 'utf8' }).stdout?.trim() ?? '';
  const head = git('rev-parse', '--short', 'HEAD') || '?';
  return git('status', '--porcelain', '--', 'src')
    ? `${head} with uncommitted changes in src/`
    : head;
}

function prometheusVersion(): string {
  const out = spawnSync('prometheus', ['--version'], { encoding: 'utf8' });
  return /version (\S+)/.exec(`${out.stdout}${out.stderr}`)?.[1] ?? '?';
}

function progress(line: string): void {
  process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${line}\n`);
}

async function main(): Promise<void> {
  const opts = options();
  if (!opts) return;
  for (const file of Object.values(SCRIPT))
    if (!existsSync(file)) throw new Error(`${file} is missing: run npm run build first`);
  const populations: Population[] = [...opts.users]
    .sort((a, b) => b - a)
    .map((users) => ({
      name:
        users >= 1_000_000
          ? `${users / 1_000_000}M`
          : users >= 1000
            ? `${users / 1000}k`
            : String(users),
      users,
    }));
  const loadBefore = loadavg()[0] ?? 0;
  const dir = mkdtempSync(join(tmpdir(), 'llmf-bench-sidecar-'));
  const cleanup: (() => Promise<void>)[] = [];
  const started = Date.now();
  try {
    // History, sized so that its future samples outlast the run.
    const stepMs = opts.scrapeSeconds * 1000;
    const now = Math.ceil(Date.now() / stepMs) * stepMs;
    // Blocks, refreshes (100k users' first takes half a minute here, 1M users' several) and the
    // run with a refresh.
    const blocksMs =
      (2 * opts.pairs + 2 * opts.rateRuns * opts.rates.length + (opts.profile ? 2 : 0)) *
      (opts.seconds + 3) *
      1000;
    const runMs = populations.reduce(
      (sum, p) => sum + blocksMs + (opts.steady + 3) * Math.max(REFRESH_MS, p.users / 2) + 180_000,
      0,
    );
    const futureMs = Math.ceil((runMs * 1.5 + 600_000) / stepMs) * stepMs;
    const input = join(dir, 'history.om');
    let t = performance.now();
    const samples = writeHistory(input, {
      populations,
      stepMs,
      pastMs: opts.historyHours * 3_600_000,
      futureMs,
      now,
    });
    const writeSeconds = (performance.now() - t) / 1000;
    t = performance.now();
    const dataDir = join(dir, 'data');
    backfill(input, dataDir);
    rmSync(input);
    const promtoolSeconds = (performance.now() - t) / 1000;
    progress(
      `history: ${fmt(samples)} samples written in ${fmt(writeSeconds, 1)} s, blocks by promtool in ${fmt(promtoolSeconds, 1)} s`,
    );
    mkdirSync(join(dir, 'conf'));
    const prom = await startPrometheus(dataDir, join(dir, 'conf'));
    cleanup.push(() => prom.stop());
    const load = BenchChild.start(SCRIPT.load);
    cleanup.push(() => load.stop());
    const bareChild = BenchChild.start(SCRIPT.bare);
    cleanup.push(() => bareChild.stop());
    const bareUrl = await bareChild.send<string>('listen');
    const bench = new Bench(
      opts,
      prom,
      load,
      { child: bareChild, port: Number(new URL(bareUrl).port) },
      dir,
    );
    const results: PopulationResult[] = [];
    for (const population of populations) results.push(await bench.population(population));
    const elapsed = (Date.now() - started) / 1000;
    if (Date.now() > now + futureMs)
      progress('warning: the run outlasted the history: series ended during it');

    const lines = [
      `## Budget sidecar: ${new Date(started).toISOString()}`,
      '',
      `Machine: ${cpus()[0]?.model.trim() ?? '?'}, ${cpus().length} vCPUs, ${mib(totalmem())} MiB; Node ${process.version}; Prometheus ${prometheusVersion()}; llm-finops ${commit()}; load average ${fmt(loadBefore, 2)} before, ${fmt(loadavg()[0] ?? 0, 2)} after; ${fmt(elapsed)} s.`,
      `History: ${opts.historyHours} h before the run and ${fmt(futureMs / 60_000)} min after, a sample every ${opts.scrapeSeconds} s, ${fmt(samples)} samples (users: ${populations.map((p) => fmt(p.users)).join(', ')}); promtool ${fmt(promtoolSeconds, 1)} s. Caps over ${opts.windows === 'calendar' ? 'day and month (calendar windows)' : '1h and 2h (rolling windows)'}.`,
      '',
      '### Decisions: max throughput',
      '',
      throughputTable(results, opts),
      '',
      '### Decisions: in process',
      '',
      decideTable(results),
      '',
      '### Decisions: latency at a fixed rate',
      '',
      latencyTable(results, opts),
      '',
      '### Reading spend: refresh',
      '',
      refreshTable(results),
      '',
      '### Reading spend: memory',
      '',
      memoryTable(results),
      '',
      results.map(profileTable).filter(Boolean).join('\n\n'),
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
    if (opts.json) writeFileSync(opts.json, JSON.stringify({ opts, samples, results }, null, 1));
  } finally {
    for (const stop of cleanup.reverse()) await stop();
    // Keep CPU profiles; everything else goes.
    if (!opts.profile) rmSync(dir, { recursive: true, force: true });
    else
      for (const sub of ['data', 'conf']) rmSync(join(dir, sub), { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
