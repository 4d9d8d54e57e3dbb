/**
 * A deterministic 30-day FinOps history and its LEDGER of exact expected values (pure: seeded
 * PRNG, no I/O; the caller passes the price book). test/helpers/finops-history.ts writes it into a
 * real Prometheus; dashboards, `llm-finops report` and the FOCUS export are checked against the
 * ledger.
 *
 * Time model. Samples every `step` (5m) from `start` to `end` (= start + days). Slot k (1..N)
 * is the activity in (t[k-1], t[k]] and is reported by the sample at t[k] = start + k * step;
 * every counter has a 0 sample at `start` and a sample at `end`. So, in Prometheus 2.x (closed
 * ranges), `increase(x[30d])` at `end` is exactly the whole history, and `increase(x[1d])` at
 * D+1 00:00 UTC is exactly UTC day D (its slots 00:05 .. 24:00). The default end,
 * 2026-12-01T00:00Z, makes the history the calendar month of November 2026.
 *
 * Amounts. Every USD increment is an integer number of units of 2^-30 USD (about 1e-9): each
 * call's cost is the catalog cost (`costOf`, as the instrumentation computes it) rounded to that
 * unit. Sums of such amounts are exact in float64 in any order, so Prometheus's sums equal the
 * ledger exactly whatever the series order.
 *
 * The app restarts once (all app counters drop to 0 at one sample, the app being down for that
 * slot); the budget sidecar's series do not restart.
 */
import type { PriceBook, TokenBuckets } from '../../src/pricing';
import { costOf, promptCacheSavings } from '../../src/pricing';
import { seededRandom } from '../../demo/traffic/random';
import { METRICS, type MetricKey, type RequestStatus } from '../../src/contract/metrics';

/** USD per unit of the integer amounts. */
export const USD_UNIT = 2 ** -30;
const DAY = 86_400;

export interface FinopsScenarioOptions {
  /** Unix seconds of the last sample; a multiple of `step`. Default 2026-12-01T00:00:00Z. */
  end?: number;
  /** Days of history, default 30. */
  days?: number;
  /** Seconds between samples, default 300. */
  step?: number;
  /** PRNG seed, default 42. */
  seed?: number;
}

/** Requests by `status` of llm_requests_total. */
export interface StatusCounts {
  ok: number;
  error: number;
  denied: number;
  /** ok + error + denied. */
  total: number;
}

/** Actual and baseline spend with the requests behind them. */
export interface SpendFigures {
  /** increase of llm_cost_usd_total, USD. */
  cost: number;
  /** increase of llm_baseline_cost_usd_total, USD. */
  baseline: number;
  /** baseline - cost, USD. */
  savings: number;
  /** increase of llm_requests_total by status. */
  requests: StatusCounts;
}

/** Spend of one provider/model/tier. */
export interface ModelFigures extends SpendFigures {
  provider: string;
  model: string;
  tier: string;
}

/** One FOCUS-style row: a day, a model and a feature. */
export interface DailyRow {
  provider: string;
  model: string;
  tier: string;
  feature: string;
  /** Actual cost, USD (FOCUS BilledCost/EffectiveCost). */
  cost: number;
  /** Baseline cost, USD (FOCUS ListCost). */
  baseline: number;
  /** Successful calls. */
  requests: number;
  /** increase of llm_tokens_total by type (input, output, cache_read, cache_write). */
  tokens: Record<string, number>;
}

/** One UTC day of the history. */
export interface DailyFigures extends SpendFigures {
  /** UTC date, YYYY-MM-DD. */
  date: string;
  /** Unix seconds of 00:00 UTC of the day (ChargePeriodStart). */
  start: number;
  /** Unix seconds of the next 00:00 UTC: evaluate `increase(x[1d])` here (ChargePeriodEnd). */
  end: number;
  /** Cost, baseline and requests by feature. */
  byFeature: Record<string, SpendFigures>;
  /** increase of llm_tokens_total by type over the day. */
  tokens: Record<string, number>;
  /** Rows by provider, model, tier and feature with any spend or successful call, sorted. */
  rows: DailyRow[];
}

/** A budget cap of the scenario's (budgets.yaml-like) configuration. */
export interface ScenarioCap {
  scope: 'global' | 'feature' | 'user';
  /** `global`, a feature, or a user id; `*` = the default cap of every other user. */
  subject: string;
  window: 'month';
  limit: number;
  warnAt: number;
}

/** A row of the sidecar's gauges at `end`. */
export interface BudgetRow {
  scope: 'global' | 'feature' | 'user';
  subject: string;
  window: string;
  /** llm_budget_limit_usd. */
  limit: number;
  /** llm_budget_warn_usd = limit x warn_at. */
  warn: number;
  /** llm_budget_spent_usd: spend since `start` (month-to-date when the history is a month). */
  spent: number;
  state: 'ok' | 'warning' | 'exceeded';
}

/**
 * A designed anomaly: its cause and the ALERTS{alertstate="firing"} series written for it
 * (synthetic, see the generator: only these alerts are written).
 */
export interface AnomalyWindow {
  /** What happened. */
  cause: string;
  /** Unix seconds: the cause's first affected slot ends after `from`, its last at `to`. */
  from: number;
  to: number;
  /** ALERTS labels besides alertstate="firing" (alertname, severity, feature/user/...). */
  alert: Record<string, string>;
  /** Unix seconds of the first and last ALERTS sample (value 1 every step in between). */
  firingFrom: number;
  firingTo: number;
}

