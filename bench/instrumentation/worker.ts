/**
 * One workload in one mode, run by run.ts in its own process: warm up, then, on each `block`
 * command on stdin, make that many sequential calls against the fake provider and answer with
 * the process CPU time (user + system, all threads) and the wall time they took. The runner
 * alternates blocks between the workers of the different modes, so slow drift of the machine
 * (other processes, frequency) falls on both sides of each comparison.
 *
 * The worker never loads llm-finops itself: the instrumented modes get it from
 * `--require dist/instrumentation/register.js`, exactly as an app would. After the timed loop,
 * an instrumented worker checks that every call was counted and that spans are recorded, so a
 * silently inactive instrumentation cannot pass for a cheap one.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import {
  TELEMETRY_PROBE,
  type BlockResult,
  type CheckResult,
  type HeapResult,
  type TelemetryCounts,
  type WorkerCommand,
  type WorkerInput,
  type WorkerReady,
  type WorkloadName,
} from './workloads';

type Call = () => Promise<number>;

/** A `fetch` that asks the network once per method and URL, then replays that answer. */
function replayingFetch(): typeof fetch {
  const answers = new Map<string, { status: number; headers: [string, string][]; body: Buffer }>();
  return async (input, init) => {
    const key = `${init?.method ?? 'GET'} ${String(input instanceof Request ? input.url : input)}`;
    let answer = answers.get(key);
    if (!answer) {
      const res = await fetch(input, init);
      answer = {
        status: res.status,
        headers: [...res.headers],
        body: Buffer.from(await res.arrayBuffer()),
      };
      answers.set(key, answer);
    }
    return new Response(answer.body, { status: answer.status, headers: answer.headers });
  };
}

function callFor(name: WorkloadName, url: string, transport: WorkerInput['transport']): Call {
  const client = {
    apiKey: 'bench',
    maxRetries: 0,
    fetch: transport === 'memory' ? replayingFetch() : undefined,
  };
  const openai = new OpenAI({ ...client, baseURL: `${url}/v1` });
  const anthropic = new Anthropic({ ...client, baseURL: url });
  const messages = [{ role: 'user' as const, content: 'Say something.' }];
  switch (name) {
    case 'openai-chat':
      return async () => {
        await openai.chat.completions.create({ model: 'gpt-4o-mini', messages });
        return 0;
      };
    case 'openai-chat-stream':
    case 'openai-chat-stream-usage': {
      const askUsage = name === 'openai-chat-stream-usage';
      return async () => {
        const stream = await openai.chat.completions.create({
          model: 'gpt-4o-mini',
          messages,
          stream: true,
          ...(askUsage ? { stream_options: { include_usage: true } } : {}),
        });
        let n = 0;
        for await (const chunk of stream) {
          if (!askUsage && chunk.usage) throw new Error('the injected usage chunk reached the app');
          n++;
        }
        return n;
      };
    }
    case 'anthropic-messages':
      return async () => {
        await anthropic.messages.create({ model: 'claude-haiku-4-5', max_tokens: 64, messages });
        return 0;
      };
    case 'anthropic-messages-stream':
      return async () => {
        const stream = await anthropic.messages.create({
          model: 'claude-haiku-4-5',
          max_tokens: 64,
          messages,
          stream: true,
        });
        let n = 0;
        for await (const event of stream) n += event.type ? 1 : 0;
        return n;
      };
    case 'openai-embeddings':
      return async () => {
        await openai.embeddings.create({
          model: 'text-embedding-3-small',
          input: 'Say something.',
        });
        return 0;
      };
  }
}

/** The parts of the instrumentation's runtime a worker checks after its run. */
interface RuntimeModule {
  getRuntime: () => {
    telemetry(): { tracer: { startSpan(name: string): { isRecording(): boolean; end(): void } } };
  };
}
interface GuardModule {
  internalErrorCounts: () => ReadonlyMap<string, number>;
}
interface LibraryModule {
  withAttribution: <T>(a: { user: string; feature: string }, fn: () => T) => T;
}

/** Users the `context` scenario attributes calls to, in turn. */
const CONTEXT_USERS = 100;

/**
 * `plain` inside an active async context: llm-finops's modes through its own `withAttribution`
 * (the package an app loads, the same modules `--require` loaded), the others in a bare
 * AsyncLocalStorage, which turns on the same async hooks.
 */
function inContext(plain: Call, ours: boolean): Call {
  if (!ours) {
    const als = new AsyncLocalStorage<object>();
    return () => als.run({}, plain);
  }
  const load = createRequire(__filename);
  const library = join(__dirname, '..', '..', 'src', 'index.js');
  const { withAttribution } = load(library) as LibraryModule;
  let n = 0;
  return () => withAttribution({ user: `user-${n++ % CONTEXT_USERS}`, feature: 'bench' }, plain);
}

/** Sum of the `llm_requests_total` series in a Prometheus text exposition. */
function requestsCounted(text: string): number {
  let total = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith('llm_requests_total{') || line.startsWith('llm_requests_total ')) {
      total += Number(line.slice(line.lastIndexOf(' ') + 1));
    }
  }
  return total;
}

/** Metrics and series (histogram buckets included) in a Prometheus text exposition. */
function exposed(text: string): TelemetryCounts {
  const lines = text.split('\n');
  const metrics = lines.filter((l) => l.startsWith('# TYPE ')).map((l) => l.split(' ')[2]!);
  const dataPoints = lines.filter((l) => l && !l.startsWith('#') && !l.startsWith('target_info'));
  return { spans: 0, dataPoints: dataPoints.length, metrics, spanAttributes: [] };
}

