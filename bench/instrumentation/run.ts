/**
 * Added CPU per instrumented call: the same workloads against the local fake provider, with and
 * without `--require llm-finops/register`, in one run.
 *
 *   npm run build && node dist/bench/instrumentation/run.js [options]
 *
 * The fake provider runs in its own child process, and each workload in each mode in its own
 * worker process (worker.ts), so the only CPU counted is the client's: the app, its SDK, Node's
 * HTTP client and, when instrumented, llm-finops and the OTel SDK. The workers of one workload
 * run side by side, warmed up, and take turns: a block of calls in mode A, then B, then B, then
 * A, … so that drift of a shared machine falls on both. Added CPU is given two ways: the median
 * of the per-block-pair differences B − A, and the difference of the lowest deciles (on a shared
 * machine CPU time is only ever inflated by others, so the fastest blocks are the least
 * disturbed). A round is a fresh set of worker processes.
 *
 * With `--peers`, the same OpenAI workloads also run under the other GenAI instrumentations
 * (OTel contrib, OpenLLMetry, OpenLIT) and under llm-finops reporting into the same in-memory
 * SDK (peer-setup.ts), each in its own process so their OTel versions cannot clash; every
 * worker then makes 100,000 more calls between two forced GCs for the heap growth, and reports
 * the spans and metric data points it produced.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { FAKE_PROVIDER, REGISTER, startFakeProvider } from '../children';
import type { MicroResult } from './micro';
import {
  MAX_THROUGHPUT_LOSS,
  MODES,
  NOT_COVERED,
  PEER_MODES,
  PEER_PACKAGES,
  PEER_SETUP,
  PEER_WORKLOADS,
  workerSetup,
  type Context,
  type Mode,
} from './modes';
import { byCategory, difference, selfTimes, type Category, type FunctionTime } from './profile';
import {
  STREAM_CHUNKS,
  WORKLOADS,
  type BlockResult,
  type CheckResult,
  type HeapResult,
  type TelemetryCounts,
  type WorkerCommand,
  type WorkerInput,
  type WorkerReady,
  type WorkloadName,
} from './workloads';

const ROOT = resolve(__dirname, '..', '..', '..');
const WORKER = join(__dirname, 'worker.js');
const MICRO = join(__dirname, 'micro.js');

const PER_CALL_TARGET_US = 50;
const PER_CHUNK_TARGET_US = 1;

/** A plain call the stream's fixed per-call cost is estimated from. */
const PLAIN_OF: Partial<Record<WorkloadName, WorkloadName>> = {
  'openai-chat-stream': 'openai-chat',
  'openai-chat-stream-usage': 'openai-chat',
  'anthropic-messages-stream': 'anthropic-messages',
};

const HELP = `Usage: node dist/bench/instrumentation/run.js [options]

  --rounds N        fresh worker processes per workload and mode (default 2)
  --blocks N        timed blocks per worker and round, modes taking turns (default 16)
  --scale F         multiply every workload's calls per block by F (default 1)
  --workloads LIST  comma-separated, default all: ${Object.keys(WORKLOADS).join(', ')}
  --modes LIST      comma-separated, default off,als,on: off uninstrumented, als uninstrumented
                    with each call inside AsyncLocalStorage.run (Node's async-context cost
                    alone), on instrumented; also otlp (instrumented, spans exported as OTLP)
  --profile         also profile one more block per workload in every mode (V8 sampling
                    profiler, timed calls only) and print the functions with added self time
  --skip-micro      skip the in-process micro-benchmark of llm-finops's own work (micro.ts)
  --peers           side by side with the other GenAI instrumentations: modes
                    ${PEER_MODES.join(',')}, workloads ${PEER_WORKLOADS.join(',')}, and
                    the heap growth over --heap-calls calls per worker
  --heap-calls N    calls between the two forced GCs of the heap measure (default 100000 with
                    --peers, else 0: not measured); streams make a tenth of them
  --context         an app with an active async context (a server span, a request's
                    attribution): llm-finops's modes attribute each call with withAttribution
                    (100 users), the others run it in AsyncLocalStorage.run; Node 20's async
                    hooks then tax every mode alike, and the table shows what each adds on top
  --transport T     http (default): calls over keep-alive HTTP to the fake provider; memory:
                    its answers replayed in process (no socket, no other process: less noise)
  --json FILE       also write all samples and figures as JSON
  --quick           --rounds 1 --blocks 4 --scale 0.4: a smoke run, figures too noisy to quote
`;