/** The exact expected values of the history, in USD and counts. */
export interface FinopsLedger {
  /** Unix seconds of the first sample (every counter is 0 there). */
  start: number;
  /** Unix seconds of the last sample: evaluate `increase(x[<days>d])` here. */
  end: number;
  /** Seconds between samples. */
  step: number;
  /** Whole history: cost, baseline, savings and requests by status. */
  totals: SpendFigures;
  /** 1 - cost / baseline (the dashboards' "saved", computed in this order). */
  savingsRatio: number;
  /** By feature. */
  byFeature: Record<string, SpendFigures>;
  /** By provider/model/tier (key `provider/model`), the unpriced model included (cost 0). */
  byModel: Record<string, ModelFigures>;
  /** By tier (`unknown` = the unpriced model). */
  byTier: Record<string, SpendFigures>;
  /** increase of llm_user_cost_usd_total by user, USD. */
  userCost: Record<string, number>;
  /** increase of llm_user_cost_usd_total by user, then feature, USD. */
  userCostByFeature: Record<string, Record<string, number>>;
  /** increase of llm_user_requests_total by user (ok + error; denied calls are not counted). */
  userRequests: Record<string, number>;
  /** The user with the highest cost and that cost. */
  topSpender: { user: string; cost: number };
  /** increase of llm_tokens_total by type (input, output, cache_read, cache_write). */
  tokens: Record<string, number>;
  /** increase of llm_cache_savings_usd_total by cache (prompt, response), USD. */
  cacheSavings: Record<'prompt' | 'response', number>;
  /** increase of llm_cache_lookups_total by result. */
  cacheLookups: Record<'hit' | 'miss', number>;
  /** increase of llm_outcomes_total by feature, then outcome. */
  outcomes: Record<string, Record<string, number>>;
  /** Feature cost / its success outcomes (divided in this order), features with successes only. */
  costPerSuccess: Record<string, number>;
  /** increase of llm_unpriced_requests_total by `provider/model`. */
  unpriced: Record<string, number>;
  /** increase of llm_budget_decisions_total by decision (scope="user"). */
  decisions: Record<'allow' | 'deny', number>;
  /** Per UTC day, in order. */
  daily: DailyFigures[];
  /** The caps the sidecar gauges apply (month windows). */
  caps: ScenarioCap[];
  /** Sidecar gauge rows at `end` (global and features always, users at warning or over). */
  budgets: BudgetRow[];
  /** The same at the sample before `end`: what the report reads "just before the period ends". */
  budgetsBeforeEnd: BudgetRow[];
  /** llm_budget_subjects at `end`: `${scope}/${state}` -> count (month window). */
  budgetSubjects: Record<string, number>;
  /** Users at or over their cap at `end`. */
  usersOverCap: string[];
  /** Users at warning (not over) at `end`. */
  usersAtWarning: string[];
  /** The designed anomalies and their ALERTS windows. */
  anomalies: AnomalyWindow[];
  /** Unix seconds of the sample at which every app counter reads 0 (the restart). */
  restartAt: number;
  /**
   * USD a user spent in (from, to] (sample times), in one feature or all: the increase of
   * llm_user_cost_usd_total between two samples (for per-step figures such as spend rates).
   */
  userCostIn: (user: string, from: number, to: number, feature?: string) => number;
}

/** One generated series: deltas per slot (counters) or values per sample (gauges, NaN = none). */
interface Series {
  family: string;
  name: string;
  /** `{a="1",b="2"}` in contract order. */
  labelText: string;
  labels: Record<string, string>;
  type: 'counter' | 'gauge';
  /** Multiplier from stored integers to the written value (USD_UNIT or 1). */
  scale: number;
  /** App counters drop to 0 at the restart; sidecar counters do not. */
  resets: boolean;
  data: Float64Array;
}

/** A generated history: its OpenMetrics text and its ledger. */
export interface FinopsScenario {
  /** The options in force, defaults filled in. */
  readonly options: Required<FinopsScenarioOptions>;
  /** Stable hash of the options, prices, profiles, caps and generator version (cache key). */
  readonly hash: string;
  /** The exact expected values. */
  readonly ledger: FinopsLedger;
  /** The `feature` label values: chat, summarise, agent, search. */
  readonly features: readonly string[];
  /** The `user` label values: user-01 (top spender) .. user-40; user-37 is the runaway user. */
  readonly users: readonly string[];
  /** Number of series written. */
  readonly seriesCount: number;
  /** The OpenMetrics text (ending with `# EOF`), in chunks to keep memory flat. */
  openMetrics(): Generator<string>;
}

/** Part of the cache key of the built history: bump it when the generator's output changes. */
const GENERATOR_VERSION = 4;

export const FEATURES = ['chat', 'summarise', 'agent', 'search'] as const;
type Feature = (typeof FEATURES)[number];

/** A model id that is not in the catalog: its calls go to llm_unpriced_requests_total. */
export const UNPRICED_MODEL = { provider: 'openai', model: 'acme-search-ft-2' };

interface FeatureProfile {
  /** Mean calls per 5 minutes at the daily peak of a weekday. */
  perSlot: number;
  /** Model routing weights. */
  models: Record<string, number>;
  input: number;
  output: number;
  /** Share of input tokens read from the provider prompt cache (0 = none). */
  promptCache: number;
  /** Response-cache hit probability (undefined = the feature does not use it). */
  responseCache?: number;
  /** Probability that a successful call reports an outcome, and that it is a success. */
  outcome: number;
  success: number;
}

const PROFILES: Record<Feature, FeatureProfile> = {
  chat: {
    perSlot: 40,
    models: { 'gpt-4o-mini': 5, 'claude-haiku-4-5': 2, 'gpt-4o': 2, 'claude-sonnet-4-5': 1 },
    input: 900,
    output: 300,
    promptCache: 0.4,
    responseCache: 0.25,
    outcome: 0.3,
    success: 0.85,
  },
  summarise: {
    perSlot: 15,
    models: { 'gpt-4o-mini': 6, 'claude-haiku-4-5': 3, 'claude-sonnet-4-5': 1 },
    input: 3000,
    output: 250,
    promptCache: 0,
    responseCache: 0.15,
    outcome: 0.9,
    success: 0.95,
  },
  agent: {
    perSlot: 6,
    models: { 'claude-sonnet-4-5': 5, 'gpt-4o': 3, 'claude-opus-4-1': 0.5, 'gpt-4o-mini': 1.5 },
    input: 5000,
    output: 700,
    promptCache: 0.6,
    outcome: 0.25,
    success: 0.7,
  },
  search: {
    perSlot: 25,
    models: { 'gpt-4o-mini': 7, [UNPRICED_MODEL.model]: 3 },
    input: 500,
    output: 120,
    promptCache: 0,
    responseCache: 0.45,
    outcome: 0.5,
    success: 0.9,
  },
};

