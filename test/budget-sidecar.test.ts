import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BUDGET_HEADERS,
  PROBLEM_CONTENT_TYPE,
  PROBLEM_TYPES,
  type BudgetProblem,
} from '../src/contract/budget';
import { startPrometheus, type PrometheusServer } from './helpers/prometheus';
import {
  costExposition,
  eventually,
  sample,
  startPrometheusProxy,
  startSidecar,
  startStaticMetrics,
  type Costs,
  type SidecarChild,
  type StaticMetrics,
} from './helpers/sidecar';

/**
 * The sidecar's HTTP API against a real Prometheus scraping known cost counters: every answer's
 * status, headers and body, exactly.
 */

const UPGRADE_URL = 'https://example.com/upgrade?from=sidecar';
// Non-ASCII on purpose: the nginx endpoint must carry it in an ASCII-only header.
const MESSAGE = 'Budget reached — upgrade to Pro ✨🚀';
const TOKEN = 'test-reservation-token-0123456789';

const COSTS: Costs = {
  under: { chat: 0.1 },
  warn: { chat: 0.85 },
  over: { chat: 1.234567 },
  pro: { chat: 5 },
  vip: { chat: 4 },
  big: { chat: 2 },
  agentuser: { agent: 2.5 },
};
const CHAT = 0.1 + 0.85 + 1.234567 + 5 + 4 + 2;
const GLOBAL = CHAT + 2.5;

const base = (url: string) => `
prometheus:
  url: ${url}
  refresh: 1s
  stale_after: 1m
  resolution: 1s
upgrade:
  url: "${UPGRADE_URL}"
  message: "${MESSAGE}"
`;

/** Caps of the main sidecar (UTC). */
const mainConfig = (url: string) => `${base(url)}
reservations:
  token_env: SIDECAR_TOKEN
budgets:
  global:
    - { window: month, limit_usd: 1000 }
  features:
    chat:
      - { window: month, limit_usd: 100 }
    agent:
      - { window: day, limit_usd: 2, warn_at: 0.5 }
  users:
    default:
      - { window: month, limit_usd: 1, warn_at: 0.8 }
    plans:
      pro:
        - { window: month, limit_usd: 100 }
      free:
        - { window: month, limit_usd: 0.5 }
    overrides:
      vip:
        - { window: month, limit_usd: 3 }
      big:
        - { window: month, limit_usd: 500 }
`;

/** Day and month caps in India (UTC+05:30), and renamed request headers. */
const kolkataConfig = (url: string) => `${base(url)}
timezone: Asia/Kolkata
headers:
  user: x-customer-id
  feature: x-app-feature
  plan: x-customer-plan
budgets:
  users:
    default:
      - { window: day, limit_usd: 0.5 }
      - { window: month, limit_usd: 1 }
`;

/** A global cap the total spend exceeds. */
const globalConfig = (url: string) => `${base(url)}
budgets:
  global:
    - { window: month, limit_usd: 10 }
`;

/** warn_at of mainConfig's caps that do not use the default 0.8. */
const WARN_AT: Record<string, number> = { agent: 0.5 };

const HOUR = 3_600_000;
const IST = 5.5 * HOUR;

/** RFC 3339 as the sidecar writes it: UTC, whole seconds. */
const rfc3339 = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');

/** Next local midnight / first of next month in a fixed-offset zone, as RFC 3339. */
function nextDay(offsetMs = 0, now = Date.now()): string {
  const l = new Date(now + offsetMs);
  return rfc3339(Date.UTC(l.getUTCFullYear(), l.getUTCMonth(), l.getUTCDate() + 1) - offsetMs);
}
function nextMonth(offsetMs = 0, now = Date.now()): string {
  const l = new Date(now + offsetMs);
  return rfc3339(Date.UTC(l.getUTCFullYear(), l.getUTCMonth() + 1, 1) - offsetMs);
}

const round6 = (usd: number) => Math.round(usd * 1e6) / 1e6;

interface Answer {
  status: number;
  headers: Headers;
  body: Record<string, unknown>;
}

