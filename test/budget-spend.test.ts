import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PrometheusApi, PrometheusQueryError } from '../src/prometheus/api';
import { limitQueries } from '../src/sidecar/spend/query-limit';
import { SpendReader, type SpendSettings, type SpendView } from '../src/sidecar/spend/spend-reader';
import { backfill, startPrometheus, type PrometheusServer } from './helpers/prometheus';

/**
 * Window spend against a real Prometheus holding a backfilled history with every hard case of
 * DESIGN.md, compared with the ledger of the costs actually incurred.
 */

const T = (iso: string) => Date.parse(iso);
const SCRAPE = 15_000;

/** One process's counter for one user: costs at times, ending when the process does. */
interface Incarnation {
  user: string;
  feature: string;
  instance: string;
  /** First scrape that shows the series (after its first cost). */
  from: number;
  /** Last scrape that shows it. */
  to: number;
  costs: [at: number, usd: number][];
  /** Scrapes missing in this interval (failed scrapes: same process, no reset). */
  gap?: [number, number];
}

// Window: December in Paris, which starts at 2026-11-30T23:00Z. Evaluated at 01:00Z.
const MONTH_START = T('2026-11-30T23:00:00Z');
const NOW = T('2026-12-01T01:00:00Z');
const DAY_START = MONTH_START; // 1 December is also the day in Paris
const H = (iso: string) => T(`2026-11-30T${iso}Z`);
const D = (iso: string) => T(`2026-12-01T${iso}Z`);

const history: Incarnation[] = [
  // Spend in the hours before the window start must not count; after it, it does.
  {
    user: 'alice',
    feature: 'chat',
    instance: 'a',
    from: H('20:00:00'),
    to: NOW,
    costs: [
      [H('20:00:00'), 1.5],
      [H('22:10:00'), 1.5],
      [H('23:30:05'), 0.5],
      [D('00:10:05'), 0.25],
    ],
  },
  // First-ever request inside the window: the series appears with its first cost already in it.
  {
    user: 'bob',
    feature: 'chat',
    instance: 'a',
    from: H('23:40:05'),
    to: NOW,
    costs: [
      [H('23:40:05'), 0.4],
      [D('00:20:05'), 0.5],
    ],
  },
  // App restart inside the window: the counter resets to zero.
  {
    user: 'carol',
    feature: 'agent',
    instance: 'a',
    from: H('20:00:00'),
    to: H('23:50:00'),
    costs: [
      [H('20:00:00'), 1.0],
      [H('23:20:05'), 0.6],
    ],
  },
  {
    user: 'carol',
    feature: 'agent',
    instance: 'a',
    from: H('23:51:05'),
    to: NOW,
    costs: [
      [H('23:51:05'), 0.2],
      [D('00:30:05'), 0.5],
    ],
  },
  // Two instances of the app.
  {
    user: 'dave',
    feature: 'chat',
    instance: 'a',
    from: H('23:10:05'),
    to: NOW,
    costs: [[H('23:10:05'), 0.3]],
  },
  {
    user: 'dave',
    feature: 'chat',
    instance: 'b',
    from: H('20:00:00'),
    to: NOW,
    costs: [
      [H('20:00:00'), 2.0],
      [D('00:05:05'), 1.1],
    ],
  },
  // A series that ends inside the window (its instance went away).
  {
    user: 'erin',
    feature: 'agent',
    instance: 'b',
    from: H('23:05:05'),
    to: H('23:30:00'),
    costs: [[H('23:05:05'), 0.5]],
  },
  // Failed scrapes for five minutes: same process, no reset, nothing to add.
  {
    user: 'frank',
    feature: 'chat',
    instance: 'b',
    from: H('20:00:00'),
    to: NOW,
    costs: [
      [H('20:00:00'), 1.0],
      [H('23:15:05'), 0.25],
      [D('00:00:05'), 0.25],
    ],
    gap: [H('23:20:00'), H('23:25:00')],
  },
];

/** What was really spent in [start, end] by subject. */
function ledger(start: number, end: number, key: 'user' | 'feature'): Map<string, number> {
  const out = new Map<string, number>();
  for (const inc of history)
    for (const [at, usd] of inc.costs)
      if (at >= start && at <= end) out.set(inc[key], (out.get(inc[key]) ?? 0) + usd);
  return out;
}

