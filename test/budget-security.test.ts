import { request } from 'node:http';
import { connect } from 'node:net';
import { networkInterfaces } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROBLEM_CONTENT_TYPE, PROBLEM_TYPES, BUDGET_HEADERS } from '../src/contract/budget';
import { startPrometheus, type PrometheusServer } from './helpers/prometheus';
import {
  costExposition,
  eventually,
  startPrometheusProxy,
  startSidecar,
  startStaticMetrics,
  type PrometheusProxy,
  type SidecarChild,
  type StaticMetrics,
} from './helpers/sidecar';

/**
 * What a hostile or careless client can send the sidecar: values meant to break into PromQL,
 * bodies too large or malformed, missing credentials, wrong methods. Every one gets a 4xx
 * problem+json, none reaches Prometheus, and real users' budgets do not move.
 */

const TOKEN = 'sec-token-7f3a9c01d2e4b5a6';
const VICTIM_SPEND = 0.75;

const config = (url: string) => `
prometheus:
  url: ${url}
  refresh: 1s
  stale_after: 1m
  resolution: 1s
upgrade:
  url: https://example.com/upgrade
reservations:
  token_env: SIDECAR_TOKEN
budgets:
  features:
    chat:
      - { window: month, limit_usd: 100 }
  users:
    default:
      - { window: month, limit_usd: 1 }
    plans:
      pro:
        - { window: month, limit_usd: 100 }
`;