async function answerOf(res: Response): Promise<Answer> {
  const text = await res.text();
  return {
    status: res.status,
    headers: res.headers,
    body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
  };
}

function query(params: Record<string, string>): string {
  return new URLSearchParams(params).toString();
}

/** Titles are for humans: any string. */
const ANY_TITLE: unknown = expect.any(String);

/** The problem DESIGN.md specifies, every member. */
function problem(
  code: BudgetProblem['code'],
  scope: BudgetProblem['scope'],
  subject: string,
  window: string,
  limit: number,
  spent: number,
  resetsAt: string,
): BudgetProblem {
  return {
    type: PROBLEM_TYPES.budgetExceeded,
    title: ANY_TITLE as string,
    status: 402,
    detail: MESSAGE,
    code,
    scope,
    subject,
    window,
    limit_usd: limit,
    spent_usd: spent,
    resets_at: resetsAt,
    upgrade_url: UPGRADE_URL,
  };
}

function expectDeny(a: Answer, expected: BudgetProblem): void {
  expect(a.status).toBe(402);
  expect(a.headers.get('content-type')).toBe(PROBLEM_CONTENT_TYPE);
  expect(a.headers.get('x-should-retry')).toBe('false');
  expect(a.body).toEqual(expected);
  const retry = Number(a.headers.get('retry-after'));
  expect(Math.abs(retry - (Date.parse(expected.resets_at) - Date.now()) / 1000)).toBeLessThan(2);
  // Allowed-answer headers describe remaining budget: never on a denial.
  expect(a.headers.get(BUDGET_HEADERS.remaining)).toBeNull();
}

let prom: PrometheusServer;
let metrics: StaticMetrics;
let main: SidecarChild;
let kolkata: SidecarChild;
let global: SidecarChild;

beforeAll(async () => {
  metrics = await startStaticMetrics(costExposition(COSTS));
  prom = await startPrometheus({ targets: [metrics.target] });
  [main, kolkata, global] = await Promise.all([
    startSidecar({ config: mainConfig(prom.url), env: { SIDECAR_TOKEN: TOKEN } }),
    startSidecar({ config: kolkataConfig(prom.url) }),
    startSidecar({ config: globalConfig(prom.url) }),
  ]);
  // Ready means one refresh succeeded, maybe before the first scrape: wait for the spend.
  await eventually(async () => {
    const a = await answerOf(await main.get('/v1/check'));
    expect((a.body.budgets as { spent_usd: number }[])[0]?.spent_usd).toBe(round6(GLOBAL));
  });
  await Promise.all(
    [kolkata, global].map((s) =>
      eventually(async () => {
        const a = await answerOf(await s.get('/v1/check?user=over'));
        expect(a.body.spent_usd).toBe(round6(s === global ? GLOBAL : 1.234567));
      }),
    ),
  );
});

afterAll(async () => {
  await Promise.all([main?.stop(), kolkata?.stop(), global?.stop()]);
  await Promise.all([prom?.stop(), metrics?.stop()]);
});

