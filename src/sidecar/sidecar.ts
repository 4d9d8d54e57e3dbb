import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { UserIdTransform } from '../attribution/user-id';
import type { BudgetConfig } from './config/schema';
import type { BudgetSecrets, LoadedBudgetConfig } from './config/load';
import { windowsOf } from './decide/caps';
import { BudgetDecider, type Decision, type DecisionRequest } from './decide/decision';
import { createSidecarServer } from './http/server';
import { BudgetLedger } from './ledger/ledger';
import { SidecarMetrics } from './metrics';
import type { PrometheusConnection } from '../prometheus/api';
import type { SpendSettings, SpendView } from './spend/spend-reader';
import { SpendThread, type GaugeConfig } from './spend/spend-thread';

/** The budget sidecar: reads spend on a timer, decides from memory, serves the HTTP API. */
export class Sidecar {
  readonly ledger: BudgetLedger;
  readonly decider: BudgetDecider;
  readonly metrics: SidecarMetrics;
  ready = false;
  private reader: SpendThread;
  private loaded: LoadedBudgetConfig;
  private server: Server | undefined;
  private timer: NodeJS.Timeout | undefined;
  private sweeper: NodeJS.Timeout | undefined;
  private lastError = '';
  private stopped = false;
  private refreshing = false;
  private refreshAgain = false;

  constructor(
    loaded: LoadedBudgetConfig,
    readonly log: (line: string) => void = (line) =>
      process.stderr.write(`llm-finops sidecar: ${line}\n`),
  ) {
    this.loaded = loaded;
    this.ledger = new BudgetLedger(loaded.config.reservations.settled_ttl);
    this.decider = new BudgetDecider(loaded.config, userIdsOf(loaded), this.ledger);
    this.metrics = new SidecarMetrics(() => this.ledger.counts());
    this.reader = this.newReader(loaded);
  }

  get config(): BudgetConfig {
    return this.loaded.config;
  }

  get secrets(): BudgetSecrets {
    return this.loaded.secrets;
  }

  decide(request: DecisionRequest, now: number): Decision {
    return this.decider.decide(request, now);
  }

  /** Listens, then reads spend now and every `refresh`. Resolves with the bound URL. */
  async start(host: string, port: number): Promise<string> {
    const server = createSidecarServer(this);
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
    this.sweeper = setInterval(() => this.ledger.expire(Date.now()), 1000);
    this.sweeper.unref();
    void this.refreshLoop();
    const { address, port: bound } = server.address() as AddressInfo;
    return `http://${address.includes(':') ? `[${address}]` : address}:${bound}`;
  }