const USER_COUNT = 40;
/** The user with the highest spend (a month cap override of $450, at warning). */
export const TOP_SPENDER = 'user-01';
/** The user whose loop runs over their month cap on 2026-11-26 (denied afterwards). */
export const RUNAWAY_USER = 'user-37';
const ERROR_RATE = 0.015;

/** The month cap of every user without an override. */
const DEFAULT_USER_CAP: ScenarioCap = {
  scope: 'user',
  subject: '*',
  window: 'month',
  limit: 40,
  warnAt: 0.8,
};

/** The scenario's caps, like budgets.example.yaml (month windows only). */
export const SCENARIO_CAPS: readonly ScenarioCap[] = [
  { scope: 'global', subject: 'global', window: 'month', limit: 5000, warnAt: 0.8 },
  { scope: 'feature', subject: 'agent', window: 'month', limit: 1500, warnAt: 0.8 },
  { scope: 'feature', subject: 'summarise', window: 'month', limit: 400, warnAt: 0.8 },
  DEFAULT_USER_CAP,
  { scope: 'user', subject: TOP_SPENDER, window: 'month', limit: 450, warnAt: 0.8 },
  { scope: 'user', subject: 'user-02', window: 'month', limit: 150, warnAt: 0.8 },
  { scope: 'user', subject: 'user-05', window: 'month', limit: 100, warnAt: 0.8 },
];

function fnv1a(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, '0');
}

function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function labelText(labels: Record<string, string>, order: readonly string[]): string {
  return `{${order.map((k) => `${k}="${escapeLabel(labels[k] ?? '')}"`).join(',')}}`;
}

/** Prometheus label names of a contract metric (dots become underscores). */
function contractLabels(key: MetricKey): string[] {
  return METRICS[key].labels.map((l) => l.replace(/\./g, '_'));
}

function isoDate(unix: number): string {
  return new Date(unix * 1000).toISOString().slice(0, 10);
}

function emptyStatus(): StatusCounts {
  return { ok: 0, error: 0, denied: 0, total: 0 };
}