interface Raw {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

/** One request with node:http, for what fetch will not send (chunked bodies, repeated headers). */
function raw(
  url: string,
  options: {
    method?: string;
    path: string;
    headers?: Record<string, string | number | string[]>;
    /** Written in pieces, without content-length (chunked). */
    chunks?: string[];
    body?: string;
  },
): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${url}${options.path}`,
      { method: options.method ?? 'GET', headers: options.headers },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
      },
    );
    req.on('error', reject);
    if (options.chunks) {
      for (const c of options.chunks) req.write(c);
      req.end();
    } else req.end(options.body);
  });
}

let prom: PrometheusServer;
let metrics: StaticMetrics;
let proxy: PrometheusProxy;
let sc: SidecarChild;

const auth = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };

function post(path: string, body: string, headers: Record<string, string> = auth) {
  return sc.get(path, { method: 'POST', headers, body });
}

/** The 4xx problem document every refusal must be. */
async function expectProblem(res: Response, status: number, type: string): Promise<void> {
  const text = await res.text();
  expect(res.status, text).toBe(status);
  expect(res.headers.get('content-type')).toBe(PROBLEM_CONTENT_TYPE);
  const body = JSON.parse(text) as Record<string, unknown>;
  expect(body).toMatchObject({ type, status });
  expect(typeof body.detail).toBe('string');
  // Nothing of the implementation leaks into the answer.
  expect(text).not.toMatch(/at \w+ \(|node_modules|\/src\//);
}

async function victimSpend(): Promise<number | undefined> {
  const body = (await (await sc.get('/v1/check?user=victim')).json()) as {
    budgets?: { scope: string; spent_usd: number }[];
  };
  return body.budgets?.find((b) => b.scope === 'user')?.spent_usd;
}

/** Until two more refreshes have run (each asks Prometheus for the latest user spend). */
async function twoRefreshes(): Promise<void> {
  const latest = () => proxy.queries.filter((q) => q.startsWith('sum by (user)')).length;
  const start = latest();
  await eventually(() => expect(latest()).toBeGreaterThanOrEqual(start + 4));
}

beforeAll(async () => {
  metrics = await startStaticMetrics(costExposition({ victim: { chat: VICTIM_SPEND } }));
  prom = await startPrometheus({ targets: [metrics.target] });
  proxy = await startPrometheusProxy(prom.url);
  sc = await startSidecar({ config: config(proxy.url), env: { SIDECAR_TOKEN: TOKEN } });
  await eventually(async () => expect(await victimSpend()).toBe(VICTIM_SPEND));
});

afterAll(async () => {
  await sc?.stop();
  await Promise.all([proxy?.stop(), prom?.stop(), metrics?.stop()]);
});

describe('subject values', () => {
  const INJECTIONS = [
    'x"}) or vector(1) #',
    'victim"} or llm_user_cost_usd_total{user=~".+',
    'a{b="c"}',
    'user\nname',
    'a b',
    'a,b',
    "o'brien",
    'back\\slash',
    '${jndi:x}',
    'ünïcödé',
    '用户',
    '\u0000',
    'x'.repeat(201),
  ];
  /** Values header lines can carry (no newline, no NUL; non-ASCII as Latin-1). */
  const HEADER_SAFE = INJECTIONS.filter((v) => /^[\x20-\xff]+$/.test(v));

  it('are refused with 400 by check, authz, nginx-authz, reserve and settle, and never queried', async () => {
    await twoRefreshes();
    const before = new Set(proxy.queries);
    for (const value of INJECTIONS)
      for (const name of ['user', 'feature', 'plan']) {
        const what = `${name}=${JSON.stringify(value)}`;
        await expectProblem(
          await sc.get(`/v1/check?${new URLSearchParams({ [name]: value }).toString()}`),
          400,
          PROBLEM_TYPES.invalidRequest,
        );
        const body = JSON.stringify({ [name]: value, estimate_usd: 0.01 });
        await expectProblem(await post('/v1/reserve', body), 400, PROBLEM_TYPES.invalidRequest);
        if (name !== 'plan') {
          const settle = JSON.stringify({ id: 'x', cost_usd: 0.01, [name]: value });
          await expectProblem(await post('/v1/settle', settle), 400, PROBLEM_TYPES.invalidRequest);
        }
        if (!HEADER_SAFE.includes(value)) continue;
        const headers = { [`x-llm-${name}`]: Buffer.from(value, 'utf8').toString('latin1') };
        const authz = await raw(sc.url, { path: '/v1/authz/v1/chat', headers, method: 'POST' });
        expect(authz.status, what).toBe(400);
        expect(authz.headers['content-type']).toBe(PROBLEM_CONTENT_TYPE);
        const nginx = await raw(sc.url, { path: '/v1/nginx-authz', headers });
        expect(nginx.status, what).toBe(403);
        expect(nginx.headers[BUDGET_HEADERS.nginxStatus], what).toBe('400');
      }
    // The victim's budget did not move, and no reservation was made.
    expect(await victimSpend()).toBe(VICTIM_SPEND);
    const m = await sc.metrics();
    expect(
      m.find((s) => s.name === 'llm_budget_reservations' && s.labels.unit === 'count')?.value,
    ).toBe(0);

    // Prometheus was asked nothing new: the same fixed queries, none naming a subject.
    await twoRefreshes();
    expect(new Set(proxy.queries)).toEqual(before);
    for (const q of proxy.queries) {
      expect(q).not.toMatch(/\buser\s*=|\bfeature\s*=|vector\(1\)|jndi/);
      expect(q).toMatch(/^sum by \((user|feature)\) \(/);
    }
  });

  it('accept the whole name rule: dots, 200 characters, Object member names', async () => {
    for (const value of ['..', '.', 'x'.repeat(200), 'a@b.c', 'A-Z_0.9:@+=/~|-'])
      expect(
        (await sc.get(`/v1/check?${new URLSearchParams({ user: value }).toString()}`)).status,
      ).toBe(200);
    // Names of Object's members are plain names: no caps unless configured, never a 500.
    for (const value of ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf']) {
      const check = await sc.get(`/v1/check?feature=${value}&user=${value}`);
      expect(check.status, value).toBe(200);
      const body = (await check.json()) as { budgets: { scope: string; limit_usd: number }[] };
      expect(body.budgets.map((b) => [b.scope, b.limit_usd])).toEqual([['user', 1]]);
      const authz = await sc.get('/v1/authz', { headers: { 'x-llm-feature': value } });
      expect(authz.status, value).toBe(200);
      // Only configured plans exist.
      await expectProblem(
        await sc.get(`/v1/check?plan=${value}`),
        400,
        PROBLEM_TYPES.invalidRequest,
      );
      const reserve = await post(
        '/v1/reserve',
        JSON.stringify({ feature: value, user: value, estimate_usd: 0 }),
      );
      expect(reserve.status, value).toBe(200);
    }
  });

  it('empty is the same as absent', async () => {
    const absent = await (await sc.get('/v1/check')).json();
    expect(absent).toEqual({ allowed: true, state: 'ok', budgets: [] });
    expect(await (await sc.get('/v1/check?user=&feature=&plan=')).json()).toEqual(absent);
    expect(
      await (
        await sc.get('/v1/authz', { headers: { 'x-llm-user': '', 'x-llm-feature': ' ' } })
      ).json(),
    ).toEqual(absent);
    const reserve = (await (
      await post('/v1/reserve', JSON.stringify({ user: '', feature: null, estimate_usd: 0 }))
    ).json()) as Record<string, unknown>;
    expect(reserve.budgets).toEqual([]);
  });

  it('given twice is refused (which one would count?)', async () => {
    for (const q of [
      'user=a&user=b',
      'user=a&user=a',
      'feature=chat&feature=x',
      'plan=pro&plan=pro',
    ])
      await expectProblem(await sc.get(`/v1/check?${q}`), 400, PROBLEM_TYPES.invalidRequest);
    // Two header lines arrive joined by a comma, which no name may contain.
    const twice = await raw(sc.url, {
      path: '/v1/authz',
      headers: { 'x-llm-user': ['victim', 'other'] },
    });
    expect(twice.status).toBe(400);
  });
});

describe('reserve and settle bodies', () => {
  it('refuses bodies over 16 KiB, declared or chunked, and takes one of exactly 16 KiB', async () => {
    for (const path of ['/v1/reserve', '/v1/settle']) {
      const declared = await raw(sc.url, {
        method: 'POST',
        path,
        headers: { ...auth, 'content-length': 17 * 1024 },
        body: 'x'.repeat(17 * 1024),
      });
      expect(declared.status, path).toBe(413);
      expect(JSON.parse(declared.text)).toMatchObject({
        type: PROBLEM_TYPES.payloadTooLarge,
        status: 413,
      });
      const chunked = await raw(sc.url, {
        method: 'POST',
        path,
        headers: auth,
        chunks: Array.from({ length: 17 }, () => ' '.repeat(1024)),
      });
      expect(chunked.status, path).toBe(413);
      expect(chunked.headers['content-type']).toBe(PROBLEM_CONTENT_TYPE);
    }
    const json = JSON.stringify({ user: 'padded', estimate_usd: 0 });
    const exact = json + ' '.repeat(16 * 1024 - json.length);
    expect(Buffer.byteLength(exact)).toBe(16 * 1024);
    expect((await post('/v1/reserve', exact)).status).toBe(200);
    const chunked = await raw(sc.url, {
      method: 'POST',
      path: '/v1/reserve',
      headers: auth,
      chunks: [json, ' '.repeat(16 * 1024 - json.length)],
    });
    expect(chunked.status).toBe(200);
  });

  it('refuses other content types with 415 and JSON that is not an object with 400', async () => {
    const body = JSON.stringify({ estimate_usd: 0 });
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'application/jsonx', ''])
      await expectProblem(
        await post('/v1/reserve', body, {
          authorization: auth.authorization,
          'content-type': type,
        }),
        415,
        PROBLEM_TYPES.invalidRequest,
      );
    expect(
      (
        await post('/v1/reserve', body, {
          ...auth,
          'content-type': 'Application/JSON; charset=utf-8',
        })
      ).status,
    ).toBe(200);
    for (const bad of ['{', '', '[]', 'null', '"x"', '1', '{"estimate_usd": NaN}', "{'a':1}"])
      for (const path of ['/v1/reserve', '/v1/settle'])
        await expectProblem(await post(path, bad), 400, PROBLEM_TYPES.invalidRequest);
  });

  it('refuses money that is not a number of USD from 0 to 1,000,000', async () => {
    for (const bad of ['-1', '-0.000001', '"1"', 'null', 'true', '[1]', '1e7', '1e309', '-1e309']) {
      await expectProblem(
        await post('/v1/reserve', `{"user":"m","estimate_usd":${bad}}`),
        400,
        PROBLEM_TYPES.invalidRequest,
      );
      await expectProblem(
        await post('/v1/settle', `{"id":"x","user":"m","cost_usd":${bad}}`),
        400,
        PROBLEM_TYPES.invalidRequest,
      );
    }
    await expectProblem(
      await post('/v1/reserve', '{"user":"m"}'),
      400,
      PROBLEM_TYPES.invalidRequest,
    );
    await expectProblem(await post('/v1/settle', '{"id":"x"}'), 400, PROBLEM_TYPES.invalidRequest);
    for (const id of ['', 5, 'x'.repeat(101), null])
      await expectProblem(
        await post('/v1/settle', JSON.stringify({ id, cost_usd: 0 })),
        400,
        PROBLEM_TYPES.invalidRequest,
      );
    for (const ttl of [0, -1, 86_401, '60', null, 1e309])
      await expectProblem(
        await post('/v1/reserve', `{"estimate_usd":0,"ttl_seconds":${JSON.stringify(ttl)}}`),
        400,
        PROBLEM_TYPES.invalidRequest,
      );
    // None of it touched a budget.
    const m = (await (await sc.get('/v1/check?user=m')).json()) as {
      budgets: { spent_usd: number }[];
    };
    expect(m.budgets[0]?.spent_usd).toBe(0);
    expect((await post('/v1/reserve', '{"user":"m","estimate_usd":0}')).status).toBe(200);
    expect((await post('/v1/reserve', '{"user":"m","estimate_usd":1000000}')).status).toBe(200);
  });

  it('needs the bearer token: 401 with WWW-Authenticate without it or with a wrong one', async () => {
    const body = JSON.stringify({ user: 'tok', estimate_usd: 0.5 });
    const settle = JSON.stringify({ id: 'x', user: 'tok', cost_usd: 0.5 });
    const wrong: Record<string, string>[] = [
      {},
      { authorization: '' },
      { authorization: 'Bearer' },
      { authorization: `Bearer ${TOKEN}x` },
      { authorization: `Bearer ${TOKEN.slice(0, -1)}` },
      { authorization: `Basic ${Buffer.from(`user:${TOKEN}`).toString('base64')}` },
      { authorization: TOKEN },
      { 'x-api-key': TOKEN },
    ];
    for (const headers of wrong)
      for (const [path, text] of [
        ['/v1/reserve', body],
        ['/v1/settle', settle],
      ] as const) {
        const res = await post(path, text, { 'content-type': 'application/json', ...headers });
        expect(res.headers.get('www-authenticate')).toBe('Bearer');
        await expectProblem(res, 401, PROBLEM_TYPES.unauthorized);
      }
    // Refused before the body is read: a large body changes nothing.
    const big = await raw(sc.url, {
      method: 'POST',
      path: '/v1/reserve',
      headers: { 'content-type': 'application/json', 'content-length': 1 << 20 },
      body: ' '.repeat(1 << 20),
    });
    expect(big.status).toBe(401);
    expect(await (await sc.get('/v1/check?user=tok')).json()).toMatchObject({
      budgets: [{ spent_usd: 0 }],
    });

    const ok = await post('/v1/reserve', body, { ...auth, authorization: `bearer  ${TOKEN}` });
    expect(ok.status).toBe(200);
    const { id } = (await ok.json()) as { id: string };
    expect((await post('/v1/settle', JSON.stringify({ id, cost_usd: 0.5 }))).status).toBe(200);
    // The token appears nowhere the sidecar writes.
    expect(sc.child.stderr() + sc.child.stdout()).not.toContain(TOKEN);
    expect(await (await sc.get('/metrics')).text()).not.toContain(TOKEN);
  });
});

describe('HTTP surface', () => {
  it('listens on 127.0.0.1 by default', async () => {
    expect(sc.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const port = Number(new URL(sc.url).port);
    const external = Object.values(networkInterfaces())
      .flat()
      .find((i) => i && !i.internal && i.family === 'IPv4')?.address;
    if (!external) return;
    const refused = await new Promise<string>((resolve) => {
      const socket = connect(port, external);
      socket.once('connect', () => {
        socket.destroy();
        resolve('connected');
      });
      socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'error'));
    });
    expect(refused).toBe('ECONNREFUSED');
  });

  it('answers 404 problems for unknown paths and 405 with Allow for wrong methods', async () => {
    for (const path of [
      '/',
      '/v1',
      '/v1/checks',
      '/v1/check/x',
      '/v2/check',
      '/V1/CHECK',
      '/v1/reserve/x',
    ])
      await expectProblem(await sc.get(path), 404, PROBLEM_TYPES.notFound);
    const cases: [string, string, string][] = [
      ['POST', '/v1/check', 'GET, HEAD'],
      ['DELETE', '/v1/check', 'GET, HEAD'],
      ['GET', '/v1/reserve', 'POST'],
      ['PUT', '/v1/reserve', 'POST'],
      ['GET', '/v1/settle', 'POST'],
      ['PATCH', '/v1/settle', 'POST'],
    ];
    for (const [method, path, allow] of cases) {
      const res = await sc.get(path, { method });
      expect(res.headers.get('allow'), `${method} ${path}`).toBe(allow);
      await expectProblem(res, 405, PROBLEM_TYPES.invalidRequest);
    }
    expect(sc.child.stderr()).not.toContain('internal error');
  });
});
