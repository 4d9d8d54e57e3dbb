/**
 * Instructions per call, counted by valgrind's callgrind, for every mode side by side: a count
 * that does not depend on what else the machine runs, where CPU time on a shared 2-vCPU machine
 * scatters by more than the differences between instrumentations.
 *
 * Each worker runs in process (transport `memory`: the fake provider's answer to the first call
 * of a route is replayed from memory, so no socket and no other process is counted) and with V8
 * single-threaded (no concurrent compiler or GC threads, whose work would land at random). It
 * makes the warm-up calls, then N more, and exits; the same without the N calls is the baseline:
 * per call = (count with N − count with 0) / N, for each mode, all in one run.
 *
 *   node dist/bench/instrumentation/instructions.js [--calls N] [--workloads a,b] [--modes a,b]
 */
import { spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { FAKE_PROVIDER, REGISTER, startFakeProvider } from '../children';
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
import {
  STREAM_CHUNKS,
  WORKLOADS,
  type CheckResult,
  type WorkerInput,
  type WorkloadName,
} from './workloads';

const WORKER = join(__dirname, 'worker.js');

const HELP = `Usage: node dist/bench/instrumentation/instructions.js [options]

Instructions per call under valgrind --tool=callgrind, every mode side by side (about 20 minutes
for the defaults on 2 cores).

  --workloads a,b   default ${PEER_WORKLOADS.join(',')}
  --modes a,b       default ${PEER_MODES.join(',')} (off is always run)
  --calls N         counted calls per plain-call workload (default 1000; streams a fifth)
  --warmup N        calls before counting (default 300; streams a fifth)
  --jobs N          valgrind runs at a time (default: the number of CPUs)
  --context         calls in an active async context (see run.js --help)
  --json FILE       also write every count as JSON
`;

interface Count {
  readonly instructions: number;
  readonly check: CheckResult;
}

/** One worker under callgrind: its instruction count, and its check of what it produced. */
async function count(ctx: Context, input: WorkerInput, mode: Mode): Promise<Count> {
  const { env, execArgv, metricsUrl } = await workerSetup(ctx, mode);
  const args = [
    '--tool=callgrind',
    '--callgrind-out-file=/dev/null',
    process.execPath,
    '--single-threaded',
    ...execArgv,
    WORKER,
    JSON.stringify({ ...input, metricsUrl }),
  ];
  const child = spawn('valgrind', args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const code = await new Promise<number | null>((done, fail) => {
    child.once('error', fail);
    child.once('exit', done);
  });
  const collected = /Collected : (\d+)/.exec(stderr);
  if (code !== 0 || !collected) {
    throw new Error(
      `${input.workload}/${mode}: valgrind exited ${code}: ${stderr.trim().split('\n').slice(-3).join(' | ')}`,
    );
  }
  const check = JSON.parse(stdout.trim().split('\n').pop() ?? '') as CheckResult;
  return { instructions: Number(collected[1]), check };
}

/** Runs `tasks` with at most `jobs` at a time, in order of start. */
async function pool<T>(jobs: number, tasks: (() => Promise<T>)[]): Promise<T[]> {
  const results: T[] = new Array<T>(tasks.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < tasks.length) {
      const i = next++;
      results[i] = await tasks[i]!();
    }
  };
  await Promise.all(Array.from({ length: Math.min(jobs, tasks.length) }, worker));
  return results;
}

const fmt = (n: number, digits = 0): string =>
  n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

interface Row {
  readonly workload: WorkloadName;
  readonly calls: number;
  /** Instructions per call, by mode. */
  readonly perCall: Partial<Record<Mode, number>>;
  readonly checks: Partial<Record<Mode, CheckResult>>;
}

function report(rows: readonly Row[], modes: readonly Mode[]): void {
  const peers = modes.filter((m) => PEER_PACKAGES[m]);
  const ours = modes.filter((m) => m === 'on' || m === 'llmf');
  for (const r of rows) {
    const off = r.perCall.off!;
    console.log(`\n#### ${WORKLOADS[r.workload].title} (${r.calls} counted calls)\n`);
    console.log('| mode | instructions per call | added per call | added ÷ uninstrumented |');
    console.log('|---|--:|--:|--:|');
    for (const mode of modes) {
      const v = r.perCall[mode]!;
      const added = mode === 'off' ? '–' : fmt(v - off);
      const ratio = mode === 'off' ? '–' : `${fmt(((v - off) / off) * 100, 1)}%`;
      console.log(`| \`${mode}\` | ${fmt(v)} | ${added} | ${ratio} |`);
    }
  }
  if (!peers.length || !ours.length) return;
  console.log(
    `\nTargets: fewer added instructions per call than each peer, and at most ${MAX_THROUGHPUT_LOSS * 100}% more than uninstrumented (a CPU-bound app's throughput loss); a peer is not compared where it does not instrument the workload:\n`,
  );
  console.log(
    '| workload | llm-finops mode | added | fewer than | not fewer than | added ÷ uninstrumented | met |',
  );
  console.log('|---|---|--:|---|---|--:|---|');
  for (const r of rows) {
    const off = r.perCall.off!;
    for (const mode of ours) {
      const mine = r.perCall[mode]! - off;
      const compared = peers.filter((p) => !NOT_COVERED[p]?.includes(r.workload));
      const beaten = compared.filter((p) => mine < r.perCall[p]! - off);
      const not = compared.filter((p) => !beaten.includes(p));
      const loss = mine / off;
      const met = not.length === 0 && loss <= MAX_THROUGHPUT_LOSS;
      const ratios = beaten.map(
        (p) => `${p} (${fmt((r.perCall[p]! - off) / Math.max(mine, 1), 1)}×)`,
      );
      console.log(
        `| ${WORKLOADS[r.workload].title} | \`${mode}\` | ${fmt(mine)} | ${ratios.join(', ') || '–'} | ${not.join(', ') || '–'} | ${fmt(loss * 100, 1)}% | ${met ? 'met' : 'NOT met'} |`,
      );
    }
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      workloads: { type: 'string' },
      modes: { type: 'string' },
      calls: { type: 'string', default: '1000' },
      warmup: { type: 'string', default: '300' },
      jobs: { type: 'string' },
      context: { type: 'boolean', default: false },
      json: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(HELP);
    return;
  }
  const workloads = (values.workloads?.split(',') ?? PEER_WORKLOADS) as WorkloadName[];
  const requested = (values.modes?.split(',') ?? PEER_MODES) as Mode[];
  const modes: Mode[] = ['off', ...requested.filter((m) => m !== 'off')];
  for (const w of workloads) if (!(w in WORKLOADS)) throw new Error(`unknown workload ${w}`);
  for (const m of modes) if (!(m in MODES)) throw new Error(`unknown mode ${m}`);
  for (const file of [WORKER, REGISTER, FAKE_PROVIDER, PEER_SETUP]) {
    if (!existsSync(file)) throw new Error(`${file} is missing: run npm run build first`);
  }
  const jobs = Number(values.jobs ?? cpus().length);
  const started = Date.now();
  const fake = await startFakeProvider(['--chunks', String(STREAM_CHUNKS)]);
  const ctx: Context = { url: fake.url };
  const rows: Row[] = [];
  try {
    const tasks: (() => Promise<void>)[] = [];
    for (const workload of workloads) {
      const fifth = (n: number) => (WORKLOADS[workload].stream ? Math.round(n / 5) : n);
      const calls = fifth(Number(values.calls));
      const warmup = fifth(Number(values.warmup));
      const row: Row = { workload, calls, perCall: {}, checks: {} };
      rows.push(row);
      for (const mode of modes) {
        const input = (oneShot: number): WorkerInput => ({
          workload,
          url: ctx.url,
          warmup,
          instrumented: MODES[mode].instrumented,
          peer: MODES[mode].peer,
          covered: !NOT_COVERED[mode]?.includes(workload),
          transport: 'memory',
          context: values.context,
          oneShot,
        });
        tasks.push(async () => {
          const [base, counted] = await Promise.all([
            count(ctx, input(0), mode),
            count(ctx, input(calls), mode),
          ]);
          if (!counted.check.ok)
            throw new Error(`${workload}/${mode}: check failed ${JSON.stringify(counted.check)}`);
          row.perCall[mode] = (counted.instructions - base.instructions) / calls;
          row.checks[mode] = counted.check;
          process.stderr.write(
            `${workload}/${mode}: ${fmt(row.perCall[mode])} instructions per call\n`,
          );
        });
      }
    }
    // Each task runs its two counts at once.
    await pool(Math.max(1, Math.floor(jobs / 2)), tasks);
  } finally {
    fake.child.kill('SIGTERM');
  }
  console.log('## Instructions per call (callgrind), every mode side by side\n');
  console.log(
    `${cpus().length} × ${cpus()[0]?.model ?? 'CPU'}, Node ${process.version}; V8 --single-threaded; in-process transport (answers replayed); ${values.context ? 'calls in an active async context; ' : ''}${Object.values(PEER_PACKAGES).join(', ')}.`,
  );
  console.log('\nModes:\n');
  for (const mode of modes) console.log(`- \`${mode}\`: ${MODES[mode].title}`);
  report(rows, modes);
  if (values.json) writeFileSync(values.json, `${JSON.stringify({ modes, rows }, null, 2)}\n`);
  process.stderr.write(`done in ${fmt((Date.now() - started) / 1000)} s\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`instructions: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