/** Generates the scenario. Throws when a scenario model is missing from `prices`. */
export function generateFinopsScenario(
  prices: PriceBook,
  options: FinopsScenarioOptions = {},
): FinopsScenario {
  const step = options.step ?? 300;
  const days = options.days ?? 30;
  const end = options.end ?? Date.UTC(2026, 11, 1) / 1000;
  const seed = options.seed ?? 42;
  if (end % step !== 0 || DAY % step !== 0) throw new Error('end and 1d must be multiples of step');
  const start = end - days * DAY;
  const slots = (days * DAY) / step;
  const perDay = DAY / step;
  const rand = seededRandom(seed);

  const modelIds = [...new Set(FEATURES.flatMap((f) => Object.keys(PROFILES[f].models)))];
  modelIds.push('claude-opus-4-1');
  const priceOf = new Map<string, ReturnType<PriceBook['resolve']>>();
  for (const id of new Set(modelIds)) {
    const price = prices.resolve(id);
    if (id === UNPRICED_MODEL.model) {
      if (price) throw new Error(`${id} must be unpriced`);
    } else if (!price) throw new Error(`scenario model ${id} is not priced`);
    priceOf.set(id, price);
  }
  const hash = fnv1a(
    JSON.stringify({
      v: GENERATOR_VERSION,
      step,
      days,
      end,
      seed,
      prices: [...priceOf.entries()],
      baseline: prices.baseline,
      profiles: PROFILES,
      caps: SCENARIO_CAPS,
      users: [USER_COUNT, TOP_SPENDER, RUNAWAY_USER, ERROR_RATE],
    }),
  );

  // --- series registry
  const series = new Map<string, Series>();
  const get = (
    family: string,
    name: string,
    labels: Record<string, string>,
    order: readonly string[],
    opts: { usd: boolean; type?: 'counter' | 'gauge'; resets?: boolean },
  ): Series => {
    const text = labelText(labels, order);
    const key = name + text;
    let s = series.get(key);
    if (!s) {
      const type = opts.type ?? 'counter';
      const data = new Float64Array(slots + 1);
      if (type === 'gauge') data.fill(NaN);
      s = {
        family,
        name,
        labelText: text,
        labels: { ...labels },
        type,
        scale: opts.usd ? USD_UNIT : 1,
        resets: opts.resets ?? true,
        data,
      };
      series.set(key, s);
    }
    return s;
  };
  const contract = (key: MetricKey, labels: Record<string, string>, usd: boolean): Series => {
    const spec = METRICS[key];
    const order = contractLabels(key);
    // Exactly the contract's labels: none missing, none added.
    if (Object.keys(labels).sort().join() !== [...order].sort().join())
      throw new Error(`${spec.promName}: labels ${Object.keys(labels).join()} != ${order.join()}`);
    return get(spec.promName.replace(/_total$/, ''), spec.promName, labels, order, { usd });
  };

  const units = (usd: number) => Math.round(usd / USD_UNIT);
  const modelLabels = (id: string) => {
    const price = priceOf.get(id);
    return price
      ? { provider: price.provider, model: price.key, tier: price.tier }
      : { provider: UNPRICED_MODEL.provider, model: id, tier: 'unknown' };
  };

  // --- users: heavy tail (Zipf-like weights), the top spender's doubled, features by user
  const users = Array.from(
    { length: USER_COUNT },
    (_, i) => `user-${String(i + 1).padStart(2, '0')}`,
  );
  const userFeatures = (i: number): Feature[] => {
    const u = users[i];
    if (u === TOP_SPENDER || u === RUNAWAY_USER) return [...FEATURES];
    const out: Feature[] = ['chat'];
    if (i % 2 === 1) out.push('summarise');
    if (i % 3 === 1) out.push('agent');
    if (i % 4 !== 0) out.push('search');
    return out;
  };
  const pickers = new Map<Feature, { users: string[]; cdf: number[] }>();
  for (const f of FEATURES) {
    const list: string[] = [];
    const cdf: number[] = [];
    let acc = 0;
    users.forEach((u, i) => {
      if (!userFeatures(i).includes(f)) return;
      const w = (u === TOP_SPENDER ? 2 : 1) / Math.pow(i + 1, 0.8);
      acc += w;
      list.push(u);
      cdf.push(acc);
    });
    pickers.set(f, { users: list, cdf: cdf.map((c) => c / acc) });
  }
  const pick = <T>(items: T[], cdf: number[]): T => {
    const r = rand();
    let lo = 0;
    let hi = cdf.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (r < (cdf[mid] ?? 1)) hi = mid;
      else lo = mid + 1;
    }
    return items[lo] as T;
  };
  const modelPickers = (weights: Record<string, number>) => {
    const ids = Object.keys(weights);
    const total = ids.reduce((a, id) => a + (weights[id] ?? 0), 0);
    let acc = 0;
    return { ids, cdf: ids.map((id) => (acc += weights[id] ?? 0) / total) };
  };
  const modelInfo = new Map([...priceOf.keys()].map((id) => [id, modelLabels(id)]));
  const routing = new Map(FEATURES.map((f) => [f, modelPickers(PROFILES[f].models)]));
  const shiftedAgent = modelPickers({ 'claude-opus-4-1': 8, 'claude-sonnet-4-5': 1, 'gpt-4o': 1 });

  // --- anomalies (slot k covers (t[k-1], t[k]])
  const at = (day: number, hour: number) => start + day * DAY + hour * 3600;
  const spike = { from: at(24, 13), to: at(24, 17) }; // Nov 25, summarise prompts 10x longer
  const shift = { from: at(26, 9), to: at(26, 15) }; // Nov 27, agent routed to the premium tier
  const runaway = { from: at(25, 10), to: at(25, 20) }; // Nov 26, user-37's loop on chat
  const restartSlot = 11 * perDay + 36; // Nov 12, 03:00
  const restartAt = start + restartSlot * step;
  const userCap = (u: string): ScenarioCap =>
    SCENARIO_CAPS.find((c) => c.scope === 'user' && c.subject === u) ?? DEFAULT_USER_CAP;
  let runawayExceededAt: number | undefined;

  // --- running month-to-date spend (units) for the sidecar view
  const userSpent = new Map<string, number>();
  const featureSpent = new Map<string, number>();
  let globalSpent = 0;

  const requestSeries = new Map<string, Series>();
  const memoized = new Map<string, Series>();
  const seriesFor = (key: MetricKey, labels: Record<string, string>, usd: boolean) => {
    let k = key as string;
    for (const v in labels) k += '\u0001' + (labels[v] ?? '');
    let s = requestSeries.get(k);
    if (!s) requestSeries.set(k, (s = contract(key, labels, usd)));
    return s;
  };
  const add = (s: Series, k: number, v: number) => {
    s.data[k] = (s.data[k] ?? 0) + v;
  };
  const decisions = {
    allow: get(
      'llm_budget_decisions',
      'llm_budget_decisions_total',
      { scope: 'user', decision: 'allow' },
      ['scope', 'decision'],
      { usd: false, resets: false },
    ),
    deny: get(
      'llm_budget_decisions',
      'llm_budget_decisions_total',
      { scope: 'user', decision: 'deny' },
      ['scope', 'decision'],
      { usd: false, resets: false },
    ),
  };

  const season = (t: number) => {
    const d = new Date(t * 1000);
    const hour = d.getUTCHours() + d.getUTCMinutes() / 60;
    const weekend = d.getUTCDay() === 0 || d.getUTCDay() === 6;
    return (0.2 + 0.8 * Math.exp(-((hour - 14) ** 2) / (2 * 3.5 ** 2))) * (weekend ? 0.45 : 1);
  };
  const poisson = (mean: number) => {
    if (mean <= 0) return 0;
    // Normal approximation, good enough for volumes; never negative.
    const u1 = rand() || 1e-12;
    const u2 = rand();
    const z = Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
    return Math.max(0, Math.round(mean + Math.sqrt(mean) * z));
  };
  const around = (mean: number) => Math.max(1, Math.round(mean * (0.5 + rand())));

  const memo = (key: string, make: () => Series): Series => {
    let m = memoized.get(key);
    if (!m) memoized.set(key, (m = make()));
    return m;
  };
  const call = (
    k: number,
    t: number,
    f: Feature,
    user: string,
    modelId: string,
    inputMean: number,
  ) => {
    const profile = PROFILES[f];
    const ml = modelInfo.get(modelId) as ReturnType<typeof modelLabels>;
    const price = priceOf.get(modelId);
    const cap = userCap(user);
    const spent = userSpent.get(user) ?? 0;
    if (spent >= units(cap.limit)) {
      add(
        memo(`r|${f}|${modelId}|denied`, () =>
          seriesFor('requests', { ...ml, feature: f, status: 'denied' }, false),
        ),
        k,
        1,
      );
      add(decisions.deny, k, 1);
      return;
    }
    add(decisions.allow, k, 1);
    add(
      memo(`ur|${user}|${f}`, () => seriesFor('userRequests', { user, feature: f }, false)),
      k,
      1,
    );
    if (rand() < ERROR_RATE) {
      add(
        memo(`r|${f}|${modelId}|error`, () =>
          seriesFor('requests', { ...ml, feature: f, status: 'error' }, false),
        ),
        k,
        1,
      );
      return;
    }
    add(
      memo(`r|${f}|${modelId}|ok`, () =>
        seriesFor('requests', { ...ml, feature: f, status: 'ok' }, false),
      ),
      k,
      1,
    );
    const inputAll = around(inputMean);
    const cacheRead = profile.promptCache ? Math.round(inputAll * profile.promptCache * rand()) : 0;
    const cacheWrite =
      profile.promptCache && ml.provider === 'anthropic' && rand() < 0.1
        ? Math.round((inputAll - cacheRead) * 0.5)
        : 0;
    const tokens: TokenBuckets = {
      input: inputAll - cacheRead - cacheWrite,
      cacheRead,
      cacheWrite,
      output: around(profile.output),
      reasoning: 0,
    };
    const tl = { provider: ml.provider, model: ml.model, feature: f };
    add(
      memo(`t|${f}|${modelId}|input`, () => seriesFor('tokens', { ...tl, type: 'input' }, false)),
      k,
      tokens.input,
    );
    add(
      memo(`t|${f}|${modelId}|output`, () => seriesFor('tokens', { ...tl, type: 'output' }, false)),
      k,
      tokens.output,
    );
    if (cacheRead)
      add(
        memo(`t|${f}|${modelId}|cache_read`, () =>
          seriesFor('tokens', { ...tl, type: 'cache_read' }, false),
        ),
        k,
        cacheRead,
      );
    if (cacheWrite)
      add(
        memo(`t|${f}|${modelId}|cache_write`, () =>
          seriesFor('tokens', { ...tl, type: 'cache_write' }, false),
        ),
        k,
        cacheWrite,
      );
    if (profile.outcome && rand() < profile.outcome) {
      const outcome = rand() < profile.success ? 'success' : 'failure';
      add(
        memo(`o|${f}|${outcome}`, () => seriesFor('outcomes', { feature: f, outcome }, false)),
        k,
        1,
      );
    }
    if (!price) {
      add(
        memo(`u|${modelId}`, () =>
          seriesFor('unpricedRequests', { provider: ml.provider, model: ml.model }, false),
        ),
        k,
        1,
      );
      return;
    }
    const cost = units(costOf(price, tokens));
    const baseline = units(costOf(prices.baseline, tokens));
    add(
      memo(`c|${f}|${modelId}`, () => seriesFor('cost', { ...ml, feature: f }, true)),
      k,
      cost,
    );
    add(
      memo(`b|${f}|${modelId}`, () => seriesFor('baselineCost', { ...ml, feature: f }, true)),
      k,
      baseline,
    );
    add(
      memo(`uc|${user}|${f}`, () => seriesFor('userCost', { user, feature: f }, true)),
      k,
      cost,
    );
    const saved = units(promptCacheSavings(price, tokens));
    if (saved > 0)
      add(
        memo(`sp|${f}|${modelId}`, () =>
          seriesFor('cacheSavings', { ...tl, cache: 'prompt' }, true),
        ),
        k,
        saved,
      );
    userSpent.set(user, spent + cost);
    featureSpent.set(f, (featureSpent.get(f) ?? 0) + cost);
    globalSpent += cost;
    if (
      user === RUNAWAY_USER &&
      runawayExceededAt === undefined &&
      spent + cost >= units(cap.limit)
    )
      runawayExceededAt = t;
  };

  // Sidecar gauges, written for every sample (values at t include slot k).
  const gauge = (name: string, labels: Record<string, string>, order: string[]) =>
    get(name, name, labels, order, { usd: false, type: 'gauge', resets: false });
  const bl = ['scope', 'subject', 'window'];
  const writeBudgets = (k: number) => {
    const row = (scope: string, subject: string, cap: ScenarioCap, spentUnits: number) => {
      const labels = { scope, subject, window: cap.window };
      const spent = spentUnits * USD_UNIT;
      gauge('llm_budget_limit_usd', labels, bl).data[k] = cap.limit;
      gauge('llm_budget_warn_usd', labels, bl).data[k] = cap.limit * cap.warnAt;
      gauge('llm_budget_spent_usd', labels, bl).data[k] = spent;
    };
    const counts = new Map<string, number>();
    const count = (scope: string, state: string) =>
      counts.set(`${scope}/${state}`, (counts.get(`${scope}/${state}`) ?? 0) + 1);
    for (const cap of SCENARIO_CAPS) {
      if (cap.scope === 'global') {
        row('global', 'global', cap, globalSpent);
        count('global', capState(globalSpent * USD_UNIT, cap));
      } else if (cap.scope === 'feature') {
        const s = featureSpent.get(cap.subject) ?? 0;
        row('feature', cap.subject, cap, s);
        count('feature', capState(s * USD_UNIT, cap));
      }
    }
    for (const [user, s] of userSpent) {
      const cap = userCap(user);
      const state = capState(s * USD_UNIT, cap);
      count('user', state);
      if (state !== 'ok') row('user', user, cap, s);
    }
    for (const [key, n] of counts) {
      const [scope, state] = key.split('/') as [string, string];
      gauge('llm_budget_subjects', { scope, window: 'month', state }, [
        'scope',
        'window',
        'state',
      ]).data[k] = n;
    }
    gauge('llm_budget_spend_data_age_seconds', {}, []).data[k] = 7.5;
  };

  // --- generate slot by slot
  writeBudgets(0);
  for (let k = 1; k <= slots; k++) {
    const t = start + k * step;
    const up = get('up', 'up', { instance: 'app:3000', job: 'llm-app' }, ['instance', 'job'], {
      usd: false,
      type: 'gauge',
      resets: false,
    });
    up.data[k] = k === restartSlot ? 0 : 1;
    if (k !== restartSlot) {
      const s = season(t);
      for (const f of FEATURES) {
        const profile = PROFILES[f];
        const n = poisson(profile.perSlot * s);
        const picker = pickers.get(f) as { users: string[]; cdf: number[] };
        const route =
          f === 'agent' && t > shift.from && t <= shift.to
            ? shiftedAgent
            : (routing.get(f) as ReturnType<typeof modelPickers>);
        const inputMean =
          f === 'summarise' && t > spike.from && t <= spike.to ? profile.input * 10 : profile.input;
        for (let i = 0; i < n; i++) {
          const user = pick(picker.users, picker.cdf);
          const modelId = pick(route.ids, route.cdf);
          if (profile.responseCache !== undefined) {
            const hit = rand() < profile.responseCache;
            add(
              seriesFor('cacheLookups', { feature: f, result: hit ? 'hit' : 'miss' }, false),
              k,
              1,
            );
            if (hit) {
              const price = priceOf.get(modelId);
              if (price) {
                const est = {
                  input: inputMean,
                  cacheRead: 0,
                  cacheWrite: 0,
                  output: profile.output,
                  reasoning: 0,
                };
                const ml = modelLabels(modelId);
                add(
                  seriesFor(
                    'cacheSavings',
                    { provider: ml.provider, model: ml.model, feature: f, cache: 'response' },
                    true,
                  ),
                  k,
                  units(costOf(price, est)),
                );
              }
              continue;
            }
          }
          call(k, t, f, user, modelId, inputMean);
        }
      }
      if (t > runaway.from && t <= runaway.to) {
        for (let i = 0; i < 400; i++) call(k, t, 'chat', RUNAWAY_USER, 'gpt-4o', 2000);
      }
    }
    writeBudgets(k);
  }

  // --- ALERTS (synthetic: what a Prometheus evaluating prometheus/rules/alerts.yaml every 5m
  // writes for the designed anomalies; the windows were read from the alert expressions evaluated
  // on this history, and test/finops-history.test.ts proves that each expression holds over its
  // `for` and every step of the window, and stops right after). Not written, though the data
  // triggers them: LlmUserFarAbovePeers of the top spender at weekday peaks,
  // LlmUnpricedModelSeen (all month), LlmBudgetWarning of the users at warning, and the pending
  // states.
  const exceededAt = runawayExceededAt ?? runaway.to;
  const anomalies: AnomalyWindow[] = [
    {
      cause: 'summarise prompts 10x longer: cost per request spike',
      ...spike,
      alert: { alertname: 'LlmCostPerRequestAnomaly', feature: 'summarise', severity: 'warning' },
      firingFrom: spike.from + 1500,
      firingTo: spike.to + 2400,
    },
    {
      cause: 'agent routed 80% to claude-opus-4-1 (premium): tier-mix shift',
      ...shift,
      alert: { alertname: 'LlmTierMixShift', severity: 'warning' },
      firingFrom: shift.from + 2400,
      firingTo: shift.to + 2700,
    },
    {
      cause: `${RUNAWAY_USER} loops on chat (400 calls per 5m) until denied`,
      ...runaway,
      alert: { alertname: 'LlmRunawayUser', severity: 'warning', user: RUNAWAY_USER },
      firingFrom: runaway.from + 900,
      firingTo: exceededAt - step,
    },
    {
      cause: `${RUNAWAY_USER}'s loop: chat volume over 3x the same hour of the last two weeks`,
      ...runaway,
      alert: { alertname: 'LlmVolumeSpike', feature: 'chat', severity: 'warning' },
      firingFrom: runaway.from + 1500,
      firingTo: runaway.to + 3300,
    },
    {
      cause: `${RUNAWAY_USER}'s loop: chat cost per call up (long gpt-4o prompts) until denied`,
      from: runaway.from,
      to: exceededAt,
      alert: { alertname: 'LlmCostPerRequestAnomaly', feature: 'chat', severity: 'warning' },
      firingFrom: runaway.from + 1200,
      firingTo: exceededAt + 3300,
    },
    {
      cause: `${RUNAWAY_USER} over their month cap`,
      from: exceededAt,
      to: end,
      alert: {
        alertname: 'LlmBudgetExceeded',
        scope: 'user',
        severity: 'critical',
        subject: RUNAWAY_USER,
        window: 'month',
      },
      firingFrom: exceededAt + step,
      firingTo: end,
    },
  ];
  for (const a of anomalies) {
    const labels = { alertname: a.alert.alertname ?? '', alertstate: 'firing', ...a.alert };
    const order = [
      'alertname',
      'alertstate',
      ...Object.keys(a.alert)
        .filter((l) => l !== 'alertname')
        .sort(),
    ];
    const s = get('ALERTS', 'ALERTS', labels, order, { usd: false, type: 'gauge', resets: false });
    for (let t = a.firingFrom; t <= a.firingTo; t += step) s.data[(t - start) / step] = 1;
  }

  const list = [...series.values()].sort((a, b) =>
    a.family === b.family ? (a.labelText < b.labelText ? -1 : 1) : a.family < b.family ? -1 : 1,
  );
  const ledger = buildLedger(list, {
    start,
    end,
    step,
    slots,
    perDay,
    anomalies,
    restartAt,
  });

  return {
    options: { end, days, step, seed },
    hash,
    ledger,
    features: FEATURES,
    users,
    seriesCount: list.length,
    *openMetrics() {
      for (let i = 0; i < list.length; i++) {
        const s = list[i] as Series;
        if (i === 0 || (list[i - 1] as Series).family !== s.family)
          yield `# TYPE ${s.family} ${s.type}\n`;
        yield seriesText(s, start, step, restartSlot);
      }
      yield '# EOF\n';
    },
  };
}

