import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { DASHBOARDS, DASHBOARDS_DIR } from '../grafana/src/generate';
import { TOP_USERS } from '../grafana/src/overview';
import { METRICS } from '../src/contract/metrics';
import { ROOT } from './helpers/child';
import { startFinopsHistory, type FinopsHistory } from './helpers/finops-history';
import type { FinopsLedger } from './helpers/finops-scenario';

/**
 * Every query of the committed dashboards (grafana/dashboards/*.json) run against a real
 * Prometheus holding the 30-day history of test/helpers/finops-scenario.ts, as Grafana would run
 * it over the range "last 30 days" ending at the history's last sample:
 * - every target of every panel (rows' nested panels too), the annotation queries and the
 *   variable queries, with the Grafana variables substituted ($datasource, $feature = All or one
 *   feature, $user = the top spender, $__range, $__range_s, $__interval and $__rate_interval
 *   computed the Grafana way from the panel width, the panel's min interval and the
 *   datasource's timeInterval), as a range query (POST /api/v1/query_range, step = interval)
 *   and as an instant query at the end: each returns data (failures named per panel), with the
 *   labels its legend names;
 * - the key panels equal the scenario's ledger exactly (1e-9 relative): ROI (requests, baseline,
 *   actual, saved %), savings, spend by feature and by model, top users and the top spender,
 *   the spend rate of the top users (the same users at every step, each step's spend), cost per
 *   successful outcome, cache savings, users over budget, budget caps, every daily cost bar, the
 *   tier shares, the $user drill-down; with $feature = one feature, the filter holds;
 * - the anomaly panels show the scenario's designed anomalies above their bands (cost per
 *   request, z-score and robust, tier mix, runaway user, volume spike) and not in the day around them.
 */

interface Target {
  expr: string;
  refId: string;
  legendFormat?: string;
  instant?: boolean;
  interval?: string;
  intervalFactor?: number;
}
interface Panel {
  type: string;
  title: string;
  gridPos: { w: number };
  interval?: string;
  maxDataPoints?: number;
  targets?: Target[];
  panels?: Panel[];
}
interface Dashboard {
  uid: string;
  panels: Panel[];
  templating: {
    list: { name: string; type: string; query?: string; allValue?: string; includeAll?: boolean }[];
  };
  annotations: { list?: { name: string; expr?: string; step?: string }[] };
}

const dashboards = DASHBOARDS.map(
  (d) => JSON.parse(readFileSync(join(ROOT, DASHBOARDS_DIR, d.file), 'utf8')) as Dashboard,
);
const dashboard = (uid: string) => dashboards.find((d) => d.uid === uid) as Dashboard;
const panelsOf = (d: Dashboard) =>
  d.panels.flatMap((p) => [p, ...(p.panels ?? [])]).filter((p) => p.type !== 'row');
const panel = (uid: string, title: string) => {
  const p = panelsOf(dashboard(uid)).find((x) => x.title === title);
  if (!p) throw new Error(`${uid}: no panel "${title}"`);
  return p;
};

/** The provisioned datasource's timeInterval (Grafana's scrape interval for $__rate_interval). */
const TIME_INTERVAL = (
  parse(
    readFileSync(join(ROOT, 'grafana', 'provisioning', 'datasources', 'prometheus.yaml'), 'utf8'),
  ) as { datasources: { jsonData: { timeInterval: string } }[] }
).datasources[0]!.jsonData.timeInterval;

const DAYS = 30;
const RANGE_S = DAYS * 86_400;
/** Grafana's default maxDataPoints is the panel's width in pixels: a 1920 px wide dashboard. */
const widthPx = (p: Panel) => Math.round((p.gridPos.w / 24) * 1920);

// --- Grafana's interval arithmetic (grafana-data rangeutil and the Prometheus datasource) ---

