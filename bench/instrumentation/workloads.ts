/** The benchmark's workloads and the messages between the runner and its workers. */

export type WorkloadName =
  | 'openai-chat'
  | 'openai-chat-stream'
  | 'openai-chat-stream-usage'
  | 'anthropic-messages'
  | 'anthropic-messages-stream'
  | 'openai-embeddings';

export interface Workload {
  readonly title: string;
  readonly stream: boolean;
  /** Calls per timed block (0.1 to 0.3 s each here), and warm-up calls before the first. */
  readonly blockCalls: number;
  readonly warmup: number;
}

/** Streams have 200 content chunks (the fake provider runs with `--chunks 200`). */
export const STREAM_CHUNKS = 200;

export const WORKLOADS: Readonly<Record<WorkloadName, Workload>> = {
  'openai-chat': {
    title: 'OpenAI chat.completions.create',
    stream: false,
    blockCalls: 100,
    warmup: 300,
  },
  'openai-chat-stream': {
    title: 'OpenAI chat stream, 200 chunks, usage injected by llm-finops',
    stream: true,
    blockCalls: 40,
    warmup: 60,
  },
  'openai-chat-stream-usage': {
    title: 'OpenAI chat stream, 200 chunks, app sets include_usage',
    stream: true,
    blockCalls: 40,
    warmup: 60,
  },
  'anthropic-messages': {
    title: 'Anthropic messages.create',
    stream: false,
    blockCalls: 100,
    warmup: 300,
  },
  'anthropic-messages-stream': {
    title: 'Anthropic messages stream, 200 chunks',
    stream: true,
    blockCalls: 60,
    warmup: 100,
  },
  'openai-embeddings': {
    title: 'OpenAI embeddings.create',
    stream: false,
    blockCalls: 100,
    warmup: 300,
  },
};

/** How a worker is started (its one argument, as JSON). */
export interface WorkerInput {
  readonly workload: WorkloadName;
  readonly url: string;
  readonly warmup: number;
  readonly instrumented: boolean;
  /**
   * Uninstrumented, but each call runs inside `AsyncLocalStorage.run`, as under the OTel context
   * manager llm-finops installs: isolates Node's async-context cost from llm-finops's own work.
   */
  readonly als?: boolean;
  /**
   * An app whose calls run in an active async context, as under a server span or a request's
   * attribution: llm-finops's modes wrap each call in `withAttribution` (one of 100 users), the
   * others in `AsyncLocalStorage.run`. Node 20 then taxes every promise of every mode alike.
   */
  readonly context?: boolean;
  /** The instrumented worker's `/metrics`, read by `check` to compare the counts. */
  readonly metricsUrl?: string;
  /** Side-by-side modes: the instrumentation peer-setup.ts turned on (llm-finops is `llmf`). */
  readonly peer?: PeerName;
  /** False where the peer does not instrument this workload: its calls then make no span. */
  readonly covered?: boolean;
  /**
   * `memory`: the SDK clients get a `fetch` that asks the fake provider once per route, then
   * replays its answer from memory: no socket, no other process, only this one's instructions.
   */
  readonly transport?: 'http' | 'memory';
  /** Instead of answering commands: after the warm-up, make this many calls, print the check, exit. */
  readonly oneShot?: number;
}

/** The instrumentations compared side by side (peer-setup.ts). */
export type PeerName = 'llmf' | 'contrib' | 'traceloop' | 'openlit';

/** What a side-by-side worker's in-memory SDK received (or, for `on`, its Prometheus exposition). */
export interface TelemetryCounts {
  readonly spans: number;
  /** Metric data points (series) held at the end of the run. */
  readonly dataPoints: number;
  readonly metrics: readonly string[];
  /** Attribute keys seen on the first spans. */
  readonly spanAttributes: readonly string[];
}

/** Where peer-setup.ts leaves its `() => Promise<TelemetryCounts>` for the worker. */
export const TELEMETRY_PROBE = Symbol.for('llm-finops.bench.telemetry');

/** Commands, one JSON line each on the worker's stdin; each gets one JSON line back. */
export type WorkerCommand =
  | { readonly type: 'block'; readonly calls: number; readonly profile?: string }
  | { readonly type: 'check' }
  | { readonly type: 'heap'; readonly calls: number }
  | { readonly type: 'exit' };

/** After warm-up. */
export interface WorkerReady {
  readonly ready: true;
  /** Stream items the app's `for await` saw per call (0 for plain calls). */
  readonly chunksPerCall: number;
}

/** One timed block of sequential calls. */
export interface BlockResult {
  readonly calls: number;
  /** Process CPU (user + system, all threads) over the block, microseconds. */
  readonly cpuUs: number;
  readonly wallUs: number;
}

/** After the run, instrumented workers only: every call counted, spans recorded, no errors. */
export interface CheckResult {
  readonly ok: boolean;
  readonly spansRecorded?: boolean;
  readonly requestsCounted?: number;
  readonly expectedCalls: number;
  readonly internalErrors?: number;
  readonly telemetry?: TelemetryCounts;
}

/** Heap used after a forced GC, before and after `calls` more calls. */
export interface HeapResult {
  readonly calls: number;
  readonly beforeBytes: number;
  readonly afterBytes: number;
}