function capState(spent: number, cap: ScenarioCap): 'ok' | 'warning' | 'exceeded' {
  if (spent >= cap.limit) return 'exceeded';
  if (spent >= cap.limit * cap.warnAt) return 'warning';
  return 'ok';
}

/** Cumulative values of a counter as written (the restart drops app counters to 0). */
function cumulative(s: Series, restartSlot: number): Float64Array {
  const out = new Float64Array(s.data.length);
  let acc = 0;
  for (let k = 1; k < s.data.length; k++) {
    if (s.resets && k === restartSlot) acc = 0;
    else acc += s.data[k] ?? 0;
    out[k] = acc;
  }
  return out;
}

function seriesText(s: Series, start: number, step: number, restartSlot: number): string {
  const head = s.name + (s.labelText === '{}' ? '' : s.labelText) + ' ';
  const lines: string[] = [];
  if (s.type === 'counter') {
    const values = cumulative(s, restartSlot);
    for (let k = 0; k < values.length; k++)
      lines.push(`${head}${(values[k] ?? 0) * s.scale} ${start + k * step}`);
  } else {
    for (let k = 0; k < s.data.length; k++) {
      const v = s.data[k] ?? NaN;
      if (!Number.isNaN(v)) lines.push(`${head}${v * s.scale} ${start + k * step}`);
    }
  }
  return lines.join('\n') + '\n';
}

