/**
 * In-process micro-benchmark of llm-finops's own work, without the SDK, HTTP or another process:
 * far less noisy than the end-to-end figures, and a floor for them.
 *
 * - per call: plan an OpenAI chat call, start its span, run in it, normalise the usage, price it,
 *   record the metrics and end the span (what `create` adds around the SDK, minus the promise
 *   glue and the async-context cost on the SDK's own promises);
 * - per chunk: an in-memory stream of 202 chat chunks iterated bare, and iterated through the
 *   stream observer llm-finops puts on an SDK `Stream` (usage injected, usage chunk hidden).
 *
 * Run by run.ts under `--require dist/instrumentation/register.js` with metrics in memory. The
 * internals are loaded at run time from dist (so a change of their signatures cannot break the
 * build, only this measurement, which run.ts then reports as skipped).
 */
import { createRequire } from 'node:module';
import { join } from 'node:path';

type Body = Record<string, unknown>;

interface Plan {
  readonly start: object;
  readonly args?: unknown[];
  observe: (value: unknown, call: object) => void;
}
type Planner = (self: { _client?: object }, args: unknown[], runtime: unknown) => Plan | undefined;

interface Internals {
  getRuntime: () => unknown;
  LlmCall: new (runtime: unknown, start: object) => { runInSpan<T>(fn: () => T): T };
  chatPlanner: Planner;
}

export interface MicroResult {
  /** µs of llm-finops work per plain chat call (median of blocks). */
  readonly perCallUs: number;
  /** µs per call and chunk, iterating the stream bare and observed (medians of blocks). */
  readonly streamBareUs: number;
  readonly streamObservedUs: number;
  readonly chunks: number;
}

function load(): Internals {
  const req = createRequire(__filename);
  const dist = join(__dirname, '..', '..', 'instrumentation');
  const setup = req(join(dist, 'setup.js')) as { getRuntime: () => unknown };
  const recorder = req(join(dist, 'recorder.js')) as { LlmCall: Internals['LlmCall'] };
  const openai = req(join(dist, 'providers', 'openai.js')) as {
    openAITargets(mod: unknown): [object | undefined, Planner][];
  };
  const prototype = {};
  const targets = openai.openAITargets({ OpenAI: { Chat: { Completions: { prototype } } } });
  const chat = targets.find(([proto]) => proto === prototype);
  if (!chat) throw new Error('no chat planner in openAITargets');
  return { getRuntime: setup.getRuntime, LlmCall: recorder.LlmCall, chatPlanner: chat[1] };
}

const CHUNKS = 200;
const MODEL = 'gpt-4o-mini';
const usage = {
  prompt_tokens: 12,
  completion_tokens: CHUNKS,
  total_tokens: 12 + CHUNKS,
  prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
  completion_tokens_details: { reasoning_tokens: 0, audio_tokens: 0 },
};
const completion = {
  id: 'chatcmpl-bench',
  object: 'chat.completion',
  created: 1,
  model: MODEL,
  choices: [{ index: 0, message: { role: 'assistant', content: 'x' }, finish_reason: 'stop' }],
  usage,
};

/** Chunks as the SDK yields them when usage was asked for: `usage: null`, then a usage chunk. */
function chunk(i: number, last: boolean): Body {
  const delta = i === 0 ? { role: 'assistant', content: '' } : last ? {} : { content: ' word' };
  return {
    id: 'chatcmpl-bench',
    object: 'chat.completion.chunk',
    created: 1,
    model: MODEL,
    choices: [{ index: 0, delta, logprobs: null, finish_reason: last ? 'stop' : null }],
    usage: null,
  };
}
const TEMPLATES = [
  ...Array.from({ length: CHUNKS + 2 }, (_, i) => chunk(i, i === CHUNKS + 1)),
  {
    id: 'chatcmpl-bench',
    object: 'chat.completion.chunk',
    created: 1,
    model: MODEL,
    choices: [],
    usage,
  },
];

/** A fresh stream each time: the observer deletes `usage` from the chunks it passes on. */
// eslint-disable-next-line @typescript-eslint/require-await -- in memory: nothing to wait for
async function* source(): AsyncGenerator<Body> {
  for (const t of TEMPLATES) yield { ...t };
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

function cpuUs(): number {
  const u = process.cpuUsage();
  return u.user + u.system;
}

export async function runMicro(blocks = 15): Promise<MicroResult> {
  const { getRuntime, LlmCall, chatPlanner } = load();
  const runtime = getRuntime();
  const self = { _client: { baseURL: 'http://127.0.0.1:8080/v1' } };
  const plainBody = { model: MODEL, messages: [{ role: 'user', content: 'hi' }] };
  const streamBody = { ...plainBody, stream: true };

  const oneCall = (): void => {
    const plan = chatPlanner(self, [plainBody], runtime)!;
    const call = new LlmCall(runtime, plan.start);
    call.runInSpan(() => plan.args);
    plan.observe(completion, call);
  };
  const bare = async (): Promise<number> => {
    let n = 0;
    for await (const c of source()) n += c ? 1 : 0;
    return n;
  };
  const observed = async (): Promise<number> => {
    const plan = chatPlanner(self, [streamBody], runtime)!;
    const call = new LlmCall(runtime, plan.start);
    const stream = { iterator: (): AsyncIterator<Body> => source() };
    plan.observe(stream, call);
    const iterable = { [Symbol.asyncIterator]: () => stream.iterator() };
    let n = 0;
    for await (const c of iterable) n += c ? 1 : 0;
    return n;
  };

  const perCall: number[] = [];
  const streamBare: number[] = [];
  const streamObserved: number[] = [];
  const CALLS = 2000;
  const STREAMS = 100;
  for (let i = 0; i < 500; i++) oneCall();
  for (let i = 0; i < 50; i++) await bare();
  for (let i = 0; i < 50; i++) await observed();
  let chunks = 0;
  for (let b = 0; b < blocks; b++) {
    let t = cpuUs();
    for (let i = 0; i < CALLS; i++) oneCall();
    perCall.push((cpuUs() - t) / CALLS);
    // Bare and observed take turns going first.
    for (const kind of b % 2 ? (['observed', 'bare'] as const) : (['bare', 'observed'] as const)) {
      t = cpuUs();
      for (let i = 0; i < STREAMS; i++) {
        if (kind === 'bare') await bare();
        else chunks = await observed();
      }
      (kind === 'bare' ? streamBare : streamObserved).push((cpuUs() - t) / STREAMS);
    }
  }
  return {
    perCallUs: median(perCall),
    streamBareUs: median(streamBare),
    streamObservedUs: median(streamObserved),
    chunks,
  };
}

if (require.main === module) {
  runMicro().then(
    (result) => {
      process.stdout.write(`${JSON.stringify(result)}\n`);
      process.exit(0);
    },
    (err: unknown) => {
      process.stderr.write(
        `micro: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
      );
      process.exit(1);
    },
  );
}