/** Per-call figures of one block. */
interface Sample {
  readonly cpuUs: number;
  readonly wallUs: number;
}

interface Figures {
  readonly median: number;
  readonly p25: number;
  readonly p75: number;
  /** Lowest decile: on a shared machine CPU time is only ever inflated, so this is the least disturbed. */
  readonly p10: number;
  readonly n: number;
}

function quantile(sorted: readonly number[], q: number): number {
  const at = (sorted.length - 1) * q;
  const lo = Math.floor(at);
  const hi = Math.ceil(at);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (at - lo);
}

function figures(values: readonly number[]): Figures {
  const sorted = [...values].sort((a, b) => a - b);
  return {
    median: quantile(sorted, 0.5),
    p25: quantile(sorted, 0.25),
    p75: quantile(sorted, 0.75),
    p10: quantile(sorted, 0.1),
    n: sorted.length,
  };
}

/** Swallows OTLP exports (the parent's CPU is not measured). */
async function startOtlpSink(): Promise<{ server: Server; url: string; requests: () => number }> {
  let requests = 0;
  const server = createHttpServer((req, res) => {
    req.resume();
    req.on('end', () => {
      requests++;
      res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
    });
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as AddressInfo;
  return { server, url: `http://127.0.0.1:${port}/v1/traces`, requests: () => requests };
}

/** The in-process micro-benchmark (micro.ts), instrumented; undefined with the reason if it fails. */
async function runMicro(ctx: Context): Promise<MicroResult | string> {
  const { env, execArgv } = await workerSetup(ctx, 'on');
  const child = spawn(process.execPath, [...execArgv, MICRO], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env,
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const code = await new Promise<number | null>((done) => child.once('exit', done));
  if (code !== 0) return `exited ${code}: ${stderr.trim().split('\n')[0] ?? ''}`;
  return JSON.parse(stdout.trim().split('\n').pop() ?? '') as MicroResult;
}

/** A warmed-up worker process answering commands. */
class Worker {
  private constructor(
    readonly label: string,
    private readonly child: ChildProcess,
    private readonly lines: AsyncIterator<string>,
    private readonly stderr: () => string,
    readonly ready: WorkerReady,
  ) {}

  static async start(
    ctx: Context,
    workload: WorkloadName,
    mode: Mode,
    warmup: number,
    scenario: Pick<WorkerInput, 'context' | 'transport'>,
  ): Promise<Worker> {
    const { env, execArgv, metricsUrl } = await workerSetup(ctx, mode);
    const { instrumented } = MODES[mode];
    const input: WorkerInput = {
      workload,
      url: ctx.url,
      warmup,
      instrumented,
      als: mode === 'als',
      metricsUrl,
      peer: MODES[mode].peer,
      covered: !NOT_COVERED[mode]?.includes(workload),
      ...scenario,
    };
    const child = spawn(process.execPath, [...execArgv, WORKER, JSON.stringify(input)], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env,
    });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
    const label = `${workload}/${mode}`;
    const worker = new Worker(label, child, lines, () => stderr, { ready: true, chunksPerCall: 0 });
    const ready = await worker.read<WorkerReady>();
    return new Worker(label, child, lines, () => stderr, ready);
  }

  private async read<T>(): Promise<T> {
    const next = await this.lines.next();
    if (next.done) {
      const code = await new Promise<number | null>((done) =>
        this.child.exitCode !== null ? done(this.child.exitCode) : this.child.once('exit', done),
      );
      throw new Error(`worker ${this.label} exited (${code}):\n${this.stderr()}`);
    }
    return JSON.parse(next.value) as T;
  }

  async send<T>(command: WorkerCommand): Promise<T> {
    this.child.stdin!.write(`${JSON.stringify(command)}\n`);
    return this.read<T>();
  }

  async close(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise((done) => this.child.once('exit', done));
    this.child.stdin!.end(`${JSON.stringify({ type: 'exit' } satisfies WorkerCommand)}\n`);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }
}

interface Row {
  readonly workload: WorkloadName;
  readonly chunksPerCall: number;
  /** CPU µs per call, by mode, over all blocks. */
  readonly cpu: Record<string, Figures>;
  /** Wall µs per call, by mode. */
  readonly wall: Record<string, Figures>;
  /** Paired block differences mode − off, CPU µs per call. */
  readonly added: Record<string, Figures>;
}

const fmt = (n: number, digits = 0): string => n.toFixed(digits);
const spread = (f: Figures, digits = 0): string =>
  `${fmt(f.median, digits)} (${fmt(f.p25, digits)} … ${fmt(f.p75, digits)})`;

/** Added CPU per call of `mode`: paired-block median and quartiles, and the p10 difference. */
function addedOf(row: Row, mode: Mode): { paired: number; p25: number; p75: number; p10: number } {
  const f = row.added[mode]!;
  return { paired: f.median, p25: f.p25, p75: f.p75, p10: row.cpu[mode]!.p10 - row.cpu.off!.p10 };
}

/** Stream cost per chunk, net of the median added cost of the same SDK's plain call. */
function perChunk(row: Row, rows: ReadonlyMap<WorkloadName, Row>, mode: Mode) {
  const plainName = PLAIN_OF[row.workload];
  const plainRow = plainName ? rows.get(plainName) : undefined;
  const stream = addedOf(row, mode);
  const plain = plainRow ? addedOf(plainRow, mode) : { paired: 0, p10: 0 };
  const per = (v: number, base: number): number => (v - base) / row.chunksPerCall;
  return {
    paired: per(stream.paired, plain.paired),
    p25: per(stream.p25, plain.paired),
    p75: per(stream.p75, plain.paired),
    p10: per(stream.p10, plain.p10),
  };
}

/**
 * Met when even the upper quartile of the paired differences and the p10 estimate are under the
 * target, not met when even the lower quartile and the p10 estimate are over it; else the noise
 * of the machine does not allow a verdict.
 */
function verdict(
  e: { p25: number; p75: number; p10: number },
  target: number,
  unit: string,
): string {
  const word =
    e.p75 < target && e.p10 < target
      ? 'met'
      : e.p25 >= target && e.p10 >= target
        ? 'NOT met'
        : 'unclear (noise)';
  return `${word} (< ${target} ${unit})`;
}

function mainTable(rows: readonly Row[], modes: readonly Mode[]): string {
  const als = modes.includes('als');
  const out = [
    `| Workload | stream items/call | uninstrumented CPU µs/call, p10 / median | instrumented CPU µs/call, p10 / median | added µs/call: median of paired blocks (p25 … p75) | added µs/call: p10 difference |${als ? ' of which Node async context: `als` − `off`, paired median |' : ''} added µs/chunk, net of the plain call: paired / p10 | throughput, instrumented ÷ uninstrumented | target |`,
    `|---|--:|--:|--:|--:|--:|${als ? '--:|' : ''}--:|--:|---|`,
  ];
  const byName = new Map(rows.map((r) => [r.workload, r]));
  for (const r of rows) {
    const w = WORKLOADS[r.workload];
    const added = addedOf(r, 'on');
    let chunkCell = '–';
    let target: string;
    if (w.stream) {
      const c = perChunk(r, byName, 'on');
      chunkCell = `${fmt(c.paired, 2)} / ${fmt(c.p10, 2)}`;
      target = verdict(c, PER_CHUNK_TARGET_US, 'µs/chunk');
    } else {
      target = verdict(added, PER_CALL_TARGET_US, 'µs/call');
    }
    const throughput = r.wall.off!.median / r.wall.on!.median;
    const cells = [
      w.title,
      String(r.chunksPerCall || '–'),
      `${fmt(r.cpu.off!.p10)} / ${fmt(r.cpu.off!.median)}`,
      `${fmt(r.cpu.on!.p10)} / ${fmt(r.cpu.on!.median)}`,
      spread(r.added.on!),
      fmt(added.p10),
      ...(als ? [fmt(r.added.als!.median)] : []),
      chunkCell,
      fmt(throughput, 2),
      target,
    ];
    out.push(`| ${cells.join(' | ')} |`);
  }
  return out.join('\n');
}

function modesTable(rows: readonly Row[], modes: readonly Mode[]): string {
  const extra = modes.filter((m) => m !== 'off');
  const out = [
    `| Workload | ${extra.map((m) => `\`${m}\` − \`off\`, CPU µs/call`).join(' | ')} |`,
    `|---|${extra.map(() => '--:').join('|')}|`,
  ];
  for (const r of rows) {
    out.push(
      `| ${WORKLOADS[r.workload].title} | ${extra.map((m) => spread(r.added[m]!)).join(' | ')} |`,
    );
  }
  return out.join('\n');
}

/** Heap growth per call in bytes, or undefined when not measured. */
function heapPerCall(heaps: ReadonlyMap<string, HeapResult>, key: string): number | undefined {
  const h = heaps.get(key);
  return h ? (h.afterBytes - h.beforeBytes) / h.calls : undefined;
}

/** Which kinds of telemetry a mode's spans and metrics carry, read from their names. */
function kinds(t: TelemetryCounts | undefined): { tokens: boolean; cost: boolean; user: boolean } {
  const names = [...(t?.metrics ?? []), ...(t?.spanAttributes ?? [])].join(' ');
  return { tokens: /token/i.test(names), cost: /cost|usd/i.test(names), user: /user/i.test(names) };
}

/** The side-by-side tables: cost per workload and mode, verdicts, and what each mode produced. */
function printPeers(
  rows: readonly Row[],
  modes: readonly Mode[],
  heaps: ReadonlyMap<string, HeapResult>,
  produced: ReadonlyMap<string, CheckResult>,
): void {
  console.log('Modes:\n');
  for (const mode of modes) console.log(`- \`${mode}\`: ${MODES[mode].title}`);
  const heapCalls = [...heaps.values()].map((h) => h.calls);
  const heapNote = heapCalls.length
    ? `heap growth over ${[...new Set(heapCalls)].join(' / ')} calls (forced GC before and after), KB (bytes/call)`
    : 'heap growth (not measured)';
  for (const r of rows) {
    console.log(`\n#### ${WORKLOADS[r.workload].title}\n`);
    console.log(
      `| mode | CPU µs/call, p10 / median | added µs/call: median of paired blocks (p25 … p75) | added µs/call: p10 difference | throughput ÷ uninstrumented | ${heapNote} |`,
    );
    console.log('|---|--:|--:|--:|--:|--:|');
    for (const mode of modes) {
      const key = `${r.workload}/${mode}`;
      const perCall = heapPerCall(heaps, key);
      const h = heaps.get(key);
      const heapCell =
        h && perCall !== undefined
          ? `${fmt((h.afterBytes - h.beforeBytes) / 1024)} (${fmt(perCall, 1)})`
          : '–';
      const cpu = `${fmt(r.cpu[mode]!.p10)} / ${fmt(r.cpu[mode]!.median)}`;
      if (mode === 'off') {
        console.log(`| \`off\` | ${cpu} | – | – | 1 | ${heapCell} |`);
        continue;
      }
      const added = addedOf(r, mode);
      const throughput = r.wall.off!.median / r.wall[mode]!.median;
      console.log(
        `| \`${mode}\` | ${cpu} | ${spread(r.added[mode]!)} | ${fmt(added.p10)} | ${fmt(throughput, 3)} | ${heapCell} |`,
      );
    }
  }

  const peers = modes.filter((m) => PEER_PACKAGES[m]);
  const ours = modes.filter((m) => m === 'on' || m === 'llmf');
  if (peers.length && ours.length) {
    console.log(
      `\nTargets: llm-finops adds less CPU per call than each peer (paired median and p10 difference both lower), and loses at most ${MAX_THROUGHPUT_LOSS * 100}% throughput; a peer is not compared where it does not instrument the workload (${Object.entries(
        NOT_COVERED,
      )
        .map(([m, w]) => `${m}: ${w.join(', ')}`)
        .join('; ')}):\n`,
    );
    console.log(
      '| workload | llm-finops mode | less CPU than | more CPU than | throughput loss | met |',
    );
    console.log('|---|---|---|---|--:|---|');
    for (const r of rows) {
      for (const mode of ours) {
        const mine = addedOf(r, mode);
        const compared = peers.filter((p) => !NOT_COVERED[p]?.includes(r.workload));
        const beaten = compared.filter((p) => {
          const theirs = addedOf(r, p);
          return mine.paired < theirs.paired && mine.p10 < theirs.p10;
        });
        const notBeaten = compared.filter((p) => !beaten.includes(p));
        const loss = 1 - r.wall.off!.median / r.wall[mode]!.median;
        const met = notBeaten.length === 0 && loss <= MAX_THROUGHPUT_LOSS;
        console.log(
          `| ${WORKLOADS[r.workload].title} | \`${mode}\` | ${beaten.join(', ') || '–'} | ${notBeaten.join(', ') || '–'} | ${fmt(loss * 100, 1)}% | ${met ? 'met' : 'NOT met'} |`,
        );
      }
    }
  }

  console.log(
    '\nWhat each mode produced over the whole run (timed, warm-up and heap calls; all workloads): spans ended, metric data points held at the end (series; for `on`, lines of its Prometheus exposition, histogram buckets included), and which kinds of data its metric names and span attributes carry:\n',
  );
  console.log('| mode | calls | spans | metric data points | metrics | tokens | cost | per user |');
  console.log('|---|--:|--:|--:|---|---|---|---|');
  for (const mode of modes) {
    if (mode === 'off' || mode === 'als') continue;
    let calls = 0;
    let spans = 0;
    let points = 0;
    const metrics = new Set<string>();
    const attributes = new Set<string>();
    for (const r of rows) {
      const c = produced.get(`${r.workload}/${mode}`);
      calls += c?.expectedCalls ?? 0;
      spans += c?.telemetry?.spans ?? 0;
      points += c?.telemetry?.dataPoints ?? 0;
      for (const m of c?.telemetry?.metrics ?? []) metrics.add(m);
      for (const a of c?.telemetry?.spanAttributes ?? []) attributes.add(a);
    }
    const k = kinds({
      spans,
      dataPoints: points,
      metrics: [...metrics],
      spanAttributes: [...attributes],
    });
    const yes = (b: boolean): string => (b ? 'yes' : 'no');
    console.log(
      `| \`${mode}\` | ${calls} | ${spans} | ${points} | ${[...metrics].join(', ') || '–'} | ${yes(k.tokens)} | ${yes(k.cost)} | ${yes(k.user)} |`,
    );
  }
  const attrs = modes
    .filter((m) => m !== 'off' && m !== 'als')
    .map((m) => {
      const set = new Set<string>();
      for (const r of rows)
        for (const a of produced.get(`${r.workload}/${m}`)?.telemetry?.spanAttributes ?? [])
          set.add(a);
      return `- \`${m}\`: ${[...set].sort().join(', ') || '(no spans)'}`;
    });
  console.log(`\nSpan attributes seen, by mode:\n\n${attrs.join('\n')}`);
}

