/**
 * `llm-finops report` (the real CLI) against a real Prometheus holding a month of known history
 * (test/helpers/finops-history.ts): every figure of the JSON output equals the scenario's ledger,
 * to the micro-dollar; text and Markdown carry the same ROI statement and tables.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IncreaseRow } from '../src/report/counter-increases';
import type { Report } from '../src/report/types';
import { usersBySpend } from '../src/report/users';
import { freePort } from './helpers/child';
import { startFinopsHistory, type FinopsHistory } from './helpers/finops-history';

const CLI = join(__dirname, '..', 'dist', 'src', 'cli', 'main.js');
const MICRO = 6; // toBeCloseTo digits: |a - b| < 5e-7 USD

let history: FinopsHistory;
let report: Report;

function cli(...args: string[]) {
  return spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 120_000 });
}

beforeAll(async () => {
  history = await startFinopsHistory();
  const run = cli(
    'report',
    '--prometheus',
    history.prom.url,
    '--month',
    '2026-11',
    '--format',
    'json',
  );
  expect(run.stderr).toBe('');
  expect(run.status).toBe(0);
  report = JSON.parse(run.stdout) as Report;
}, 240_000);

afterAll(async () => {
  await history?.stop();
});

describe('llm-finops report --format json', () => {
  it('covers November 2026 in UTC, which is the whole history', () => {
    const l = history.scenario.ledger;
    expect(report.period).toEqual({
      from: '2026-11-01T00:00:00.000Z',
      to: '2026-12-01T00:00:00.000Z',
      timezone: 'UTC',
    });
    expect(Date.parse(report.period.from) / 1000).toBe(l.start);
    expect(Date.parse(report.period.to) / 1000).toBe(l.end);
  });

  it('requests, cost, baseline and savings equal the ledger', () => {
    const t = history.scenario.ledger.totals;
    expect(report.requests).toBe(t.requests.ok);
    expect(report.requests_by_status).toEqual({
      ok: t.requests.ok,
      error: t.requests.error,
      denied: t.requests.denied,
    });
    expect(report.cost_usd).toBeCloseTo(t.cost, MICRO);
    expect(report.baseline_cost_usd).toBeCloseTo(t.baseline, MICRO);
    expect(report.savings_usd).toBeCloseTo(t.savings, MICRO);
    expect(report.savings_ratio).toBeCloseTo(history.scenario.ledger.savingsRatio, 9);
  });

  it('states the ROI in one sentence with those numbers', () => {
    const t = history.scenario.ledger.totals;
    const usd = (n: number) => `$${Math.round(n).toLocaleString('en-US')}`;
    expect(report.roi).toBe(
      `We processed ${t.requests.ok.toLocaleString('en-US')} requests, would have cost ${usd(t.baseline)} at gpt-4 rates, actually cost ${usd(t.cost)} — ${Math.round((t.savings / t.baseline) * 100)}% savings.`,
    );
  });

  it('spend by feature, model and tier equal the ledger', () => {
    const l = history.scenario.ledger;
    const features = Object.entries(l.byFeature).filter(
      ([, f]) => f.cost || f.baseline || f.requests.ok,
    );
    expect(report.by_feature.map((f) => f.feature).sort()).toEqual(features.map(([k]) => k).sort());
    for (const f of report.by_feature) {
      const want = l.byFeature[f.feature]!;
      expect(f.cost_usd, f.feature).toBeCloseTo(want.cost, MICRO);
      expect(f.baseline_cost_usd, f.feature).toBeCloseTo(want.baseline, MICRO);
      expect(f.requests, f.feature).toBe(want.requests.ok);
    }
    // Most expensive first.
    expect(report.by_feature.map((f) => f.cost_usd)).toEqual(
      [...report.by_feature.map((f) => f.cost_usd)].sort((a, b) => b - a),
    );
    for (const m of report.by_model) {
      const want = l.byModel[`${m.provider}/${m.model}`]!;
      expect(m.tier).toBe(want.tier);
      expect(m.cost_usd, m.model).toBeCloseTo(want.cost, MICRO);
      expect(m.baseline_cost_usd, m.model).toBeCloseTo(want.baseline, MICRO);
      expect(m.requests, m.model).toBe(want.requests.ok);
    }
    expect(report.by_tier.map((t) => t.tier).sort()).toEqual(Object.keys(l.byTier).sort());
    for (const t of report.by_tier) {
      const want = l.byTier[t.tier]!;
      expect(t.cost_usd, t.tier).toBeCloseTo(want.cost, MICRO);
      expect(t.baseline_cost_usd, t.tier).toBeCloseTo(want.baseline, MICRO);
      expect(t.savings_usd, t.tier).toBeCloseTo(want.savings, MICRO);
      expect(t.requests, t.tier).toBe(want.requests.ok);
    }
  });

  it('top users, cache, outcomes and unpriced models equal the ledger', () => {
    const l = history.scenario.ledger;
    expect(report.top_users[0]!.user).toBe(l.topSpender.user);
    expect(report.top_users[0]!.cost_usd).toBeCloseTo(l.topSpender.cost, MICRO);
    const ranked = Object.entries(l.userCost)
      .filter(([, c]) => c > 0)
      .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
    expect(report.users_with_spend).toBe(ranked.length);
    expect(report.top_users).toHaveLength(10);
    report.top_users.forEach((u, i) => {
      expect(u.user).toBe(ranked[i]![0]);
      expect(u.cost_usd).toBeCloseTo(ranked[i]![1], MICRO);
      expect(u.requests).toBe(l.userRequests[u.user]);
    });
    const { prompt, response } = l.cacheSavings;
    expect(report.cache_savings_usd).toBeCloseTo(prompt + response, MICRO);
    expect(report.cache.savings_usd.prompt).toBeCloseTo(prompt, MICRO);
    expect(report.cache.savings_usd.response).toBeCloseTo(response, MICRO);
    expect(report.cache.lookups).toEqual(l.cacheLookups);
    const { hit, miss } = l.cacheLookups;
    expect(report.cache.hit_ratio).toBeCloseTo(hit / (hit + miss), 12);
    for (const o of report.outcomes) {
      expect(o.outcomes).toEqual(l.outcomes[o.feature]);
      if (l.costPerSuccess[o.feature] !== undefined)
        expect(o.cost_per_success_usd).toBeCloseTo(l.costPerSuccess[o.feature]!, 9);
    }
    expect(report.outcomes.map((o) => o.feature).sort()).toEqual(Object.keys(l.outcomes).sort());
    expect(
      Object.fromEntries(report.unpriced.map((u) => [`${u.provider}/${u.model}`, u.requests])),
    ).toEqual(l.unpriced);
  });

  it("top users' baseline: their cost per feature at the feature's baseline/cost ratio", () => {
    const l = history.scenario.ledger;
    const ratio = (feature: string) => {
      const f = l.byFeature[feature];
      return f && f.cost > 0 ? f.baseline / f.cost : 1;
    };
    const baselineOf = (user: string) =>
      Object.entries(l.userCostByFeature[user]!).reduce((a, [f, c]) => a + c * ratio(f), 0);
    for (const u of report.top_users) {
      expect(u.baseline_method).toBe('feature_ratio');
      expect(Math.abs(u.baseline_cost_usd - baselineOf(u.user)), u.user).toBeLessThan(1e-9);
      expect(Math.abs(u.savings_usd - (baselineOf(u.user) - u.cost_usd)), u.user).toBeLessThan(
        1e-9,
      );
    }
    // Users' feature costs add up to the features' costs, so their baselines to the period's.
    const all = Object.keys(l.userCostByFeature).reduce((a, u) => a + baselineOf(u), 0);
    expect(all).toBeCloseTo(l.totals.baseline, MICRO);
  });

  it('days: each UTC day equals the ledger, the restart day included', () => {
    const l = history.scenario.ledger;
    expect(report.daily.map((d) => d.date)).toEqual(l.daily.map((d) => d.date));
    report.daily.forEach((d, i) => {
      const want = l.daily[i]!;
      expect(d.cost_usd, d.date).toBeCloseTo(want.cost, MICRO);
      expect(d.baseline_cost_usd, d.date).toBeCloseTo(want.baseline, MICRO);
      expect(d.requests, d.date).toBe(want.requests.ok);
    });
    const sum = report.daily.reduce((a, d) => a + d.cost_usd, 0);
    expect(sum).toBeCloseTo(report.cost_usd, 9);
  });

  it('anomalies: every designed alert episode, flagged on its days', () => {
    const l = history.scenario.ledger;
    expect(report.anomalies).toHaveLength(l.anomalies.length);
    for (const a of l.anomalies) {
      const { alertname, severity, ...labels } = a.alert;
      const found = report.anomalies.find(
        (r) => r.alert === alertname && JSON.stringify(r.labels) === JSON.stringify(labels),
      );
      expect(found, alertname).toBeDefined();
      expect(found!.severity).toBe(severity);
      expect(Date.parse(found!.first_firing) / 1000).toBe(a.firingFrom);
      // The period is [from, to): a sample at `to` itself belongs to the next one.
      expect(Date.parse(found!.last_firing) / 1000).toBe(Math.min(a.firingTo, l.end - l.step));
      const day = new Date(a.firingFrom * 1000).toISOString().slice(0, 10);
      expect(report.daily.find((d) => d.date === day)!.anomalies).toContain(alertname);
    }
  });

  it('budgets: the sidecar gauges just before the period ends', () => {
    const l = history.scenario.ledger;
    expect(report.budgets.available).toBe(true);
    expect(report.budgets.as_of).toBe('2026-11-30T23:59:59.000Z');
    const caps = new Map(
      report.budgets.caps.map((c) => [`${c.scope}/${c.subject}/${c.window}`, c]),
    );
    // The sample before `end`: the last one up to 1 s before it.
    expect([...caps.keys()].sort()).toEqual(
      l.budgetsBeforeEnd.map((b) => `${b.scope}/${b.subject}/${b.window}`).sort(),
    );
    for (const b of l.budgetsBeforeEnd) {
      const cap = caps.get(`${b.scope}/${b.subject}/${b.window}`)!;
      expect(cap.limit_usd, b.subject).toBe(b.limit);
      expect(cap.spent_usd, b.subject).toBeCloseTo(b.spent, MICRO);
      expect(cap.state, b.subject).toBe(b.state);
    }
    const over = report.budgets.caps.filter((c) => c.scope === 'user' && c.state === 'exceeded');
    expect(over.map((c) => c.subject).sort()).toEqual([...l.usersOverCap].sort());
    expect(report.budgets.users).toEqual({
      window: 'month',
      ok: l.budgetSubjects['user/ok'] ?? 0,
      warning: l.budgetSubjects['user/warning'] ?? 0,
      exceeded: l.budgetSubjects['user/exceeded'] ?? 0,
    });
  });
});

describe('llm-finops report --format html in headless Chromium', () => {
  it('renders the ROI statement and both charts without a console error', async () => {
    const dir = join(__dirname, '..', 'test-artifacts');
    mkdirSync(dir, { recursive: true });
    const file = join(dir, 'report-2026-11.html');
    const run = cli(
      'report',
      '--prometheus',
      history.prom.url,
      '--month',
      '2026-11',
      '--format',
      'html',
      '--out',
      file,
    );
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toBe('');

    const browser = await chromium.launch({
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: ['--no-sandbox'],
    });
    try {
      const page = await browser.newPage({ viewport: { width: 900, height: 1200 } });
      const problems: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'error' || m.type() === 'warning') problems.push(m.text());
      });
      page.on('pageerror', (e) => problems.push(e.message));
      page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()}`));
      // Self-contained: any request but the page itself is a bug.
      page.on('request', (r) => {
        if (r.url() !== pathToFileURL(file).href) problems.push(`request: ${r.url()}`);
      });
      await page.goto(pathToFileURL(file).href);
      expect(await page.locator('#roi').innerText()).toBe(report.roi);
      expect(await page.locator('#daily-cost rect.cost').count()).toBe(report.daily.length);
      expect(await page.locator('#daily-cost circle.flag').count()).toBe(
        report.daily.filter((d) => d.anomalies.length > 0).length,
      );
      expect(await page.locator('#feature-spend rect.feature').count()).toBe(
        report.by_feature.length,
      );
      // Drawn, not just present: the charts have a size and the tallest bar is the costliest day.
      const box = await page.locator('#daily-cost').boundingBox();
      expect(box!.width).toBeGreaterThan(500);
      expect(box!.height).toBeGreaterThan(150);
      const bars = page.locator('#daily-cost rect.cost');
      const heights: number[] = [];
      for (let i = 0; i < report.daily.length; i++)
        heights.push(Number(await bars.nth(i).getAttribute('height')));
      const costs = report.daily.map((d) => d.cost_usd);
      expect(heights.indexOf(Math.max(...heights))).toBe(costs.indexOf(Math.max(...costs)));
      await page.screenshot({ path: join(dir, 'report-2026-11.png'), fullPage: true });
      expect(problems).toEqual([]);
    } finally {
      await browser.close();
    }
  }, 120_000);
});

describe('llm-finops report: other formats and errors', () => {
  it('text and Markdown print the same ROI statement and the top spender', () => {
    for (const format of ['text', 'markdown']) {
      const run = cli(
        'report',
        '--prometheus',
        history.prom.url,
        '--month',
        '2026-11',
        '--format',
        format,
      );
      expect(run.status, run.stderr).toBe(0);
      expect(run.stdout).toContain(report.roi);
      expect(run.stdout).toContain(history.scenario.ledger.topSpender.user);
    }
  });

  it('--help names --out and durations as typed; -o and the former --output write the same', () => {
    const help = cli('report', '--help').stdout;
    expect(help).toContain('-o, --out <file>');
    expect(help).toMatch(/--max-scrape-gap <duration>[^]*\(default: 10m\)/);
    expect(help).toMatch(/--timeout <duration> +per query \(default: 2m\)/);
    expect(help).not.toContain('--output');
    const dir = join(__dirname, '..', 'test-artifacts');
    mkdirSync(dir, { recursive: true });
    for (const flag of ['-o', '--output']) {
      const file = join(dir, `report-2026-11${flag}.json`);
      const args = ['--month', '2026-11', '--format', 'json', flag, file];
      const run = cli('report', '--prometheus', history.prom.url, ...args);
      expect(run.status, run.stderr).toBe(0);
      expect(run.stdout).toBe('');
      expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual(report);
    }
  });

  it('bad periods and an unreachable Prometheus: exit 2 with one clear line', async () => {
    const bad = cli('report', '--prometheus', history.prom.url, '--month', '2026-13');
    expect(bad.status).toBe(2);
    expect(bad.stderr).toBe('llm-finops report: --month 2026-13: expected YYYY-MM, e.g. 2026-11\n');
    const zone = cli(
      'report',
      '--prometheus',
      history.prom.url,
      '--month',
      '2026-11',
      '--timezone',
      'Mars/Olympus',
    );
    expect(zone.status).toBe(2);
    expect(zone.stderr).toContain('--timezone Mars/Olympus: not an IANA time zone');
    const closed = await freePort();
    const down = cli('report', '--prometheus', `http://127.0.0.1:${closed}`, '--month', '2026-11');
    expect(down.status).toBe(2);
    expect(down.stderr).toBe(`llm-finops report: http://127.0.0.1:${closed}: ECONNREFUSED\n`);
  });
});

describe('usersBySpend', () => {
  const row = (labels: Record<string, string>, total: number): IncreaseRow => ({
    labels,
    total,
    daily: [],
  });
  const feature = (name: string, cost: number, baseline: number) => ({
    feature: name,
    requests: 1,
    cost_usd: cost,
    baseline_cost_usd: baseline,
    savings_usd: baseline - cost,
    share: null,
  });

  it("apportions by the feature's ratio; a feature that cost nothing keeps the user's cost", () => {
    const users = usersBySpend(
      [
        row({ user: 'a', feature: 'chat' }, 1),
        row({ user: 'a', feature: 'free' }, 0.5),
        row({ user: 'a', feature: 'unseen' }, 0.25),
        row({ user: 'b', feature: 'chat' }, 3),
        row({ user: 'c', feature: 'chat' }, 0),
      ],
      [row({ user: 'a' }, 7)],
      [feature('chat', 4, 40), feature('free', 0, 2)],
    );
    expect(users).toEqual([
      {
        user: 'b',
        requests: 0,
        cost_usd: 3,
        baseline_cost_usd: 30,
        savings_usd: 27,
        baseline_method: 'feature_ratio',
      },
      {
        user: 'a',
        requests: 7,
        cost_usd: 1.75,
        baseline_cost_usd: 10.75,
        savings_usd: 9,
        baseline_method: 'feature_ratio',
      },
    ]);
  });
});