const UNITS: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86_400, w: 604_800 };
/** '15s' -> 15, '1d' -> 86400. */
export function intervalSeconds(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d|w)$/.exec(text);
  if (!m) throw new Error(`bad interval ${text}`);
  return Number(m[1]) * UNITS[m[2]!]!;
}

/** rangeutil.roundInterval (milliseconds in, milliseconds out). */
export function roundInterval(ms: number): number {
  const table: [number, number][] = [
    [10, 1],
    [15, 10],
    [35, 20],
    [75, 50],
    [150, 100],
    [350, 200],
    [750, 500],
    [1500, 1000],
    [3500, 2000],
    [7500, 5000],
    [12500, 10000],
    [17500, 15000],
    [25000, 20000],
    [45000, 30000],
    [90000, 60000],
    [210000, 120000],
    [450000, 300000],
    [750000, 600000],
    [1050000, 900000],
    [1500000, 1200000],
    [2700000, 1800000],
    [5400000, 3600000],
    [9000000, 7200000],
    [16200000, 10800000],
    [32400000, 21600000],
    [86400000, 43200000],
    [604800000, 86400000],
    [1814400000, 604800000],
    [3628800000, 2592000000],
  ];
  for (const [below, value] of table) if (ms < below) return value;
  return 31536000000;
}

/**
 * The step, $__interval and $__rate_interval Grafana gives one target of a panel over a range:
 * interval = roundInterval(range / maxDataPoints), at least the panel's min interval (or the
 * datasource's timeInterval); the Prometheus datasource then applies the target's min step and
 * at most 11,000 points; rate interval = max(interval + scrape, 4 x scrape).
 */
export function grafanaInterval(
  p: Pick<Panel, 'interval' | 'maxDataPoints' | 'gridPos'>,
  t: Pick<Target, 'interval' | 'intervalFactor'>,
  rangeS: number,
  timeInterval: string,
): { step: number; rateInterval: number } {
  const maxDataPoints = p.maxDataPoints ?? widthPx(p as Panel);
  const lowLimit = intervalSeconds(p.interval ?? timeInterval);
  const panelInterval = Math.max(roundInterval((rangeS * 1000) / maxDataPoints) / 1000, lowLimit);
  const minInterval = t.interval ? intervalSeconds(t.interval) : panelInterval;
  const safe = Math.ceil(rangeS / 11000);
  const step = Math.max(Math.max(panelInterval, minInterval) * (t.intervalFactor ?? 1), safe);
  const scrape = intervalSeconds(timeInterval);
  return { step, rateInterval: Math.max(step + scrape, 4 * scrape) };
}