function machine(): Record<string, string> {
  const version = (pkg: string): string => {
    try {
      const file = join(ROOT, 'node_modules', pkg, 'package.json');
      return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
    } catch {
      return '?';
    }
  };
  return {
    cpu: cpus()[0]?.model.trim() ?? '?',
    cpus: String(cpus().length),
    node: process.version,
    openai: version('openai'),
    anthropic: version('@anthropic-ai/sdk'),
    peers: Object.values(PEER_PACKAGES)
      .map((pkg) => `${pkg} ${version(pkg)}`)
      .join(', '),
    platform: `${process.platform} ${process.arch}`,
  };
}

function printProfile(
  workload: WorkloadName,
  mode: Mode,
  off: FunctionTime[],
  on: FunctionTime[],
): void {
  const catOff = byCategory(off);
  const catOn = byCategory(on);
  console.log(
    `\n#### ${WORKLOADS[workload].title}, \`${mode}\`: profiled self time, µs per call\n`,
  );
  console.log(`| category | uninstrumented | \`${mode}\` | added |\n|---|--:|--:|--:|`);
  for (const c of Object.keys(catOn) as Category[]) {
    console.log(
      `| ${c} | ${fmt(catOff[c], 1)} | ${fmt(catOn[c], 1)} | ${fmt(catOn[c] - catOff[c], 1)} |`,
    );
  }
  console.log(`\nMost added self time (\`${mode}\` − uninstrumented), µs per call:\n`);
  console.log('| µs/call | function | where |\n|--:|---|---|');
  for (const t of difference(on, off).slice(0, 15)) {
    console.log(`| ${fmt(t.selfUs, 1)} | ${t.name} | ${t.where} |`);
  }
  console.log(
    `\nInstrumentation and OpenTelemetry functions by self time (\`${mode}\`), µs per call:\n`,
  );
  console.log('| µs/call | function | where |\n|--:|---|---|');
  const ours = on.filter((t) => t.category !== 'other' && t.category !== 'gc');
  for (const t of ours.slice(0, 20))
    console.log(`| ${fmt(t.selfUs, 1)} | ${t.name} | ${t.where} |`);
}