describe('GET /v1/check', () => {
  it('allows with every applicable cap in the body and the tightest in the headers', async () => {
    const a = await answerOf(
      await main.get(`/v1/check?${query({ user: 'under', feature: 'chat' })}`),
    );
    expect(a.status).toBe(200);
    expect(a.headers.get('content-type')).toBe('application/json');
    const month = nextMonth();
    expect(a.body).toEqual({
      allowed: true,
      state: 'ok',
      budgets: [
        {
          scope: 'global',
          subject: 'global',
          window: 'month',
          limit_usd: 1000,
          spent_usd: round6(GLOBAL),
          remaining_usd: round6(1000 - GLOBAL),
          resets_at: month,
          state: 'ok',
        },
        {
          scope: 'feature',
          subject: 'chat',
          window: 'month',
          limit_usd: 100,
          spent_usd: round6(CHAT),
          remaining_usd: round6(100 - CHAT),
          resets_at: month,
          state: 'ok',
        },
        {
          scope: 'user',
          subject: 'under',
          window: 'month',
          limit_usd: 1,
          spent_usd: 0.1,
          remaining_usd: 0.9,
          resets_at: month,
          state: 'ok',
        },
      ],
    });
    expect(Number(a.headers.get(BUDGET_HEADERS.remaining))).toBe(0.9);
    expect(a.headers.get(BUDGET_HEADERS.remaining)).toMatch(/^\d+\.\d+$/);
    expect(a.headers.get(BUDGET_HEADERS.limit)).toBe('1');
    expect(a.headers.get(BUDGET_HEADERS.scope)).toBe('user');
    expect(a.headers.get(BUDGET_HEADERS.window)).toBe('month');
    expect(a.headers.get(BUDGET_HEADERS.resetsAt)).toBe(month);
    expect(a.headers.get(BUDGET_HEADERS.state)).toBe('ok');
    expect(a.headers.get('retry-after')).toBeNull();
  });

  it('says warning from warn_at of the limit', async () => {
    const a = await answerOf(await main.get('/v1/check?user=warn'));
    expect(a.status).toBe(200);
    expect(a.body.state).toBe('warning');
    expect(a.body.budgets).toContainEqual(
      expect.objectContaining({
        scope: 'user',
        spent_usd: 0.85,
        remaining_usd: 0.15,
        state: 'warning',
      }),
    );
    expect(a.headers.get(BUDGET_HEADERS.state)).toBe('warning');
    expect(Number(a.headers.get(BUDGET_HEADERS.remaining))).toBe(0.15);
  });

  it('denies a user over the cap with the problem of DESIGN.md, to the micro-dollar', async () => {
    const a = await answerOf(await main.get('/v1/check?user=over&feature=chat'));
    expectDeny(
      a,
      problem('user_budget_exceeded', 'user', 'over', 'month', 1, 1.234567, nextMonth()),
    );
    expect(Object.keys(a.body).sort()).toEqual(
      [
        'type',
        'title',
        'status',
        'detail',
        'code',
        'scope',
        'subject',
        'window',
        'limit_usd',
        'spent_usd',
        'resets_at',
        'upgrade_url',
      ].sort(),
    );
  });

  it('denies by feature (day window, resets at the next UTC midnight) and globally', async () => {
    expectDeny(
      await answerOf(await main.get('/v1/check?user=under&feature=agent')),
      problem('feature_budget_exceeded', 'feature', 'agent', 'day', 2, 2.5, nextDay()),
    );
    expectDeny(
      await answerOf(await global.get('/v1/check?user=under')),
      problem(
        'global_budget_exceeded',
        'global',
        'global',
        'month',
        10,
        round6(GLOBAL),
        nextMonth(),
      ),
    );
  });

  it('resets calendar windows at midnight in the configured time zone', async () => {
    // 0.85 is over the day cap only: the day window denies, resetting at midnight in India.
    expectDeny(
      await answerOf(await kolkata.get('/v1/check?user=warn')),
      problem('user_budget_exceeded', 'user', 'warn', 'day', 0.5, 0.85, nextDay(IST)),
    );
    // Over both: a retry can pass only when both reset, so the month (the later reset) answers.
    expectDeny(
      await answerOf(await kolkata.get('/v1/check?user=over')),
      problem('user_budget_exceeded', 'user', 'over', 'month', 1, 1.234567, nextMonth(IST)),
    );
    const a = await answerOf(await kolkata.get('/v1/check?user=under'));
    expect(a.headers.get(BUDGET_HEADERS.resetsAt)).toBe(nextDay(IST));
    expect(a.headers.get(BUDGET_HEADERS.window)).toBe('day');
    expect(Number(a.headers.get(BUDGET_HEADERS.remaining))).toBe(0.4);
  });

  it('picks plan caps by ?plan= and x-llm-plan, overrides before plans, 400 for an unknown plan', async () => {
    const status = async (path: string, headers: Record<string, string> = {}) =>
      (await main.get(path, { headers })).status;
    expect(await status('/v1/check?user=pro')).toBe(402);
    expect(await status('/v1/check?user=pro&plan=pro')).toBe(200);
    expect(await status('/v1/authz', { 'x-llm-user': 'pro', 'x-llm-plan': 'pro' })).toBe(200);
    expect(await status('/v1/authz', { 'x-llm-user': 'pro' })).toBe(402);
    // A plan can be tighter than the default too.
    expect(await status('/v1/check?user=under&plan=free')).toBe(200);
    expect(await status('/v1/check?user=warn&plan=free')).toBe(402);
    // Overrides win over any plan, both ways.
    expectDeny(
      await answerOf(await main.get('/v1/check?user=vip&plan=pro')),
      problem('user_budget_exceeded', 'user', 'vip', 'month', 3, 4, nextMonth()),
    );
    const big = await answerOf(await main.get('/v1/check?user=big&plan=free'));
    expect(big.status).toBe(200);
    expect(big.body.budgets).toContainEqual(
      expect.objectContaining({ scope: 'user', limit_usd: 500, spent_usd: 2 }),
    );

    for (const a of [
      await answerOf(await main.get('/v1/check?user=under&plan=gold')),
      await answerOf(await main.get('/v1/authz', { headers: { 'x-llm-plan': 'gold' } })),
    ]) {
      expect(a.status).toBe(400);
      expect(a.headers.get('content-type')).toBe(PROBLEM_CONTENT_TYPE);
      expect(a.body).toMatchObject({ type: PROBLEM_TYPES.invalidRequest, status: 400 });
      expect(a.body.detail).toContain('gold');
    }
  });

  it('answers HEAD like GET without a body', async () => {
    const res = await main.get('/v1/check?user=over', { method: 'HEAD' });
    expect(res.status).toBe(402);
    expect(res.headers.get('x-should-retry')).toBe('false');
    expect(await res.text()).toBe('');
  });
});