function openMetrics(): string {
  const families: Record<string, string[]> = { llm_user_cost_usd: [], llm_cost_usd: [] };
  for (const inc of history) {
    const userSeries = `llm_user_cost_usd_total{job="app",instance="${inc.instance}",user="${inc.user}",feature="${inc.feature}"}`;
    // Per-feature counters carry model labels: one series per user here keeps the arithmetic visible.
    const costSeries = `llm_cost_usd_total{job="app",instance="${inc.instance}",feature="${inc.feature}",model="m-${inc.user}",provider="openai",tier="standard"}`;
    for (let t = Math.ceil(inc.from / SCRAPE) * SCRAPE; t <= inc.to; t += SCRAPE) {
      if (inc.gap && t >= inc.gap[0] && t <= inc.gap[1]) continue;
      const value = inc.costs.filter(([at]) => at <= t).reduce((s, [, usd]) => s + usd, 0);
      families.llm_user_cost_usd?.push(`${userSeries} ${value} ${t / 1000}`);
      families.llm_cost_usd?.push(`${costSeries} ${value} ${t / 1000}`);
    }
  }
  // OpenMetrics wants each series' samples together and in time order.
  const sorted = (lines: string[]) =>
    lines.sort((a, b) => {
      const [sa, , ta] = a.split(' ');
      const [sb, , tb] = b.split(' ');
      return sa === sb ? Number(ta) - Number(tb) : (sa ?? '') < (sb ?? '') ? -1 : 1;
    });
  return [
    '# TYPE llm_user_cost_usd counter',
    ...sorted(families.llm_user_cost_usd ?? []),
    '# TYPE llm_cost_usd counter',
    ...sorted(families.llm_cost_usd ?? []),
    '# EOF',
    '',
  ].join('\n');
}

const settings: SpendSettings = {
  resolutionMs: 15_000,
  backfillStepMs: 900_000,
  gapMs: 600_000,
  parallelQueries: 2,
  selector: '',
  timezone: 'Europe/Paris',
  windows: ['month', 'day', '2h', '1h'],
};

let prom: PrometheusServer;
let view: SpendView;

beforeAll(async () => {
  prom = await startPrometheus({ dataDir: backfill(openMetrics()) });
  const reader = new SpendReader(
    new PrometheusApi({ url: prom.url, timeoutMs: 10_000, headers: {} }),
    settings,
  );
  view = await reader.read(NOW);
}, 60_000);

afterAll(async () => {
  await prom?.stop();
});

const cents = (m: ReadonlyMap<string, number> | undefined) =>
  Object.fromEntries(
    [...(m ?? new Map<string, number>())]
      .filter(([, v]) => v > 0)
      .map(([k, v]) => [k, Math.round(v * 100) / 100]),
  );

describe('window spend from a real Prometheus', () => {
  it('matches the ledger per user for the December month in Paris', () => {
    expect(view.spans.get('month')?.start).toBe(MONTH_START);
    const expected = ledger(MONTH_START, NOW, 'user');
    expect(
      Object.fromEntries([...expected].map(([k, v]) => [k, Math.round(v * 100) / 100])),
    ).toEqual({
      alice: 0.75,
      bob: 0.9,
      carol: 1.3,
      dave: 1.4,
      erin: 0.5,
      frank: 0.5,
    });
    for (const [user, usd] of expected)
      expect(view.spend.user.get('month')?.get(user)).toBeCloseTo(usd, 9);
    expect(cents(view.spend.user.get('month'))).toEqual(cents(expected));
  });

  it('matches the ledger per feature and globally', () => {
    const expected = ledger(MONTH_START, NOW, 'feature');
    for (const [feature, usd] of expected)
      expect(view.spend.feature.get('month')?.get(feature)).toBeCloseTo(usd, 9);
    const total = [...expected.values()].reduce((a, b) => a + b, 0);
    expect(view.global.get('month')).toBeCloseTo(total, 9);
    expect(view.spend.feature.get('day')?.get('agent')).toBeCloseTo(
      ledger(DAY_START, NOW, 'feature').get('agent') ?? 0,
      9,
    );
  });

  it('rolling windows count only their last hours', () => {
    for (const [name, hours] of [
      ['1h', 1],
      ['2h', 2],
    ] as const) {
      const expected = ledger(NOW - hours * 3_600_000, NOW, 'user');
      for (const user of ['alice', 'bob', 'carol', 'dave', 'erin', 'frank'])
        expect(view.spend.user.get(name)?.get(user) ?? 0).toBeCloseTo(expected.get(user) ?? 0, 9);
    }
  });
});