function internalErrors(): number {
  const load = createRequire(__filename);
  const guard = join(__dirname, '..', '..', 'instrumentation', 'guard.js');
  const { internalErrorCounts } = load(guard) as GuardModule;
  return [...internalErrorCounts().values()].reduce((a, b) => a + b, 0);
}

/**
 * Side-by-side modes: every call made one span at least (none where the peer does not instrument
 * the workload), and llm-finops reported no error.
 */
async function checkPeer(input: WorkerInput, expectedCalls: number): Promise<CheckResult> {
  const probe = (globalThis as Record<symbol, unknown>)[TELEMETRY_PROBE] as
    (() => Promise<TelemetryCounts>) | undefined;
  if (!probe) return { ok: false, expectedCalls };
  const telemetry = await probe();
  const errors = input.peer === 'llmf' ? internalErrors() : 0;
  const spansOk =
    input.covered === false ? telemetry.spans === 0 : telemetry.spans >= expectedCalls;
  const ok = spansOk && errors === 0;
  return { ok, expectedCalls, internalErrors: errors, telemetry };
}

async function check(input: WorkerInput, expectedCalls: number): Promise<CheckResult> {
  if (input.peer) return checkPeer(input, expectedCalls);
  if (!input.instrumented) return { ok: true, expectedCalls };
  const load = createRequire(__filename);
  const dist = join(__dirname, '..', '..', 'instrumentation');
  const { getRuntime } = load(join(dist, 'setup.js')) as RuntimeModule;
  const probe = getRuntime().telemetry().tracer.startSpan('bench probe');
  const spansRecorded = probe.isRecording();
  probe.end();
  let requests = Number.NaN;
  let telemetry: TelemetryCounts | undefined;
  if (input.metricsUrl) {
    const res = await fetch(input.metricsUrl);
    const text = await res.text();
    requests = requestsCounted(text);
    telemetry = exposed(text);
  }
  const errors = internalErrors();
  // With no span exporter llm-finops samples no spans (nothing would receive them).
  const spansExpected = process.env.OTEL_TRACES_EXPORTER !== 'none';
  const ok = spansRecorded === spansExpected && requests === expectedCalls && errors === 0;
  return {
    ok,
    spansRecorded,
    requestsCounted: requests,
    expectedCalls,
    internalErrors: errors,
    telemetry,
  };
}

/** Starts the V8 sampling profiler; the returned function stops it and writes the profile. */
async function startProfile(file: string): Promise<() => Promise<void>> {
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 100 });
  await session.post('Profiler.start');
  return async () => {
    const { profile } = await session.post('Profiler.stop');
    session.disconnect();
    writeFileSync(file, JSON.stringify(profile));
  };
}

/** Heap used after a full collection (twice: the first may leave finalised objects behind). */
function heapAfterGc(): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('the heap measure needs node --expose-gc');
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

function reply(message: WorkerReady | BlockResult | CheckResult | HeapResult): void {
  process.stdout.write(`${JSON.stringify(message)}\n`);
}

async function main(): Promise<void> {
  const input = JSON.parse(process.argv[2] ?? '') as WorkerInput;
  const plain = callFor(input.workload, input.url, input.transport);
  const als = new AsyncLocalStorage<object>();
  const call: Call = input.context
    ? inContext(plain, input.instrumented)
    : input.als
      ? () => als.run({}, plain)
      : plain;
  let made = 0;
  let chunksPerCall = 0;
  for (; made < input.warmup; made++) chunksPerCall = await call();
  // Start from a clean heap; the GC work caused by the timed calls themselves is counted.
  (globalThis as { gc?: () => void }).gc?.();
  if (input.oneShot !== undefined) {
    for (let i = 0; i < input.oneShot; i++) await call();
    reply(await check(input, made + input.oneShot));
    process.exit(0);
  }
  reply({ ready: true, chunksPerCall });

  for await (const line of createInterface({ input: process.stdin })) {
    const command = JSON.parse(line) as WorkerCommand;
    if (command.type === 'exit') break;
    if (command.type === 'check') {
      reply(await check(input, made));
      continue;
    }
    if (command.type === 'heap') {
      const beforeBytes = heapAfterGc();
      for (let i = 0; i < command.calls; i++) await call();
      made += command.calls;
      reply({ calls: command.calls, beforeBytes, afterBytes: heapAfterGc() });
      continue;
    }
    const stopProfile = command.profile ? await startProfile(command.profile) : undefined;
    let chunks = 0;
    const wall0 = process.hrtime.bigint();
    const cpu0 = process.cpuUsage();
    for (let i = 0; i < command.calls; i++) chunks += await call();
    const cpu = process.cpuUsage(cpu0);
    const wallNs = Number(process.hrtime.bigint() - wall0);
    await stopProfile?.();
    made += command.calls;
    if (chunks !== chunksPerCall * command.calls) {
      throw new Error(
        `${input.workload}: streams varied in length (${chunks} items in ${command.calls} calls)`,
      );
    }
    reply({ calls: command.calls, cpuUs: cpu.user + cpu.system, wallUs: wallNs / 1000 });
  }
  // Keep-alive sockets and the /metrics server must not keep a finished worker alive.
  process.exit(0);
}

main().catch((err: unknown) => {
  const cause = (err as { cause?: unknown } | undefined)?.cause;
  const text = (e: unknown): string => (e instanceof Error ? (e.stack ?? e.message) : String(e));
  process.stderr.write(`bench worker: ${text(err)}${cause ? `\ncause: ${text(cause)}` : ''}\n`);
  process.exit(1);
});
