import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { UserIdMode } from '../../attribution/user-id';
import type { BudgetConfig } from '../config/schema';
import type { BudgetGaugeRow, SubjectCount } from '../metrics';
import { Column, SubjectIndex } from './columns';
import type { PrometheusConnection } from '../../prometheus/api';
import type { QueryName, SpendSettings, SpendView } from './spend-reader';
import type { WindowSpan } from '../../calendar/windows';

/** What the spend thread starts with. */
export interface SpendThreadInit {
  readonly connection: PrometheusConnection;
  readonly settings: SpendSettings;
}

/** Caps and user-id hashing, for the gauges the spend thread computes. */
export interface GaugeConfig {
  readonly budgets: BudgetConfig['budgets'];
  readonly userIdMode: UserIdMode;
  readonly userIdHashKey: string;
}

/** One PromQL query's duration, and its failure kind if it failed. */
export interface QueryTiming {
  readonly name: QueryName;
  readonly seconds: number;
  readonly errorKind?: string;
}

export type ToSpendThread =
  { type: 'gauges'; config: GaugeConfig } | { type: 'read'; id: number; now: number };

type Scoped<T> = { user: T; feature: T };

/** A spend view as columns (see columns.ts). */
export interface EncodedView {
  readonly at: number;
  readonly spans: WindowSpan[];
  readonly fresh: Scoped<string[]>;
  readonly spend: Scoped<[string, Float64Array][]>;
  readonly global: [string, number][];
  readonly growth: Scoped<Float64Array> & { global: number };
}

export type FromSpendThread =
  | {
      type: 'view';
      id: number;
      view: EncodedView;
      gauges: { rows: BudgetGaugeRow[]; counts: SubjectCount[] };
      queries: QueryTiming[];
    }
  | { type: 'error'; id: number; message: string; queries: QueryTiming[] };

/**
 * Reads spend in a worker thread. With 100,000 users a refresh parses megabytes of JSON and does
 * window arithmetic for every user: hundreds of milliseconds that, on the main thread, would
 * stall every decision queued behind them. Here the main thread only adopts columns.
 */
export class SpendThread {
  private worker: Worker | undefined;
  private index: Scoped<SubjectIndex> = { user: new SubjectIndex(), feature: new SubjectIndex() };
  private readonly pending = new Map<
    number,
    { resolve: (m: FromSpendThread) => void; reject: (e: Error) => void }
  >();
  private nextId = 1;
  private gaugeConfig: GaugeConfig | undefined;

  constructor(
    private readonly init: SpendThreadInit,
    private readonly onQuery: (timing: QueryTiming) => void,
  ) {}

  /** Caps changed (a reload with the same Prometheus settings). */
  setGaugeConfig(config: GaugeConfig): void {
    this.gaugeConfig = config;
    this.worker?.postMessage({ type: 'gauges', config } satisfies ToSpendThread);
  }

  async read(
    now: number,
  ): Promise<{ view: SpendView; gauges: { rows: BudgetGaugeRow[]; counts: SubjectCount[] } }> {
    const worker = this.started();
    const id = this.nextId++;
    const answer = await new Promise<FromSpendThread>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      worker.postMessage({ type: 'read', id, now } satisfies ToSpendThread);
    });
    for (const q of answer.queries) this.onQuery(q);
    if (answer.type === 'error') throw new Error(answer.message);
    return { view: this.decode(answer.view), gauges: answer.gauges };
  }

  close(): void {
    const worker = this.worker;
    this.worker = undefined;
    void worker?.terminate();
  }

  private started(): Worker {
    if (this.worker) return this.worker;
    // A new thread numbers subjects afresh.
    this.index = { user: new SubjectIndex(), feature: new SubjectIndex() };
    const worker = new Worker(join(__dirname, 'spend-worker.js'), { workerData: this.init });
    worker.unref();
    worker.on('message', (m: FromSpendThread) => {
      const p = this.pending.get(m.id);
      this.pending.delete(m.id);
      p?.resolve(m);
    });
    const fail = (err: Error) => {
      if (this.worker === worker) this.worker = undefined;
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`spend thread exited with code ${code}`)));
    if (this.gaugeConfig)
      worker.postMessage({ type: 'gauges', config: this.gaugeConfig } satisfies ToSpendThread);
    this.worker = worker;
    return worker;
  }

  private decode(encoded: EncodedView): SpendView {
    this.index.user.add(encoded.fresh.user);
    this.index.feature.add(encoded.fresh.feature);
    const columns = (scope: 'user' | 'feature') =>
      new Map(
        encoded.spend[scope].map(([window, values]) => [
          window,
          new Column(this.index[scope], values),
        ]),
      );
    return {
      at: encoded.at,
      spans: new Map(encoded.spans.map((s) => [s.name, s])),
      spend: { user: columns('user'), feature: columns('feature') },
      global: new Map(encoded.global),
      growth: {
        user: new Column(this.index.user, encoded.growth.user),
        feature: new Column(this.index.feature, encoded.growth.feature),
        global: new Map([['', encoded.growth.global]]),
      },
    };
  }
}