/** Substitutes Grafana variables ($name, ${name}, [[name]]) in a query. */
export function substitute(expr: string, vars: Record<string, string>): string {
  let out = expr;
  for (const name of Object.keys(vars).sort((a, b) => b.length - a.length)) {
    const v = vars[name]!;
    out = out
      .split(`\${${name}}`)
      .join(v)
      .split(`[[${name}]]`)
      .join(v)
      .replace(new RegExp(`\\$${name.replace(/\$/g, '\\$')}(?![\\w])`, 'g'), () => v);
  }
  expect(out, `unsubstituted variable in ${out}`).not.toMatch(/\$\w|\[\[/);
  return out;
}

// --- Prometheus HTTP API ---

interface Series {
  metric: Record<string, string>;
  values?: [number, string][];
  value?: [number, string];
}

let history: FinopsHistory;
let L: FinopsLedger;
let end: number;
let start: number;

/** POST (query endpoints, as Grafana's httpMethod POST) or GET (label values). */
async function api(
  path: string,
  params: Record<string, string | number>,
  method: 'POST' | 'GET' = 'POST',
): Promise<unknown> {
  const body = new URLSearchParams(
    Object.entries(params).map(([k, v]): [string, string] => [k, String(v)]),
  );
  const res =
    method === 'POST'
      ? await fetch(`${history.prom.url}${path}`, { method, body })
      : await fetch(`${history.prom.url}${path}?${body.toString()}`);
  const json = (await res.json()) as { status: string; error?: string; data: unknown };
  if (json.status !== 'success') throw new Error(`${path} ${body.toString()}: ${json.error}`);
  return json.data;
}
const rangeQuery = async (query: string, step: number): Promise<Series[]> => {
  // Grafana aligns start and end to the step (UTC dashboard: no offset).
  const s = Math.floor(start / step) * step;
  const e = Math.floor(end / step) * step;
  return (
    (await api('/api/v1/query_range', { query, start: s, end: e, step })) as { result: Series[] }
  ).result;
};
const instantQuery = async (query: string, time = end): Promise<Series[]> =>
  ((await api('/api/v1/query', { query, time })) as { result: Series[] }).result;

/** Variables of a run: All features, the top spender as $user. */
function varsFor(
  p: Panel,
  t: Target,
  choice: { feature?: string; user?: string } = {},
): { vars: Record<string, string>; step: number } {
  const { step, rateInterval } = grafanaInterval(p, t, RANGE_S, TIME_INTERVAL);
  return {
    step,
    vars: {
      datasource: 'llm-finops-prometheus',
      feature: choice.feature ?? '.*',
      user: choice.user ?? L.topSpender.user,
      __range: `${RANGE_S}s`,
      __range_s: String(RANGE_S),
      __range_ms: String(RANGE_S * 1000),
      __interval: `${step}s`,
      __interval_ms: String(step * 1000),
      __rate_interval: `${rateInterval}s`,
    },
  };
}

/** Runs a panel's target the way the panel does (instant at the end, or range). */
async function run(uid: string, title: string, refId = 'A', choice = {}): Promise<Series[]> {
  const p = panel(uid, title);
  const t = p.targets?.find((x) => x.refId === refId);
  if (!t) throw new Error(`${uid} "${title}" has no target ${refId}`);
  const { vars, step } = varsFor(p, t, choice);
  const expr = substitute(t.expr, vars);
  return t.instant ? instantQuery(expr) : rangeQuery(expr, step);
}
const value = (s: Series | undefined): number => Number(s?.value?.[1] ?? NaN);
/** One value per series, keyed by the given labels joined with '/'. */
const byLabels = (result: Series[], ...labels: string[]) =>
  Object.fromEntries(result.map((s) => [labels.map((l) => s.metric[l]).join('/'), value(s)]));

/** Equal to 1e-9 relative (and to the micro-dollar). */
function expectClose(actual: number, expected: number, what: string) {
  const tol = Math.max(1e-9 * Math.abs(expected), 1e-12);
  expect(
    Math.abs(actual - expected) <= tol,
    `${what}: got ${actual}, ledger ${expected} (diff ${actual - expected})`,
  ).toBe(true);
}
function expectAllClose(
  actual: Record<string, number>,
  expected: Record<string, number>,
  what: string,
) {
  expect(Object.keys(actual).sort(), `${what}: keys`).toEqual(Object.keys(expected).sort());
  for (const [k, v] of Object.entries(expected)) expectClose(actual[k]!, v, `${what} ${k}`);
}

beforeAll(async () => {
  history = await startFinopsHistory();
  L = history.scenario.ledger;
  end = history.end;
  start = end - RANGE_S;
}, 240_000);
afterAll(async () => {
  await history?.stop();
});

describe('Grafana interval arithmetic', () => {
  it('gives the step and $__rate_interval Grafana uses over 30 days', () => {
    const ts = (w: number, interval?: string) => ({ gridPos: { w }, interval });
    // Half-width panel: 960 px -> 30d / 960 = 45 min -> rounded to 1h; + 15s scrape.
    expect(grafanaInterval(ts(12), {}, RANGE_S, '15s')).toEqual({ step: 3600, rateInterval: 3615 });
    // Full width: 1920 px -> 22.5 min -> 20 min.
    expect(grafanaInterval(ts(24), {}, RANGE_S, '15s')).toEqual({ step: 1200, rateInterval: 1215 });
    // Min interval 1d (daily bars).
    expect(grafanaInterval(ts(24, '1d'), { interval: '1d' }, RANGE_S, '15s').step).toBe(86_400);
    // Short range: at least 4 scrape intervals.
    expect(grafanaInterval(ts(24), {}, 3600, '15s')).toEqual({ step: 15, rateInterval: 60 });
    expect(
      substitute('rate(x{f=~"$feature"}[$__rate_interval]) [$__range] ${feature}', {
        feature: '.*',
        __range: '2592000s',
        __rate_interval: '3615s',
      }),
    ).toBe('rate(x{f=~".*"}[3615s]) [2592000s] .*');
  }, 5_000);
});

describe('every dashboard query against the 30-day history', () => {
  it('every target of every panel returns data, as a range query and as an instant query at the end, with the labels its legend names', async () => {
    const jobs: { where: string; go: () => Promise<string | undefined> }[] = [];
    for (const d of dashboards)
      for (const p of panelsOf(d))
        for (const t of p.targets ?? []) {
          const id = `${d.uid} "${p.title}" ${t.refId}`;
          const where = `${id}${t.instant ? ' (instant panel)' : ''}`;
          const { vars, step } = varsFor(p, t);
          const expr = substitute(t.expr, vars);
          jobs.push({
            where,
            go: async () => {
              const range = await rangeQuery(expr, step);
              const points = range.reduce((n, s) => n + (s.values?.length ?? 0), 0);
              const instant = await instantQuery(expr);
              // Every {{label}} of the legend is a label of the series (no blank legends).
              const legendLabels = [...(t.legendFormat ?? '').matchAll(/\{\{\s*(\w+)\s*\}\}/g)];
              const blank = legendLabels
                .map((m) => m[1]!)
                .filter((l) => !range.some((r) => r.metric[l] !== undefined));
              const missing = [
                ...(points === 0 ? ['range: no data'] : []),
                ...(instant.length === 0 ? ['instant: no data'] : []),
                ...blank.map((l) => `legend label ${l} absent`),
              ];
              return missing.length ? `${where}: ${missing.join(', ')} for ${expr}` : undefined;
            },
          });
        }
    expect(jobs.length).toBeGreaterThan(60);
    const failures: string[] = [];
    // Two queries at a time: the machine is shared.
    for (let i = 0; i < jobs.length; i += 2) {
      const batch = await Promise.all(jobs.slice(i, i + 2).map((j) => j.go()));
      failures.push(...batch.filter((f): f is string => f !== undefined));
    }
    expect(failures).toEqual([]);
  }, 60_000);

  it('the annotation queries mark the designed anomalies; the variable queries list the scenario’s features and users', async () => {
    const overview = dashboard('llm-finops-overview');
    const ann = overview.annotations.list?.find((a) => a.name === 'LLM alerts');
    expect(ann?.expr).toBeTruthy();
    const step = intervalSeconds(ann!.step ?? '60s');
    const result = await rangeQuery(ann!.expr!, step);
    expect(new Set(result.map((s) => s.metric.alertname))).toEqual(
      new Set(L.anomalies.map((a) => a.alert.alertname)),
    );
    for (const a of L.anomalies) {
      const s = result.find((r) => Object.entries(a.alert).every(([k, v]) => r.metric[k] === v));
      expect(s, a.cause).toBeDefined();
      const times = s!.values!.map(([t]) => t);
      expect(Math.min(...times), a.cause).toBeGreaterThanOrEqual(a.firingFrom - step);
      expect(Math.max(...times), a.cause).toBeLessThanOrEqual(a.firingTo + step);
    }

    const fired = await run('llm-finops-anomalies', 'Firing alerts');
    expect(fired.map((r) => r.metric.alertname).sort()).toEqual(
      L.anomalies.map((a) => a.alert.alertname).sort(),
    );

    for (const d of dashboards)
      for (const v of d.templating.list.filter((x) => x.type === 'query')) {
        const m = /^label_values\((\w+),\s*(\w+)\)$/.exec(v.query ?? '');
        expect(m, `${d.uid} ${v.name}: ${v.query}`).not.toBeNull();
        const values = (await api(
          `/api/v1/label/${m![2]}/values`,
          { 'match[]': m![1]!, start, end },
          'GET',
        )) as string[];
        const expected = m![2] === 'feature' ? history.scenario.features : history.scenario.users;
        expect([...values].sort(), `${d.uid} variable ${v.name}`).toEqual([...expected].sort());
      }
  }, 30_000);
});

describe('key panels equal the ledger', () => {
  const O = 'llm-finops-overview';
  const U = 'llm-finops-users';

  it('ROI: requests, at baseline rates, actual, saved; savings in period', async () => {
    expect(value((await run(O, 'ROI', 'A'))[0])).toBe(L.totals.requests.ok);
    expectClose(value((await run(O, 'ROI', 'B'))[0]), L.totals.baseline, 'baseline');
    expectClose(value((await run(O, 'ROI', 'C'))[0]), L.totals.cost, 'actual');
    expectClose(value((await run(O, 'ROI', 'D'))[0]), L.savingsRatio, 'saved');
    expectClose(value((await run(O, 'Savings in period'))[0]), L.totals.savings, 'savings');
  }, 20_000);

  it('spend by feature and by model, cost per successful outcome, cache savings', async () => {
    const cost = (r: Record<string, { cost: number }>) =>
      Object.fromEntries(Object.entries(r).map(([k, v]) => [k, v.cost]));
    expectAllClose(
      byLabels(await run(O, 'Spend by feature'), 'feature'),
      cost(L.byFeature),
      'spend by feature',
    );
    // The unpriced model has no cost series (its cost is unknown, not zero).
    const priced = Object.fromEntries(
      Object.entries(L.byModel)
        .filter(([, m]) => m.tier !== 'unknown')
        .map(([k, m]) => [k, m.cost]),
    );
    expectAllClose(
      byLabels(await run(O, 'Spend by model'), 'provider', 'model'),
      priced,
      'spend by model',
    );
    expectAllClose(
      byLabels(await run(O, 'Cost per successful outcome'), 'feature'),
      L.costPerSuccess,
      'cost per success',
    );
    expectAllClose(
      byLabels(await run(O, 'Cache savings'), 'cache'),
      L.cacheSavings,
      'cache savings',
    );
  }, 20_000);

  it('top users by spend, users over budget, budget caps', async () => {
    const ranked = Object.entries(L.userCost).sort((a, b) => b[1] - a[1]);
    const top = await run(O, 'Top users by spend');
    expectAllClose(
      byLabels(top, 'user'),
      Object.fromEntries(ranked.slice(0, TOP_USERS)),
      'top users',
    );
    const first = [...top].sort((a, b) => value(b) - value(a))[0]!;
    expect(first.metric.user).toBe(L.topSpender.user);
    expectClose(value(first), L.topSpender.cost, 'top spender');

    expect(byLabels(await run(O, 'Users over budget'), 'window')).toEqual({
      month: L.usersOverCap.length,
    });
    expect(L.budgetSubjects['user/exceeded']).toBe(L.usersOverCap.length);

    const key = (r: { scope: string; subject: string; window: string }) =>
      `${r.scope}/${r.subject}/${r.window}`;
    const rows = (f: (r: FinopsLedger['budgets'][number]) => number) =>
      Object.fromEntries(L.budgets.map((r) => [key(r), f(r)]));
    const caps = async (ref: string) =>
      byLabels(await run(O, 'Budget caps', ref), 'scope', 'subject', 'window');
    expectAllClose(
      await caps('A'),
      rows((r) => r.spent / r.limit),
      'caps used',
    );
    expectAllClose(
      await caps('B'),
      rows((r) => r.spent),
      'caps spent',
    );
    expectAllClose(
      await caps('C'),
      rows((r) => r.limit),
      'caps limit',
    );
    expectAllClose(
      await caps('D'),
      rows((r) => r.warn / r.limit),
      'caps warn at',
    );
  }, 20_000);

  it('spend rate by user: the top users of the whole range at every step, each at its spend per step', async () => {
    const title = `Spend rate by user (top ${TOP_USERS})`;
    const p = panel(O, title);
    const { step, rateInterval } = grafanaInterval(p, p.targets![0]!, RANGE_S, TIME_INTERVAL);
    // $__rate_interval = step + 15s holds the samples t - step … t; rate extrapolates their
    // increase by the 15s to the window's start and divides by the window, so × 3600 it is the
    // spend in (t - step, t] per hour, exactly. Not where a counter at t - step is under 15s of
    // that pace above its zero (Prometheus extrapolates only to the zero): just after the
    // history's start and the restart. Those steps are skipped.
    const extra = rateInterval - step;
    expect(step % L.step).toBe(0);
    expect(extra).toBeLessThan(1.1 * L.step);
    const topOf = (spend: [string, number][]) => {
      const ranked = [...spend].sort((a, b) => b[1] - a[1]);
      expect(ranked[TOP_USERS - 1]![1], 'no tie at the cut').toBeGreaterThan(ranked[TOP_USERS]![1]);
      return ranked.slice(0, TOP_USERS).map(([u]) => u);
    };
    const check = async (feature?: string) => {
      const features = feature ? [feature] : history.scenario.features;
      const spent = (u: string, from: number, to: number) =>
        features.map((f) => L.userCostIn(u, from, to, f));
      const top = topOf(
        history.scenario.users.map((u) => [u, L.userCostIn(u, start, end, feature)]),
      );
      const series = await run(O, title, 'A', feature ? { feature } : {});
      // One series per top user over the whole range: a per-step topk would add others.
      expect(series.map((s) => s.metric.user).sort(), `users (${feature ?? 'all'})`).toEqual(
        [...top].sort(),
      );
      let checked = 0;
      let skipped = 0;
      for (const s of series) {
        expect(s.values!.length, `${s.metric.user}: a point at every step`).toBe(RANGE_S / step);
        for (const [t, v] of s.values!) {
          const from = t - step;
          const zero = from >= L.restartAt ? L.restartAt : L.start;
          const before = spent(s.metric.user!, zero, from);
          const delta = spent(s.metric.user!, from, t);
          if (delta.some((d, i) => d > 0 && before[i]! < (d * extra) / step)) {
            skipped++;
            continue;
          }
          checked++;
          const inStep = delta.reduce((a, b) => a + b, 0);
          expectClose(Number(v), (inStep * 3600) / step, `${s.metric.user} at ${t}`);
        }
      }
      expect(skipped).toBeLessThan(checked / 100);
      return top;
    };
    expect(await check()).toContain(L.topSpender.user);
    await check('agent');
  }, 20_000);

  it('tier mix: the shares of the tiers add up to 1 at every point', async () => {
    const shares = await run(O, 'Tier mix');
    expect(new Set(shares.map((r) => r.metric.tier))).toEqual(
      new Set(Object.keys(L.byTier).filter((t) => L.byTier[t]!.cost > 0)),
    );
    const sums = new Map<number, number>();
    for (const r of shares)
      for (const [t, v] of r.values!) sums.set(t, (sums.get(t) ?? 0) + Number(v));
    expect(sums.size).toBeGreaterThan(600);
    for (const [t, sum] of sums) expectClose(sum, 1, `shares at ${t}`);
  }, 20_000);

  it('daily cost: one bar per UTC day, each equal to that day', async () => {
    const [series, ...rest] = await run(O, 'Daily cost');
    expect(rest).toEqual([]);
    const bars = new Map(series!.values!.map(([t, v]) => [t, Number(v)]));
    expect(bars.size).toBe(L.daily.length);
    for (const day of L.daily) expectClose(bars.get(day.end) ?? NaN, day.cost, `day ${day.date}`);
  }, 20_000);

  it('with $feature set to one feature, the overview shows only that feature', async () => {
    const f = 'agent';
    const choice = { feature: f };
    const only = L.byFeature[f]!;
    expectAllClose(
      byLabels(await run(O, 'Spend by feature', 'A', choice), 'feature'),
      { [f]: only.cost },
      'spend by feature',
    );
    expect(value((await run(O, 'ROI', 'A', choice))[0])).toBe(only.requests.ok);
    expectClose(value((await run(O, 'ROI', 'C', choice))[0]), only.cost, 'actual');
    expectClose(value((await run(O, 'Savings in period', 'A', choice))[0]), only.savings, 'saved');
  }, 20_000);

  it('users and budgets: top spenders, users near or over cap, the $user drill-down', async () => {
    const ranked = Object.entries(L.userCost).sort((a, b) => b[1] - a[1]);
    const top20 = Object.fromEntries(ranked.slice(0, 20));
    expectAllClose(byLabels(await run(U, 'Top spenders', 'A'), 'user'), top20, 'top 20 spend');
    expectAllClose(
      byLabels(await run(U, 'Top spenders', 'B'), 'user'),
      Object.fromEntries(Object.keys(top20).map((u) => [u, L.userRequests[u]!])),
      'top 20 requests',
    );
    const users = L.budgets.filter((r) => r.scope === 'user');
    expect(users.map((r) => r.subject).sort()).toEqual(
      [...L.usersOverCap, ...L.usersAtWarning].sort(),
    );
    expectAllClose(
      byLabels(await run(U, 'Users near or over cap', 'A'), 'subject', 'window'),
      Object.fromEntries(users.map((r) => [`${r.subject}/${r.window}`, r.spent / r.limit])),
      'users used',
    );
    const near = async (ref: string) =>
      byLabels(await run(U, 'Users near or over cap', ref), 'subject', 'window');
    const rows = (f: (r: FinopsLedger['budgets'][number]) => number) =>
      Object.fromEntries(users.map((r) => [`${r.subject}/${r.window}`, f(r)]));
    expectAllClose(
      await near('B'),
      rows((r) => r.spent),
      'users spent',
    );
    expectAllClose(
      await near('C'),
      rows((r) => r.limit),
      'users limit',
    );
    expectAllClose(
      await near('D'),
      rows((r) => r.warn / r.limit),
      'users warn at',
    );
    // The last point of the users-by-state series is the sidecar's count at the end.
    const states = await run(U, 'Users by budget state');
    expect(
      Object.fromEntries(
        states.map((r) => [`user/${r.metric.state}`, Number(r.values!.at(-1)![1])]),
      ),
    ).toEqual(
      Object.fromEntries(Object.entries(L.budgetSubjects).filter(([k]) => k.startsWith('user/'))),
    );
    expectClose(
      value((await run(U, 'Spend of $user'))[0]),
      L.userCost[L.topSpender.user]!,
      'spend of $user',
    );
  }, 20_000);
});

describe('the anomaly panels show the designed anomalies against their bands', () => {
  const A = 'llm-finops-anomalies';
  /** Points of `signal` above `band` (same label set), as [time, signal, band]. */
  async function above(
    title: string,
    signalRef: string,
    bandRef: string,
    match: (m: Record<string, string>) => boolean,
  ): Promise<[number, number, number][]> {
    const signal = (await run(A, title, signalRef)).filter((s) => match(s.metric));
    const band = await run(A, title, bandRef);
    expect(signal.length, `${title}: signal series`).toBe(1);
    const key = (m: Record<string, string>) => m.feature ?? '';
    const b = band.find((s) => key(s.metric) === key(signal[0]!.metric));
    expect(b, `${title}: band series`).toBeDefined();
    const bandAt = new Map(b!.values!.map(([t, v]) => [t, Number(v)]));
    return signal[0]!.values!.flatMap(([t, v]) => {
      const bv = bandAt.get(t);
      return bv !== undefined && Number(v) > bv
        ? [[t, Number(v), bv] as [number, number, number]]
        : [];
    });
  }
  const anomaly = (alertname: string) => {
    const a = L.anomalies.find((x) => x.alert.alertname === alertname);
    if (!a) throw new Error(`no designed ${alertname}`);
    return a;
  };
  /**
   * Above the band during the anomaly (its window and the hour after, for 1h windows) and not
   * in the day before or after it (the close not-firing case).
   */
  const inside = (points: [number, number, number][], a: { from: number; to: number }) => {
    const near = points.filter(([t]) => t > a.from - 86_400 && t <= a.to + 86_400);
    expect(near.length, 'above the band during the anomaly').toBeGreaterThan(0);
    for (const [t, v, b] of near)
      expect(
        t > a.from && t <= a.to + 3600,
        `${new Date(t * 1000).toISOString()}: ${v} above ${b} outside the anomaly`,
      ).toBe(true);
  };

  /** The cost-per-request panels: summarise above the band in the spike, with the alerts' volume guard. */
  async function costPerRequestSpike(title: string) {
    const a = anomaly('LlmCostPerRequestAnomaly');
    // The alerts' volume guard: at night a few calls make a noisy ratio, ignored under 100/h.
    const p = panel(A, title);
    const { step } = varsFor(p, p.targets![0]!);
    const [calls] = await rangeQuery(
      `sum by (feature) (increase(${METRICS.requests.promName}{feature="${a.alert.feature}", status="ok"}[1h]))`,
      step,
    );
    const busy = new Set(calls!.values!.filter(([, v]) => Number(v) >= 100).map(([t]) => t));
    const points = await above(title, 'A', 'B', (m) => m.feature === a.alert.feature);
    inside(
      points.filter(([t]) => busy.has(t)),
      a,
    );
  }

  it('summarise cost per request above mean + 3 sd during the prompt spike, not the day around', async () => {
    await costPerRequestSpike('Cost per request vs its weekly band');
  }, 20_000);

  it('summarise cost per request above its robust band (median, MAD) during the prompt spike, not the day around', async () => {
    await costPerRequestSpike('Cost per request vs its robust weekly band');
  }, 20_000);

  it('the tier-mix distance to last week above 0.3 during the agent routing shift, not the day around', async () => {
    const a = anomaly('LlmTierMixShift');
    const [distance] = await run(A, 'Tier mix distance to last week');
    const points = distance!.values!.flatMap(([t, v]) =>
      Number(v) > 0.3 ? [[t, Number(v), 0.3] as [number, number, number]] : [],
    );
    inside(points, a);
  }, 20_000);

  it('the runaway user above 1 request/s and 10x the median user during the loop, nobody else', async () => {
    const a = anomaly('LlmRunawayUser');
    const title = 'Top user request rate vs peers';
    // The alert's fixed threshold too: at night 10x the median user is almost nothing.
    const points = (await above(title, 'A', 'B', (m) => m.user === a.alert.user)).filter(
      ([, v]) => v > 1,
    );
    inside(points, a);
    const band = new Map((await run(A, title, 'B'))[0]!.values!.map(([t, v]) => [t, Number(v)]));
    for (const s of await run(A, title, 'A'))
      if (s.metric.user !== a.alert.user)
        for (const [t, v] of s.values!)
          expect(
            Number(v) > 1 && Number(v) > (band.get(t) ?? Infinity),
            `${s.metric.user} at ${new Date(t * 1000).toISOString()}`,
          ).toBe(false);
  }, 20_000);

  it('chat requests per hour above 3x the seasonal prediction during the loop, not the day around', async () => {
    const a = anomaly('LlmRunawayUser');
    const points = await above(
      'Requests per hour vs seasonal prediction',
      'A',
      'B',
      (m) => m.feature === 'chat',
    );
    inside(points, a);
  }, 20_000);
});