  /** Swaps in a reloaded config; requests in flight finish with the old one. */
  reload(loaded: LoadedBudgetConfig): void {
    const sameSource = spendSourceOf(loaded) === spendSourceOf(this.loaded);
    this.loaded = loaded;
    this.decider.config = loaded.config;
    this.decider.userIds = userIdsOf(loaded);
    this.ledger.setSettledTtl(loaded.config.reservations.settled_ttl);
    // Same queries on the same Prometheus (an edit of caps): the reader keeps its baseline, so the
    // spend growth it sees next still absorbs settled costs (a new reader has none to measure
    // from, and would count them twice), and nothing is backfilled again.
    if (sameSource) this.reader.setGaugeConfig(gaugeConfigOf(loaded));
    else {
      this.reader.close();
      this.reader = this.newReader(loaded);
    }
    this.metrics.configReloads.inc({ result: 'ok' });
    this.log(`config reloaded from ${loaded.file}`);
    this.scheduleNow();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.reader.close();
    clearTimeout(this.timer);
    clearInterval(this.sweeper);
    const server = this.server;
    if (!server) return;
    server.closeIdleConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** One refresh; errors keep the previous spend (its age grows until `stale_after`). */
  async refresh(now = Date.now()): Promise<void> {
    const started = process.hrtime.bigint();
    try {
      const reader = this.reader;
      const { view, gauges } = await reader.read(now);
      if (reader !== this.reader) return; // a reload replaced the reader meanwhile
      this.apply(view);
      this.metrics.rows = gauges.rows;
      this.metrics.subjectCounts = gauges.counts;
      if (this.lastError) this.log('reading spend from Prometheus works again');
      this.lastError = '';
      if (!this.ready) this.log(`spend read from ${this.config.prometheus.url}; ready`);
      this.ready = true;
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      // Said once per distinct error, not at every refresh.
      if (message !== this.lastError)
        this.log(`reading spend failed (decisions use the last data): ${message}`);
      this.lastError = message;
    } finally {
      this.metrics.refreshDuration.observe(Number(process.hrtime.bigint() - started) / 1e9);
    }
  }

  private apply(view: SpendView): void {
    this.decider.view = view;
    this.metrics.dataAt = view.at;
    // Only subjects with settled costs waiting can absorb growth: look those up, not every user.
    for (const key of this.ledger.settledKeys()) {
      const grew =
        key === 'g'
          ? view.growth.global.get('')
          : key.startsWith('u:')
            ? view.growth.user.get(key.slice(2))
            : view.growth.feature.get(key.slice(2));
      if (grew) this.ledger.absorb(key, grew);
    }
  }

  private newReader(loaded: LoadedBudgetConfig): SpendThread {
    const thread = new SpendThread(
      { connection: connectionOf(loaded), settings: settingsOf(loaded.config) },
      (timing) => this.metrics.recordQuery(timing),
    );
    thread.setGaugeConfig(gaugeConfigOf(loaded));
    return thread;
  }

  private async refreshLoop(): Promise<void> {
    if (this.stopped) return;
    this.refreshing = true;
    await this.refresh();
    this.refreshing = false;
    if (this.stopped) return;
    const delay = this.refreshAgain ? 0 : this.config.prometheus.refresh;
    this.refreshAgain = false;
    this.timer = setTimeout(() => void this.refreshLoop(), delay);
  }

  /** One loop only: a reload during a refresh asks that loop to go again, it starts no second one. */
  private scheduleNow(): void {
    if (this.refreshing) {
      this.refreshAgain = true;
      return;
    }
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.refreshLoop(), 0);
  }
}

function userIdsOf(loaded: LoadedBudgetConfig): UserIdTransform {
  return new UserIdTransform(loaded.config.user_id_mode, loaded.secrets.userIdHashKey ?? '');
}

function gaugeConfigOf(loaded: LoadedBudgetConfig): GaugeConfig {
  return {
    budgets: loaded.config.budgets,
    userIdMode: loaded.config.user_id_mode,
    userIdHashKey: loaded.secrets.userIdHashKey ?? '',
  };
}

/** What the spend reader depends on: equal for two configs that read spend alike. */
function spendSourceOf(loaded: LoadedBudgetConfig): string {
  return JSON.stringify([connectionOf(loaded), settingsOf(loaded.config)]);
}

function connectionOf(loaded: LoadedBudgetConfig): PrometheusConnection {
  const { prometheus } = loaded.config;
  const headers: Record<string, string> = { ...prometheus.headers };
  if (loaded.secrets.prometheusBearerToken)
    headers.authorization = `Bearer ${loaded.secrets.prometheusBearerToken}`;
  else if (prometheus.basic_auth) {
    const pair = `${prometheus.basic_auth.username}:${loaded.secrets.prometheusPassword ?? ''}`;
    headers.authorization = `Basic ${Buffer.from(pair).toString('base64')}`;
  }
  return { url: prometheus.url, timeoutMs: prometheus.timeout, headers };
}

function settingsOf(config: BudgetConfig): SpendSettings {
  const p = config.prometheus;
  return {
    resolutionMs: p.resolution,
    backfillStepMs: p.backfill_step,
    gapMs: p.max_scrape_gap,
    parallelQueries: p.parallel_queries,
    selector: p.selector,
    timezone: config.timezone,
    windows: windowsOf(config.budgets),
  };
}
