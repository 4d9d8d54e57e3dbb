import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { UserIdTransform } from '../attribution/user-id';
import type { BudgetScope } from '../contract/budget';
import type { BudgetConfig } from './config/schema';
import type { BudgetSecrets, LoadedBudgetConfig } from './config/load';
import { windowsOf } from './decide/caps';
import {
  BudgetDecider,
  type CapState,
  type Decision,
  type DecisionRequest,
} from './decide/decision';
import { createSidecarServer } from './http/server';
import { BudgetLedger } from './ledger/ledger';
import { SidecarMetrics, type BudgetGaugeRow } from './metrics';
import { PrometheusApi, type PrometheusConnection } from './spend/prometheus-api';
import { SpendReader, type SpendSettings, type SpendView } from './spend/spend-reader';

/** The budget sidecar: reads spend on a timer, decides from memory, serves the HTTP API. */
export class Sidecar {
  readonly ledger: BudgetLedger;
  readonly decider: BudgetDecider;
  readonly metrics: SidecarMetrics;
  ready = false;
  private reader: SpendReader;
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
    this.reader = new SpendReader(apiOf(loaded), settingsOf(loaded.config), (name, run) =>
      this.metrics.timeQuery(name, run),
    );
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
    if (!sameSource)
      this.reader = new SpendReader(apiOf(loaded), settingsOf(loaded.config), (name, run) =>
        this.metrics.timeQuery(name, run),
      );
    this.metrics.configReloads.inc({ result: 'ok' });
    this.log(`config reloaded from ${loaded.file}`);
    this.scheduleNow();
  }

  async stop(): Promise<void> {
    this.stopped = true;
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
      const view = await reader.read(now);
      if (reader !== this.reader) return; // a reload replaced the reader meanwhile
      this.apply(view);
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
    for (const [user, grew] of view.growth.user) this.ledger.absorb(`u:${user}`, grew);
    for (const [feature, grew] of view.growth.feature) this.ledger.absorb(`f:${feature}`, grew);
    this.ledger.absorb('g', view.growth.global.get('') ?? 0);
    this.updateGauges(view);
  }

  private updateGauges(view: SpendView): void {
    const { budgets } = this.config;
    const rows: BudgetGaugeRow[] = [];
    const counts = new Map<string, number>();
    const add = (
      scope: BudgetScope,
      subject: string,
      window: string,
      limit: number,
      warnAt: number,
      spent: number,
      gauge: boolean,
    ) => {
      const state: CapState =
        spent >= limit ? 'exceeded' : spent >= warnAt * limit ? 'warning' : 'ok';
      if (gauge || state !== 'ok') rows.push({ scope, subject, window, limit, spent, state });
      const key = `${scope}\u0000${window}\u0000${state}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
    };
    for (const cap of budgets.global ?? [])
      add(
        'global',
        'global',
        cap.window,
        cap.limit_usd,
        cap.warn_at,
        view.global.get(cap.window) ?? 0,
        true,
      );
    for (const [feature, caps] of Object.entries(budgets.features))
      for (const cap of caps)
        add(
          'feature',
          feature,
          cap.window,
          cap.limit_usd,
          cap.warn_at,
          view.spend.feature.get(cap.window)?.get(feature) ?? 0,
          true,
        );
    // Users by label: overrides are keyed by id, so map them to labels once.
    const overrides = new Map(
      Object.entries(budgets.users.overrides).map(([id, caps]) => [
        this.decider.keyOf('user', id).slice(2),
        { id, caps },
      ]),
    );
    const defaults = budgets.users.default ?? [];
    const windows = new Set(
      [...defaults, ...Object.values(budgets.users.overrides).flat()].map((c) => c.window),
    );
    for (const window of windows) {
      for (const [label, spent] of view.spend.user.get(window) ?? []) {
        const override = overrides.get(label);
        const cap = (override?.caps ?? defaults).find((c) => c.window === window);
        if (cap)
          add('user', override?.id ?? label, window, cap.limit_usd, cap.warn_at, spent, false);
      }
    }
    this.metrics.rows = rows;
    this.metrics.setSubjectCounts(
      [...counts].map(([key, count]) => {
        const [scope, window, state] = key.split('\u0000') as [BudgetScope, string, CapState];
        return { scope, window, state, count };
      }),
    );
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

function apiOf(loaded: LoadedBudgetConfig): PrometheusApi {
  return new PrometheusApi(connectionOf(loaded));
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
    selector: p.selector,
    timezone: config.timezone,
    windows: windowsOf(config.budgets),
  };
}
