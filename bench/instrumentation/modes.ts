/**
 * The modes a bench worker runs in (uninstrumented, llm-finops, the peer instrumentations) and
 * how each is started: its Node flags and environment, as an app would load it. Shared by the
 * CPU-time runner (run.ts) and the instruction counts (instructions.ts).
 */
import { join } from 'node:path';
import { freePort } from '../../demo/free-port';
import { cleanEnv, REGISTER } from '../children';
import type { PeerName, WorkloadName } from './workloads';

/** The target: at most this throughput lost against uninstrumented. */
export const MAX_THROUGHPUT_LOSS = 0.03;

export const PEER_SETUP = join(__dirname, 'peer-setup.js');

export type Mode = 'off' | 'als' | 'on' | 'otlp' | PeerName;

export const MODES: Record<Mode, { title: string; instrumented: boolean; peer?: PeerName }> = {
  off: { title: 'uninstrumented', instrumented: false },
  als: { title: 'uninstrumented, each call in AsyncLocalStorage.run', instrumented: false },
  on: {
    title:
      'instrumented, its own SDK: metrics in memory (Prometheus), no span made (no trace exporter)',
    instrumented: true,
  },
  otlp: { title: 'instrumented, spans batched and exported as OTLP/protobuf', instrumented: true },
  llmf: {
    title:
      "llm-finops reporting into the app's OTel SDK: spans counted and dropped, metrics in memory",
    instrumented: true,
    peer: 'llmf',
  },
  contrib: {
    title: '@opentelemetry/instrumentation-openai (OTel contrib), same in-memory SDK',
    instrumented: false,
    peer: 'contrib',
  },
  traceloop: {
    title: '@traceloop/instrumentation-openai (OpenLLMetry), same in-memory SDK',
    instrumented: false,
    peer: 'traceloop',
  },
  openlit: {
    title: 'openlit (OpenLIT TypeScript SDK), its tracer provider feeding the same span counter',
    instrumented: false,
    peer: 'openlit',
  },
};

/** The peers instrument OpenAI only (OpenLIT does Anthropic too, the others not): compared on these. */
export const PEER_WORKLOADS: readonly WorkloadName[] = [
  'openai-chat',
  'openai-chat-stream-usage',
  'openai-embeddings',
];
export const PEER_MODES: readonly Mode[] = ['off', 'on', 'llmf', 'contrib', 'traceloop', 'openlit'];
/** What a peer does not instrument at all (OpenLLMetry has no embeddings wrapper): no span expected. */
export const NOT_COVERED: Partial<Record<Mode, readonly WorkloadName[]>> = {
  traceloop: ['openai-embeddings'],
};
/** The packages behind each mode, for the versions line. */
export const PEER_PACKAGES: Partial<Record<Mode, string>> = {
  contrib: '@opentelemetry/instrumentation-openai',
  traceloop: '@traceloop/instrumentation-openai',
  openlit: 'openlit',
};
export interface Context {
  readonly url: string;
  readonly otlpUrl?: string;
}

/** Node flags and environment of a worker in `mode`: instrumented ones load llm-finops as an app would. */
export async function workerSetup(
  ctx: Context,
  mode: Mode,
): Promise<{ env: NodeJS.ProcessEnv; execArgv: string[]; metricsUrl?: string }> {
  const env = cleanEnv();
  const execArgv = ['--expose-gc'];
  const { peer } = MODES[mode];
  if (peer) {
    // The app's SDK and the peer first; llm-finops's register after it, so it finds that SDK.
    env.LLMF_BENCH_TELEMETRY = peer;
    env.OTEL_SERVICE_NAME = 'llm-finops-bench';
    execArgv.push('--require', PEER_SETUP);
    if (peer === 'llmf') execArgv.push('--require', REGISTER);
    return { env, execArgv };
  }
  if (!MODES[mode].instrumented) return { env, execArgv };
  const port = await freePort();
  Object.assign(env, {
    OTEL_SERVICE_NAME: 'llm-finops-bench',
    OTEL_METRICS_EXPORTER: 'prometheus',
    OTEL_EXPORTER_PROMETHEUS_HOST: '127.0.0.1',
    OTEL_EXPORTER_PROMETHEUS_PORT: String(port),
    OTEL_TRACES_EXPORTER: mode === 'otlp' ? 'otlp' : 'none',
  });
  if (mode === 'otlp') {
    env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT = ctx.otlpUrl;
    env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL = 'http/protobuf';
  }
  execArgv.push('--require', REGISTER);
  return { env, execArgv, metricsUrl: `http://127.0.0.1:${port}/metrics` };
}