describe('reading step by step', () => {
  it('gives the same spend when the history arrives in refreshes (fine-grained events)', async () => {
    const reader = new SpendReader(
      new PrometheusApi({ url: prom.url, timeoutMs: 10_000, headers: {} }),
      settings,
    );
    // Start before carol's restart and erin's end, then walk across them in 5-minute refreshes.
    let last: SpendView | undefined;
    let steps = 0;
    for (let t = H('23:45:00'); t <= NOW; t += 5 * 60_000) {
      const view = await reader.read(t);
      if (last) {
        // Growth between two reads is what was spent in between, restart included (carol).
        const spent = ledger(last.at + 1, t, 'user');
        for (const user of ['alice', 'bob', 'carol', 'dave', 'erin', 'frank'])
          expect(
            view.growth.user.get(user) ?? 0,
            `${user} at ${new Date(t).toISOString()}`,
          ).toBeCloseTo(spent.get(user) ?? 0, 9);
        steps++;
      }
      last = view;
    }
    expect(steps).toBe(15);
    expect(last?.at).toBe(NOW);
    for (const [user, usd] of ledger(MONTH_START, NOW, 'user'))
      expect(last?.spend.user.get('month')?.get(user)).toBeCloseTo(usd, 9);
  });
});

describe('a Prometheus that refuses large queries (--query.max-samples)', () => {
  /** Counts the range queries the reader sends, and the ones Prometheus refuses. */
  class CountingApi extends PrometheusApi {
    ranges = 0;
    refused = 0;
    override async range(...args: Parameters<PrometheusApi['range']>) {
      this.ranges++;
      try {
        return await super.range(...args);
      } catch (err) {
        if (err instanceof PrometheusQueryError && err.kind === 'too_many_samples') this.refused++;
        throw err;
      }
    }
  }

  it('backfills in smaller ranges and gives the same spend', async () => {
    // Room for the instant queries and a few steps of the backfill, not for the whole range
    // (found by trying: 60 refuses an instant query, 200 the range no longer).
    const small = await startPrometheus({
      dataDir: backfill(openMetrics()),
      flags: ['--query.max-samples=120'],
    });
    try {
      const api = new CountingApi({ url: small.url, timeoutMs: 10_000, headers: {} });
      const view = await new SpendReader(api, settings).read(NOW);
      expect(api.refused).toBeGreaterThan(0);
      expect(api.ranges).toBeGreaterThan(api.refused * 2);
      for (const [user, usd] of ledger(MONTH_START, NOW, 'user'))
        expect(view.spend.user.get('month')?.get(user)).toBeCloseTo(usd, 9);
      for (const [feature, usd] of ledger(MONTH_START, NOW, 'feature'))
        expect(view.spend.feature.get('month')?.get(feature)).toBeCloseTo(usd, 9);
    } finally {
      await small.stop();
    }
  }, 60_000);
});

describe('queries in flight', () => {
  it('are at most parallel_queries; the others wait their turn, failures free their slot', async () => {
    let inFlight = 0;
    let most = 0;
    const started: number[] = [];
    const slow = (n: number) => {
      started.push(n);
      most = Math.max(most, ++inFlight);
      return new Promise<Map<string, number>>((done, fail) =>
        setTimeout(() => {
          inFlight--;
          if (n === 1) fail(new Error('refused'));
          else done(new Map([['', n]]));
        }, 5),
      );
    };
    const api = limitQueries({ instant: (_e, t) => slow(t), range: () => Promise.resolve([]) }, 2);
    const answers = await Promise.allSettled([0, 1, 2, 3, 4].map((n) => api.instant('q', n, '')));
    expect(most).toBe(2);
    expect(started).toEqual([0, 1, 2, 3, 4]);
    expect(answers.map((a) => a.status)).toEqual([
      'fulfilled',
      'rejected',
      'fulfilled',
      'fulfilled',
      'fulfilled',
    ]);
  });
});