describe('proxy endpoints', () => {
  it('/v1/authz decides from headers for any method and any subpath', async () => {
    const expected = await answerOf(await main.get('/v1/check?user=over&feature=chat'));
    const allowed = await answerOf(await main.get('/v1/check?user=under&feature=chat'));
    for (const method of ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'])
      for (const path of ['/v1/authz', '/v1/authz/', '/v1/authz/v1/chat/completions?stream=true']) {
        const init = (user: string): RequestInit => ({
          method,
          headers: {
            'x-llm-user': user,
            'x-llm-feature': 'chat',
            'content-type': 'application/json',
          },
          body: method === 'GET' ? undefined : '{"model":"gpt-4o"}',
        });
        const deny = await answerOf(await main.get(path, init('over')));
        expect(deny.status, `${method} ${path}`).toBe(402);
        expect(deny.body).toEqual(expected.body);
        expect(deny.headers.get('x-should-retry')).toBe('false');
        const allow = await answerOf(await main.get(path, init('under')));
        expect(allow.status, `${method} ${path}`).toBe(200);
        expect(allow.body).toEqual(allowed.body);
        expect(allow.headers.get(BUDGET_HEADERS.remaining)).toBe(
          allowed.headers.get(BUDGET_HEADERS.remaining),
        );
      }
  });

  it('/v1/authz reads the configured header names, and only those', async () => {
    const warn = await answerOf(
      await kolkata.get('/v1/authz/x', { headers: { 'x-customer-id': 'warn' } }),
    );
    expectDeny(
      warn,
      problem('user_budget_exceeded', 'user', 'warn', 'day', 0.5, 0.85, nextDay(IST)),
    );
    // The default names mean nothing to this sidecar: no user, so no user cap.
    const unnamed = await answerOf(
      await kolkata.get('/v1/authz', { headers: { 'x-llm-user': 'warn' } }),
    );
    expect(unnamed.status).toBe(200);
    expect(unnamed.body).toEqual({ allowed: true, state: 'ok', budgets: [] });
    expect(
      (
        await kolkata.get('/v1/authz', {
          headers: { 'x-customer-id': 'x', 'x-customer-plan': 'p' },
        })
      ).status,
    ).toBe(400);
  });

  it('/v1/nginx-authz denies with 403 and the problem in an ASCII header', async () => {
    const check = await answerOf(await main.get('/v1/check?user=over'));
    const res = await main.get('/v1/nginx-authz/v1/messages', {
      method: 'POST',
      headers: { 'x-llm-user': 'over' },
    });
    expect(res.status).toBe(403);
    expect(res.headers.get(BUDGET_HEADERS.nginxStatus)).toBe('402');
    const header = res.headers.get(BUDGET_HEADERS.nginxProblem) ?? '';
    expect(header).toMatch(/^[\x20-\x7e]+$/);
    expect(JSON.parse(header)).toEqual(check.body);
    expect((JSON.parse(header) as BudgetProblem).detail).toBe(MESSAGE);
    expect(res.headers.get('x-should-retry')).toBe('false');
    expect(
      Math.abs(Number(res.headers.get('retry-after')) - Number(check.headers.get('retry-after'))),
    ).toBeLessThanOrEqual(1);
    expect(await res.text()).toBe('');

    const ok = await main.get('/v1/nginx-authz', { headers: { 'x-llm-user': 'under' } });
    expect(ok.status).toBe(200);
    expect(ok.headers.get(BUDGET_HEADERS.remaining)).toBe('0.900000');
    expect(ok.headers.get(BUDGET_HEADERS.nginxStatus)).toBeNull();

    const bad = await main.get('/v1/nginx-authz', { headers: { 'x-llm-user': 'a{b="c"}' } });
    expect(bad.status).toBe(403);
    expect(bad.headers.get(BUDGET_HEADERS.nginxStatus)).toBe('400');
    expect(JSON.parse(bad.headers.get(BUDGET_HEADERS.nginxProblem) ?? '')).toMatchObject({
      type: PROBLEM_TYPES.invalidRequest,
      status: 400,
    });
  });
});

describe('/metrics', () => {
  it('shows limits, spend, subjects per state, decisions and the data age', async () => {
    const before = await main.metrics();
    const denies =
      sample(before, 'llm_budget_decisions_total', { scope: 'user', decision: 'deny' }) ?? 0;
    const allows =
      sample(before, 'llm_budget_decisions_total', { scope: 'global', decision: 'allow' }) ?? 0;
    expect((await main.get('/v1/check?user=over')).status).toBe(402);
    expect((await main.get('/v1/check')).status).toBe(200);
    const m = await main.metrics();
    expect(sample(m, 'llm_budget_decisions_total', { scope: 'user', decision: 'deny' })).toBe(
      denies + 1,
    );
    expect(sample(m, 'llm_budget_decisions_total', { scope: 'global', decision: 'allow' })).toBe(
      allows + 1,
    );

    const gauge = (name: string, scope: string, subject: string, window: string) =>
      sample(m, name, { scope, subject, window });
    const rows: [string, string, string, number, number][] = [
      ['global', 'global', 'month', 1000, round6(GLOBAL)],
      ['feature', 'chat', 'month', 100, round6(CHAT)],
      ['feature', 'agent', 'day', 2, 2.5],
      ['user', 'over', 'month', 1, 1.234567],
      ['user', 'warn', 'month', 1, 0.85],
      ['user', 'vip', 'month', 3, 4],
      ['user', 'pro', 'month', 1, 5],
    ];
    for (const [scope, subject, window, limit, spent] of rows) {
      expect(gauge('llm_budget_limit_usd', scope, subject, window), subject).toBe(limit);
      expect(gauge('llm_budget_spent_usd', scope, subject, window), subject).toBe(spent);
      expect(gauge('llm_budget_warn_usd', scope, subject, window), subject).toBe(
        limit * (WARN_AT[subject] ?? 0.8),
      );
    }
    // Users within their caps are counted, not listed (a gauge per user would not scale).
    expect(gauge('llm_budget_spent_usd', 'user', 'under', 'month')).toBeUndefined();
    expect(gauge('llm_budget_spent_usd', 'user', 'big', 'month')).toBeUndefined();

    const subjects = (scope: string, window: string, state: string) =>
      sample(m, 'llm_budget_subjects', { scope, window, state });
    expect(subjects('user', 'month', 'ok')).toBe(2); // under, big
    expect(subjects('user', 'month', 'warning')).toBe(1); // warn
    expect(subjects('user', 'month', 'exceeded')).toBe(4); // over, pro, vip, agentuser
    expect(subjects('feature', 'month', 'ok')).toBe(1);
    expect(subjects('feature', 'day', 'exceeded')).toBe(1);
    expect(subjects('global', 'month', 'ok')).toBe(1);

    const age = sample(m, 'llm_budget_spend_data_age_seconds') ?? -1;
    expect(age).toBeGreaterThanOrEqual(0);
    expect(age).toBeLessThan(3.5);
  });
});

describe('reserve and settle', () => {
  const auth = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };
  const post = async (path: string, body: object) =>
    answerOf(await main.get(path, { method: 'POST', headers: auth, body: JSON.stringify(body) }));
  const userCap = async (user: string) => {
    const a = await answerOf(await main.get(`/v1/check?user=${user}`));
    return {
      status: a.status,
      remaining: Number(a.headers.get(BUDGET_HEADERS.remaining)),
      spent: (a.body.budgets as { scope: string; spent_usd: number }[] | undefined)?.find(
        (b) => b.scope === 'user',
      )?.spent_usd,
    };
  };

  it('holds a reservation until settled, then counts the settled cost until Prometheus shows it, once', async () => {
    const r = await post('/v1/reserve', { user: 'settler', estimate_usd: 0.3, ttl_seconds: 120 });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ allowed: true, state: 'ok' });
    expect(r.body.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(Math.abs(Date.parse(r.body.expires_at as string) - Date.now() - 120_000)).toBeLessThan(
      2000,
    );
    // The answer already counts the reservation it made.
    expect(r.body.budgets).toContainEqual(
      expect.objectContaining({ scope: 'user', spent_usd: 0.3, remaining_usd: 0.7 }),
    );
    expect(Number(r.headers.get(BUDGET_HEADERS.remaining))).toBe(0.7);
    expect(await userCap('settler')).toEqual({ status: 200, remaining: 0.7, spent: 0.3 });
    const m = await main.metrics();
    expect(sample(m, 'llm_budget_reservations', { unit: 'count' })).toBe(1);
    expect(sample(m, 'llm_budget_reservations', { unit: 'usd' })).toBe(0.3);

    const s = await post('/v1/settle', { id: r.body.id, cost_usd: 0.25, user: 'settler' });
    expect(s).toMatchObject({ status: 200, body: { settled: true, reservation: 'released' } });
    expect(await userCap('settler')).toEqual({ status: 200, remaining: 0.75, spent: 0.25 });
    expect(sample(await main.metrics(), 'llm_budget_reservations', { unit: 'count' })).toBe(0);
    // Settling twice finds nothing to release.
    expect((await post('/v1/settle', { id: r.body.id, cost_usd: 0 })).body).toEqual({
      settled: true,
      reservation: 'unknown',
    });

    // Prometheus now shows the settled cost: the sidecar must not count it twice.
    metrics.set(costExposition({ ...COSTS, settler: { chat: 0.25 } }));
    await eventually(async () => {
      const rows = await prom.query('llm_user_cost_usd_total{user="settler"}');
      expect(rows[0]?.value[1]).toBe('0.25');
    });
    // Two refreshes later (1 s each) the spend has gone through Prometheus, still 0.25.
    await new Promise((r) => setTimeout(r, 2500));
    expect(await userCap('settler')).toEqual({ status: 200, remaining: 0.75, spent: 0.25 });
    // And spend follows Prometheus from there on (not Prometheus plus the settled cost).
    metrics.set(costExposition({ ...COSTS, settler: { chat: 0.4 } }));
    await eventually(async () =>
      expect(await userCap('settler')).toEqual({ status: 200, remaining: 0.6, spent: 0.4 }),
    );
    await new Promise((r) => setTimeout(r, 1500));
    expect(await userCap('settler')).toEqual({ status: 200, remaining: 0.6, spent: 0.4 });
  });

  it('counts a settle with an unknown id for the user and feature given', async () => {
    const chat = async () =>
      (
        (await answerOf(await main.get('/v1/check?feature=chat'))).body.budgets as {
          scope: string;
          spent_usd: number;
        }[]
      ).find((b) => b.scope === 'feature')?.spent_usd ?? NaN;
    const before = await chat();
    const s = await post('/v1/settle', {
      id: 'no-such-id',
      cost_usd: 0.5,
      user: 'ghost',
      feature: 'chat',
    });
    expect(s).toMatchObject({ status: 200, body: { settled: true, reservation: 'unknown' } });
    expect(await userCap('ghost')).toEqual({ status: 200, remaining: 0.5, spent: 0.5 });
    expect(await chat()).toBe(round6(before + 0.5));
    // Reaching the cap denies from then on.
    await post('/v1/settle', { id: 'no-such-id', cost_usd: 0.5, user: 'ghost' });
    expect((await userCap('ghost')).status).toBe(402);
  });

  it('releases a reservation when its ttl_seconds pass', async () => {
    const r = await post('/v1/reserve', { user: 'shorty', estimate_usd: 0.4, ttl_seconds: 1 });
    expect(r.status).toBe(200);
    expect(await userCap('shorty')).toEqual({ status: 200, remaining: 0.6, spent: 0.4 });
    const t0 = Date.now();
    await eventually(async () =>
      expect(await userCap('shorty')).toEqual({ status: 200, remaining: 1, spent: 0 }),
    );
    // Released by the 1 s sweep after the 1 s TTL, not by anything slower.
    expect(Date.now() - t0).toBeLessThan(3000);
  });

  it('denies a reservation that would start over the cap and reserves nothing', async () => {
    const count = async () =>
      sample(await main.metrics(), 'llm_budget_reservations', { unit: 'count' });
    const before = await count();
    const r = await post('/v1/reserve', { user: 'over', feature: 'chat', estimate_usd: 0.01 });
    expectDeny(
      r,
      problem('user_budget_exceeded', 'user', 'over', 'month', 1, 1.234567, nextMonth()),
    );
    expect(await count()).toBe(before);
    // A reservation fills the cap: the next one is denied with the reservation counted.
    const fill = await post('/v1/reserve', { user: 'filler', estimate_usd: 1 });
    expect(fill.status).toBe(200);
    expectDeny(
      await post('/v1/reserve', { user: 'filler', estimate_usd: 0 }),
      problem('user_budget_exceeded', 'user', 'filler', 'month', 1, 1, nextMonth()),
    );
    await post('/v1/settle', { id: fill.body.id, cost_usd: 0 });
    expect((await userCap('filler')).status).toBe(200);
  });
});