interface LedgerContext {
  start: number;
  end: number;
  step: number;
  slots: number;
  perDay: number;
  anomalies: AnomalyWindow[];
  restartAt: number;
}

/** The ledger, summed in integer units from the very series written. */
function buildLedger(list: Series[], ctx: LedgerContext): FinopsLedger {
  const sum = (s: Series, from = 1, to = ctx.slots) => {
    let acc = 0;
    for (let k = from; k <= to; k++) acc += s.data[k] ?? 0;
    return acc;
  };
  const of = (name: string) => list.filter((s) => s.name === name);
  const usd = (u: number) => u * USD_UNIT;

  interface Acc {
    cost: number;
    baseline: number;
    requests: StatusCounts;
  }
  const newAcc = (): Acc => ({ cost: 0, baseline: 0, requests: emptyStatus() });
  const figures = (a: Acc): SpendFigures => ({
    cost: usd(a.cost),
    baseline: usd(a.baseline),
    savings: usd(a.baseline - a.cost),
    requests: { ...a.requests },
  });
  const spend = (from: number, to: number) => {
    const total = newAcc();
    const byFeature = new Map<string, Acc>();
    const byModel = new Map<string, Acc & { provider: string; model: string; tier: string }>();
    const byTier = new Map<string, Acc>();
    const rows = new Map<
      string,
      {
        labels: Record<string, string>;
        cost: number;
        baseline: number;
        ok: number;
        tokens: Record<string, number>;
      }
    >();
    const accs = (l: Record<string, string>) => {
      const f = l.feature ?? '';
      const mk = `${l.provider}/${l.model}`;
      if (!byFeature.has(f)) byFeature.set(f, newAcc());
      if (!byModel.has(mk))
        byModel.set(mk, {
          ...newAcc(),
          provider: l.provider ?? '',
          model: l.model ?? '',
          tier: l.tier ?? '',
        });
      if (!byTier.has(l.tier ?? '')) byTier.set(l.tier ?? '', newAcc());
      const rk = `${mk}/${l.tier}/${f}`;
      if (!rows.has(rk)) rows.set(rk, { labels: l, cost: 0, baseline: 0, ok: 0, tokens: {} });
      return [total, byFeature.get(f), byModel.get(mk), byTier.get(l.tier ?? '')] as Acc[];
    };
    for (const s of of('llm_requests_total')) {
      const n = sum(s, from, to);
      const status = s.labels.status as RequestStatus;
      for (const a of accs(s.labels)) {
        a.requests[status] += n;
        a.requests.total += n;
      }
      if (status === 'ok') {
        const r = rows.get(
          `${s.labels.provider}/${s.labels.model}/${s.labels.tier}/${s.labels.feature}`,
        );
        if (r) r.ok += n;
      }
    }
    for (const [name, field] of [
      ['llm_cost_usd_total', 'cost'],
      ['llm_baseline_cost_usd_total', 'baseline'],
    ] as const) {
      for (const s of of(name)) {
        const n = sum(s, from, to);
        for (const a of accs(s.labels)) a[field] += n;
        const r = rows.get(
          `${s.labels.provider}/${s.labels.model}/${s.labels.tier}/${s.labels.feature}`,
        );
        if (r) r[field] += n;
      }
    }
    // Tokens carry no tier: a model has one tier, so provider/model/feature finds the row.
    const rowOf = new Map(
      [...rows.values()].map((r) => [
        `${r.labels.provider}/${r.labels.model}/${r.labels.feature}`,
        r,
      ]),
    );
    const tokens: Record<string, number> = {};
    for (const s of of('llm_tokens_total')) {
      const n = sum(s, from, to);
      const type = s.labels.type ?? '';
      tokens[type] = (tokens[type] ?? 0) + n;
      const r = rowOf.get(`${s.labels.provider}/${s.labels.model}/${s.labels.feature}`);
      if (r) r.tokens[type] = (r.tokens[type] ?? 0) + n;
    }
    const mapOut = (m: Map<string, Acc>) =>
      Object.fromEntries(
        [...m].sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, a]) => [k, figures(a)]),
      );
    return {
      tokens,
      total: figures(total),
      byFeature: mapOut(byFeature),
      byModel: Object.fromEntries(
        [...byModel]
          .sort(([a], [b]) => (a < b ? -1 : 1))
          .map(([k, a]) => [
            k,
            { provider: a.provider, model: a.model, tier: a.tier, ...figures(a) },
          ]),
      ),
      byTier: mapOut(byTier),
      rows: [...rows.values()]
        .filter((r) => r.cost > 0 || r.ok > 0)
        .map((r) => ({
          provider: r.labels.provider ?? '',
          model: r.labels.model ?? '',
          tier: r.labels.tier ?? '',
          feature: r.labels.feature ?? '',
          cost: usd(r.cost),
          baseline: usd(r.baseline),
          requests: r.ok,
          tokens: r.tokens,
        }))
        .sort((a, b) =>
          `${a.provider}/${a.model}/${a.feature}` < `${b.provider}/${b.model}/${b.feature}`
            ? -1
            : 1,
        ),
    };
  };

  const all = spend(1, ctx.slots);
  const byLabel = (name: string, label: string, from = 1, to = ctx.slots) => {
    const m = new Map<string, number>();
    for (const s of of(name)) {
      const key = s.labels[label] ?? '';
      m.set(key, (m.get(key) ?? 0) + sum(s, from, to));
    }
    return m;
  };
  const userCostUnits = byLabel('llm_user_cost_usd_total', 'user');
  const userCost = Object.fromEntries([...userCostUnits].map(([u, n]) => [u, usd(n)]));
  const userCostByFeature: Record<string, Record<string, number>> = {};
  for (const s of of('llm_user_cost_usd_total')) {
    const byFeature = (userCostByFeature[s.labels.user ?? ''] ??= {});
    const f = s.labels.feature ?? '';
    byFeature[f] = (byFeature[f] ?? 0) + usd(sum(s));
  }
  let top = { user: '', cost: -1 };
  for (const [user, cost] of Object.entries(userCost)) if (cost > top.cost) top = { user, cost };
  const savings = byLabel('llm_cache_savings_usd_total', 'cache');
  const lookups = byLabel('llm_cache_lookups_total', 'result');
  const outcomes: Record<string, Record<string, number>> = {};
  for (const s of of('llm_outcomes_total')) {
    const f = s.labels.feature ?? '';
    const o = s.labels.outcome ?? '';
    (outcomes[f] ??= {})[o] = (outcomes[f]?.[o] ?? 0) + sum(s);
  }
  const costPerSuccess: Record<string, number> = {};
  for (const [f, fig] of Object.entries(all.byFeature)) {
    const success = outcomes[f]?.success ?? 0;
    if (success > 0) costPerSuccess[f] = fig.cost / success;
  }
  const unpriced: Record<string, number> = {};
  for (const s of of('llm_unpriced_requests_total'))
    unpriced[`${s.labels.provider}/${s.labels.model}`] = sum(s);
  const decisions = byLabel('llm_budget_decisions_total', 'decision');

  const daily: DailyFigures[] = [];
  for (let d = 0; d * ctx.perDay < ctx.slots; d++) {
    const from = d * ctx.perDay + 1;
    const to = (d + 1) * ctx.perDay;
    const day = spend(from, to);
    const dayStart = ctx.start + d * DAY;
    daily.push({
      date: isoDate(dayStart),
      start: dayStart,
      end: dayStart + DAY,
      ...day.total,
      byFeature: day.byFeature,
      tokens: day.tokens,
      rows: day.rows,
    });
  }

  // Budget gauges at the last sample (and the one before, what a reader just before `end` sees).
  const last = ctx.slots;
  const budgetSubjects: Record<string, number> = {};
  const gaugeAt = (name: string, k: number) =>
    list.filter((s) => s.name === name && !Number.isNaN(s.data[k] ?? NaN));
  const budgetRowsAt = (k: number): BudgetRow[] =>
    gaugeAt('llm_budget_limit_usd', k).map((s) => {
      const l = s.labels;
      const find = (n: string) =>
        list.find((x) => x.name === n && x.labelText === s.labelText)?.data[k] ?? NaN;
      const limit = s.data[k] ?? NaN;
      const spent = find('llm_budget_spent_usd');
      const warn = find('llm_budget_warn_usd');
      return {
        scope: l.scope as BudgetRow['scope'],
        subject: l.subject ?? '',
        window: l.window ?? '',
        limit,
        warn,
        spent,
        state: spent >= limit ? 'exceeded' : spent >= warn ? 'warning' : 'ok',
      };
    });
  const budgets = budgetRowsAt(last);
  for (const s of gaugeAt('llm_budget_subjects', last))
    budgetSubjects[`${s.labels.scope}/${s.labels.state}`] = s.data[last] ?? NaN;
  const userRows = budgets.filter((b) => b.scope === 'user');

  // Running sums (units) of each user cost series, made on first use: O(1) per interval.
  const userSeries = of('llm_user_cost_usd_total');
  const running = new Map<Series, Float64Array>();
  const runningOf = (s: Series) => {
    let r = running.get(s);
    if (!r) {
      r = new Float64Array(s.data.length);
      for (let k = 1; k < r.length; k++) r[k] = (r[k - 1] ?? 0) + (s.data[k] ?? 0);
      running.set(s, r);
    }
    return r;
  };
  const slotAt = (t: number) => {
    const k = (t - ctx.start) / ctx.step;
    if (!Number.isInteger(k) || k < 0 || k > ctx.slots) throw new Error(`${t}: not a sample time`);
    return k;
  };
  const userCostIn = (user: string, from: number, to: number, feature?: string) => {
    const [a, b] = [slotAt(from), slotAt(to)];
    let units = 0;
    for (const s of userSeries)
      if (s.labels.user === user && (feature === undefined || s.labels.feature === feature)) {
        const r = runningOf(s);
        units += (r[b] ?? 0) - (r[a] ?? 0);
      }
    return usd(units);
  };

  return {
    start: ctx.start,
    end: ctx.end,
    step: ctx.step,
    totals: all.total,
    savingsRatio: 1 - all.total.cost / all.total.baseline,
    byFeature: all.byFeature,
    byModel: all.byModel,
    byTier: all.byTier,
    userCost,
    userCostByFeature,
    userRequests: Object.fromEntries(byLabel('llm_user_requests_total', 'user')),
    topSpender: top,
    tokens: all.tokens,
    cacheSavings: {
      prompt: usd(savings.get('prompt') ?? 0),
      response: usd(savings.get('response') ?? 0),
    },
    cacheLookups: { hit: lookups.get('hit') ?? 0, miss: lookups.get('miss') ?? 0 },
    outcomes,
    costPerSuccess,
    unpriced,
    decisions: { allow: decisions.get('allow') ?? 0, deny: decisions.get('deny') ?? 0 },
    daily,
    caps: [...SCENARIO_CAPS],
    budgets,
    budgetsBeforeEnd: budgetRowsAt(last - 1),
    budgetSubjects,
    usersOverCap: userRows
      .filter((b) => b.state === 'exceeded')
      .map((b) => b.subject)
      .sort(),
    usersAtWarning: userRows
      .filter((b) => b.state === 'warning')
      .map((b) => b.subject)
      .sort(),
    anomalies: ctx.anomalies,
    restartAt: ctx.restartAt,
    userCostIn,
  };
}