interface Options {
  readonly rounds: number;
  readonly blocks: number;
  readonly scale: number;
  readonly workloads: WorkloadName[];
  readonly modes: Mode[];
  readonly profile: boolean;
  readonly micro: boolean;
  readonly json?: string;
  readonly peers: boolean;
  readonly heapCalls: number;
  readonly context: boolean;
  readonly transport: 'http' | 'memory';
}

function options(): Options | undefined {
  const { values } = parseArgs({
    options: {
      rounds: { type: 'string' },
      blocks: { type: 'string' },
      scale: { type: 'string' },
      workloads: { type: 'string' },
      modes: { type: 'string' },
      profile: { type: 'boolean', default: false },
      json: { type: 'string' },
      peers: { type: 'boolean', default: false },
      'heap-calls': { type: 'string' },
      context: { type: 'boolean', default: false },
      transport: { type: 'string', default: 'http' },
      quick: { type: 'boolean', default: false },
      'skip-micro': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(HELP);
    return undefined;
  }
  const opts: Options = {
    rounds: Number(values.rounds ?? (values.quick ? 1 : 2)),
    blocks: Number(values.blocks ?? (values.quick ? 4 : 16)),
    scale: Number(values.scale ?? (values.quick ? 0.4 : 1)),
    workloads: (values.workloads?.split(',') ??
      (values.peers ? PEER_WORKLOADS : Object.keys(WORKLOADS))) as WorkloadName[],
    modes: (values.modes?.split(',') ??
      (values.peers ? PEER_MODES : ['off', 'als', 'on'])) as Mode[],
    profile: values.profile,
    // The peers run is about the comparison; the micro-benchmark stays with the default run.
    micro: !values['skip-micro'] && !values.peers,
    json: values.json,
    peers: values.peers,
    heapCalls: Number(values['heap-calls'] ?? (values.peers ? 100_000 : 0)),
    context: values.context,
    transport: values.transport as Options['transport'],
  };
  if (opts.transport !== 'http' && opts.transport !== 'memory') {
    throw new Error('--transport must be http or memory');
  }
  for (const w of opts.workloads) if (!(w in WORKLOADS)) throw new Error(`unknown workload ${w}`);
  for (const m of opts.modes) if (!(m in MODES)) throw new Error(`unknown mode ${m}`);
  const peerModes = opts.modes.filter((m) => MODES[m].peer && m !== 'llmf');
  const notOpenAi = opts.workloads.filter((w) => !PEER_WORKLOADS.includes(w));
  if (peerModes.length && notOpenAi.length) {
    throw new Error(
      `modes ${peerModes.join(',')} instrument OpenAI only, not ${notOpenAi.join(',')}`,
    );
  }
  if (!(opts.heapCalls >= 0)) throw new Error('--heap-calls must be >= 0');
  if (!opts.modes.includes('off') || !opts.modes.includes('on')) {
    throw new Error('--modes must include off and on');
  }
  if (!(opts.rounds >= 1 && opts.blocks >= 1 && opts.scale > 0)) {
    throw new Error('--rounds and --blocks must be >= 1, --scale > 0');
  }
  return opts;
}

async function main(): Promise<void> {
  const opts = options();
  if (!opts) return;
  for (const file of [WORKER, REGISTER, FAKE_PROVIDER, PEER_SETUP]) {
    if (!existsSync(file)) throw new Error(`${file} is missing: run npm run build first`);
  }
  const { rounds, blocks, scale, workloads, modes } = opts;
  const started = Date.now();
  const loadBefore = loadavg()[0]!;
  if (loadBefore > 1) {
    process.stderr.write(
      `warning: load average ${fmt(loadBefore, 1)} before the run: other processes will inflate and scatter the CPU figures\n`,
    );
  }
  const fake = await startFakeProvider(['--chunks', String(STREAM_CHUNKS)]);
  const sink = modes.includes('otlp') ? await startOtlpSink() : undefined;
  const ctx: Context = { url: fake.url, otlpUrl: sink?.url };
  const samples = new Map<string, Sample[]>();
  /** By `workload/mode`: heap growth per call (last round) and what the worker produced. */
  const heaps = new Map<string, HeapResult>();
  const produced = new Map<string, CheckResult>();
  const chunks = new Map<WorkloadName, number>();
  /** By workload: profiled self times of each mode. */
  const profiles: Partial<Record<WorkloadName, Partial<Record<Mode, FunctionTime[]>>>> = {};
  const profileDir = opts.profile ? mkdtempSync(join(tmpdir(), 'llm-finops-bench-')) : undefined;
  const blockCalls = (w: WorkloadName) => Math.max(5, Math.round(WORKLOADS[w].blockCalls * scale));
  try {
    for (const workload of workloads) {
      const calls = blockCalls(workload);
      const warmup = Math.max(10, Math.round(WORKLOADS[workload].warmup * scale));
      for (let round = 0; round < rounds; round++) {
        // Warm-ups run side by side; only the blocks, one worker at a time, are timed.
        const scenario = { context: opts.context, transport: opts.transport };
        const workers = await Promise.all(
          modes.map((m) => Worker.start(ctx, workload, m, warmup, scenario)),
        );
        try {
          for (const w of workers) {
            const seen = chunks.get(workload) ?? w.ready.chunksPerCall;
            if (w.ready.chunksPerCall !== seen) {
              throw new Error(
                `${w.label}: the app saw ${w.ready.chunksPerCall} stream items per call, not ${seen}`,
              );
            }
            chunks.set(workload, seen);
          }
          for (let block = 0; block < blocks; block++) {
            // A B, B A, A B, …: each mode goes first as often as last.
            const order = (block + round) % 2 === 0 ? modes : [...modes].reverse();
            for (const mode of order) {
              const result = await workers[modes.indexOf(mode)]!.send<BlockResult>({
                type: 'block',
                calls,
              });
              const key = `${workload}/${mode}`;
              const list = samples.get(key) ?? [];
              list[round * blocks + block] = {
                cpuUs: result.cpuUs / calls,
                wallUs: result.wallUs / calls,
              };
              samples.set(key, list);
            }
          }
          if (profileDir && round === rounds - 1) {
            const times: Partial<Record<Mode, FunctionTime[]>> = {};
            for (const mode of modes) {
              const file = join(profileDir, `${workload}.${mode}.cpuprofile`);
              // Longer than a timed block: more samples per function.
              const profiled = calls * 10;
              await workers[modes.indexOf(mode)]!.send<BlockResult>({
                type: 'block',
                calls: profiled,
                profile: file,
              });
              times[mode] = selfTimes(file, profiled, ROOT);
            }
            profiles[workload] = times;
          }
          if (opts.heapCalls > 0 && round === rounds - 1) {
            // Not timed: the workers run side by side.
            const calls = WORKLOADS[workload].stream ? opts.heapCalls / 10 : opts.heapCalls;
            const results = await Promise.all(
              workers.map((w) => w.send<HeapResult>({ type: 'heap', calls })),
            );
            results.forEach((r, i) => heaps.set(`${workload}/${modes[i]!}`, r));
          }
          for (const [i, w] of workers.entries()) {
            const check = await w.send<CheckResult>({ type: 'check' });
            if (!check.ok)
              throw new Error(`${w.label}: instrumentation check failed: ${JSON.stringify(check)}`);
            produced.set(`${workload}/${modes[i]!}`, check);
          }
        } finally {
          await Promise.all(workers.map((w) => w.close()));
        }
        const line = modes
          .map((m) => {
            const s = samples.get(`${workload}/${m}`)!.slice(round * blocks);
            return `${m} ${fmt(figures(s.map((x) => x.cpuUs)).median)}`;
          })
          .join(', ');
        process.stderr.write(`${workload} round ${round + 1}/${rounds}: CPU µs/call ${line}\n`);
      }
    }
  } finally {
    sink?.server.close();
    fake.child.kill('SIGTERM');
  }
  const micro = opts.micro ? await runMicro(ctx) : undefined;

  const rows: Row[] = workloads.map((workload) => {
    const cpu: Record<string, Figures> = {};
    const wall: Record<string, Figures> = {};
    const added: Record<string, Figures> = {};
    const off = samples.get(`${workload}/off`)!;
    for (const mode of modes) {
      const s = samples.get(`${workload}/${mode}`)!;
      cpu[mode] = figures(s.map((x) => x.cpuUs));
      wall[mode] = figures(s.map((x) => x.wallUs));
      if (mode !== 'off') added[mode] = figures(s.map((x, i) => x.cpuUs - off[i]!.cpuUs));
    }
    return { workload, chunksPerCall: chunks.get(workload) ?? 0, cpu, wall, added };
  });

  const m = machine();
  console.log('## llm-finops instrumentation overhead\n');
  console.log(
    `${m.cpu}, ${m.cpus} CPUs, Node ${m.node} (${m.platform}); openai ${m.openai}, @anthropic-ai/sdk ${m.anthropic}${modes.some((x) => PEER_PACKAGES[x]) ? `; ${m.peers}` : ''}.`,
  );
  console.log(
    `1-minute load average before the run ${fmt(loadBefore, 2)}, after ${fmt(loadavg()[0]!, 2)} (the benchmark itself keeps about 1.3 CPUs busy).`,
  );
  console.log(
    `${rounds} round(s) × ${blocks} blocks per workload and mode; calls per block: ${workloads.map((w) => `${w} ${blockCalls(w)}`).join(', ')}.`,
  );
  console.log(
    `Transport: ${opts.transport === 'http' ? 'keep-alive HTTP to the fake provider' : "the fake provider's answers replayed in process"}. ${opts.context ? "Async context active in every mode (llm-finops's modes: withAttribution over 100 users; others: AsyncLocalStorage.run)." : 'No async context but what each instrumentation makes itself.'}\n`,
  );
  if (opts.peers || modes.some((x) => MODES[x].peer)) {
    printPeers(rows, modes, heaps, produced);
  } else console.log(mainTable(rows, modes));
  if (modes.includes('otlp')) {
    console.log('\nAdded CPU per call by mode, median (p25 … p75) of paired blocks:\n');
    for (const mode of modes) console.log(`- \`${mode}\`: ${MODES[mode].title}`);
    console.log(`\n${modesTable(rows, modes)}`);
    const byName = new Map(rows.map((r) => [r.workload, r]));
    const streams = rows.filter((r) => WORKLOADS[r.workload].stream);
    if (streams.length) {
      console.log('\nAdded CPU per stream chunk by mode, net of the plain call (µs):\n');
      console.log(`| Workload | ${modes.filter((x) => x !== 'off').join(' | ')} |`);
      console.log(
        `|---|${modes
          .filter((x) => x !== 'off')
          .map(() => '--:')
          .join('|')}|`,
      );
      for (const r of streams) {
        const cells = modes
          .filter((x) => x !== 'off')
          .map((x) => {
            return fmt(perChunk(r, byName, x).paired, 2);
          });
        console.log(`| ${WORKLOADS[r.workload].title} | ${cells.join(' | ')} |`);
      }
    }
  }
  if (typeof micro === 'string') console.log(`\nMicro-benchmark skipped: ${micro}`);
  else if (micro) {
    const net = (micro.streamObservedUs - micro.streamBareUs - micro.perCallUs) / micro.chunks;
    console.log(
      "\nllm-finops's own work, in process (no SDK, no HTTP, no other process), medians:\n",
    );
    console.log('| measure | CPU µs |\n|---|--:|');
    console.log(
      `| per plain chat call: plan, span, price, metrics, end | ${fmt(micro.perCallUs, 1)} |`,
    );
    console.log(
      `| stream of ${micro.chunks} chunks, iterated bare | ${fmt(micro.streamBareUs, 1)} |`,
    );
    console.log(
      `| the same stream, observed by llm-finops (usage injected and hidden) | ${fmt(micro.streamObservedUs, 1)} |`,
    );
    console.log(`| added per chunk, net of the per-call work | ${fmt(net, 2)} |`);
  }
  if (sink) console.log(`\nThe OTLP sink received ${sink.requests()} trace exports.`);
  if (profileDir) {
    console.log(`\n### CPU profiles of one timed block per workload (${profileDir})`);
    for (const workload of workloads) {
      const p = profiles[workload];
      if (!p) continue;
      for (const mode of modes) if (mode !== 'off') printProfile(workload, mode, p.off!, p[mode]!);
    }
  }
  if (opts.json) {
    const json = {
      machine: m,
      loadBefore,
      ...opts,
      rows,
      micro,
      heaps: Object.fromEntries(heaps),
      produced: Object.fromEntries(produced),
      samples: Object.fromEntries(samples),
    };
    writeFileSync(opts.json, `${JSON.stringify(json, null, 2)}\n`);
  }
  process.stderr.write(`done in ${fmt((Date.now() - started) / 1000)} s\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