describe('health', () => {
  it('/healthz always, /readyz only after the first refresh; decisions fail open before', async () => {
    const proxy = await startPrometheusProxy(undefined);
    const sc = await startSidecar({
      config: mainConfig(proxy.url),
      env: { SIDECAR_TOKEN: TOKEN },
      ready: false,
    });
    try {
      expect((await sc.get('/healthz')).status).toBe(200);
      expect(await (await sc.get('/healthz')).json()).toEqual({ status: 'ok' });
      const notReady = await answerOf(await sc.get('/readyz'));
      expect(notReady.status).toBe(503);
      expect(notReady.headers.get('content-type')).toBe(PROBLEM_CONTENT_TYPE);
      expect(notReady.body).toMatchObject({ type: PROBLEM_TYPES.notReady, status: 503 });
      // No spend known yet: fail_mode open allows and says so.
      const open = await answerOf(await sc.get('/v1/check?user=over'));
      expect(open.status).toBe(200);
      expect(open.body).toEqual({
        allowed: true,
        state: 'ok',
        budgets: [],
        failed_open: ['global', 'user'],
      });
      expect(sample(await sc.metrics(), 'llm_budget_spend_data_age_seconds')).toBeUndefined();

      proxy.upstream = prom.url;
      await eventually(async () => expect((await sc.get('/readyz')).status).toBe(200));
      await eventually(async () => expect((await sc.get('/v1/check?user=over')).status).toBe(402));
    } finally {
      await sc.stop();
      await proxy.stop();
    }
  });
});
