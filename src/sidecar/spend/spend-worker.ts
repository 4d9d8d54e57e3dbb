import { parentPort, workerData } from 'node:worker_threads';
import { UserIdTransform } from '../../attribution/user-id';
import { budgetGauges } from '../gauges';
import { SubjectEncoder } from './columns';
import { PrometheusApi } from '../../prometheus/api';
import { SpendReader, type SpendView } from './spend-reader';
import type {
  EncodedView,
  FromSpendThread,
  GaugeConfig,
  QueryTiming,
  SpendThreadInit,
  ToSpendThread,
} from './spend-thread';

/** The spend thread (see spend-thread.ts): reads, computes gauges, answers with columns. */
const port = parentPort;
if (!port) throw new Error('spend-worker runs as a worker thread');
const init = workerData as SpendThreadInit;

let timings: QueryTiming[] = [];
const reader = new SpendReader(
  new PrometheusApi(init.connection),
  init.settings,
  async (name, run) => {
    const started = process.hrtime.bigint();
    const seconds = () => Number(process.hrtime.bigint() - started) / 1e9;
    try {
      const result = await run();
      timings.push({ name, seconds: seconds() });
      return result;
    } catch (err) {
      timings.push({
        name,
        seconds: seconds(),
        errorKind: (err as { kind?: string }).kind ?? 'other',
      });
      throw err;
    }
  },
);
const encoders = { user: new SubjectEncoder(), feature: new SubjectEncoder() };
let gauges: { config: GaugeConfig; userIds: UserIdTransform } | undefined;

port.on('message', (message: ToSpendThread) => {
  if (message.type === 'gauges') {
    const { config } = message;
    gauges = { config, userIds: new UserIdTransform(config.userIdMode, config.userIdHashKey) };
    return;
  }
  void read(message.id, message.now);
});

async function read(id: number, now: number): Promise<void> {
  timings = [];
  let answer: FromSpendThread;
  const transfer: ArrayBuffer[] = [];
  try {
    const view = await reader.read(now);
    answer = {
      type: 'view',
      id,
      view: encode(view, transfer),
      gauges: gauges
        ? budgetGauges(view, gauges.config.budgets, gauges.userIds)
        : { rows: [], counts: [] },
      queries: timings,
    };
  } catch (err) {
    answer = {
      type: 'error',
      id,
      message: err instanceof Error ? err.message : String(err),
      queries: timings,
    };
  }
  port?.postMessage(answer, transfer);
}

function encode(view: SpendView, transfer: ArrayBuffer[]): EncodedView {
  const scope = (name: 'user' | 'feature') => {
    const encoder = encoders[name];
    for (const values of view.spend[name].values()) encoder.register(values);
    encoder.register(view.growth[name]);
    const spend: [string, Float64Array][] = [...view.spend[name]].map(([window, values]) => [
      window,
      encoder.column(values),
    ]);
    const growth = encoder.column(view.growth[name]);
    for (const [, column] of spend) transfer.push(column.buffer as ArrayBuffer);
    transfer.push(growth.buffer as ArrayBuffer);
    return { spend, growth, fresh: encoder.takeFresh() };
  };
  const user = scope('user');
  const feature = scope('feature');
  return {
    at: view.at,
    spans: [...view.spans.values()],
    fresh: { user: user.fresh, feature: feature.fresh },
    spend: { user: user.spend, feature: feature.spend },
    global: [...view.global],
    growth: { user: user.growth, feature: feature.growth, global: view.growth.global.get('') ?? 0 },
  };
}
