/**
 * The shipped proxy snippets (proxies/) in front of a real app, with the real sidecar reading a real
 * Prometheus: real nginx and Caddy run the files users copy, with only the placeholder addresses
 * replaced. Envoy and Traefik have no binaries here, so their files are checked statically.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { DEFAULT_HEADERS } from '../src/contract/attributes';
import { BUDGET_HEADERS, PROBLEM_CONTENT_TYPE, PROBLEM_TYPES } from '../src/contract/budget';
import { freePort, ROOT, startNode, type Child } from './helpers/child';
import { startPrometheus, type PrometheusServer } from './helpers/prometheus';

const PROXIES = join(ROOT, 'proxies');
/** The placeholder addresses in the shipped files (proxies/README.md). */
const PLACEHOLDER = { sidecar: '127.0.0.1:8787', app: '127.0.0.1:3000', listen: '8080' };
/** Quotes and non-ASCII text: nginx carries the problem in a header, escaped to ASCII. */
const UPGRADE = {
  url: 'https://example.com/upgrade?from=budget',
  message: 'Passez à "Pro" pour plus d’IA — 🚀',
};
/** The headers of an allowed answer that proxies copy onto the request to the app. */
const ANSWER_HEADERS = Object.entries(BUDGET_HEADERS)
  .filter(([key]) => !key.startsWith('nginx'))
  .map(([, name]) => name);
const DECISION_HEADERS = [DEFAULT_HEADERS.user, DEFAULT_HEADERS.feature, DEFAULT_HEADERS.plan];
const BAD_USERS = ['a b', 'x"}'];

/** Spend as the instrumentation exports it: "over" has spent $12 of a $10 monthly cap. */
const METRICS_TEXT = [
  '# TYPE llm_user_cost_usd_total counter',
  'llm_user_cost_usd_total{user="over",feature="chat"} 12',
  'llm_user_cost_usd_total{user="under",feature="chat"} 1',
  '',
].join('\n');

interface Seen {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

let work: string;
let metrics: Server;
let upstream: Server;
const seen: Seen[] = [];
let prometheus: PrometheusServer;
let sidecar: Child;
let sidecarUrl: string;
let nginx: Daemon;
let caddy: Daemon;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'llmf-proxies-'));
  // nginx workers run as an unprivileged user when the test runs as root: they must reach the folder.
  chmodSync(work, 0o755);
  metrics = await listen(createServer((_req, res) => res.end(METRICS_TEXT)));
  upstream = await listen(
    createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
        res.setHeader('content-type', 'text/plain');
        res.end(`app answered ${req.method} ${req.url}`);
      });
    }),
  );
  prometheus = await startPrometheus({ targets: [address(metrics)] });
  // The sidecar's first refresh must already see the spend.
  await until(async () => (await prometheus.query('llm_user_cost_usd_total')).length === 2);

  const sidecarPort = await freePort();
  sidecarUrl = `http://127.0.0.1:${sidecarPort}`;
  const config = join(work, 'budgets.yaml');
  writeFileSync(
    config,
    [
      'prometheus:',
      `  url: ${prometheus.url}`,
      '  refresh: 1s',
      // Spend is read as of the last multiple of the resolution: keep that lag short.
      '  resolution: 1s',
      'upgrade:',
      `  url: ${JSON.stringify(UPGRADE.url)}`,
      `  message: ${JSON.stringify(UPGRADE.message)}`,
      'budgets:',
      '  users:',
      '    default:',
      '      - { window: month, limit_usd: 10 }',
      '',
    ].join('\n'),
  );
  sidecar = startNode(
    [
      join(ROOT, 'dist/src/cli/main.js'),
      'sidecar',
      '--config',
      config,
      '--host',
      '127.0.0.1',
      '--port',
      String(sidecarPort),
    ],
    {},
  );
  await sidecar.waitFor(`llm-finops sidecar listening on ${sidecarUrl}`);
  await until(async () => (await fetch(`${sidecarUrl}/readyz`)).status === 200);
  // Ready means one refresh done, not one done after the scrape: wait until it counts the $12.
  await until(async () => (await fetch(`${sidecarUrl}/v1/check?user=over`)).status === 402);

  const ports = { sidecar: sidecarPort, app: (upstream.address() as AddressInfo).port };
  nginx = await startNginx(await freePort(), ports);
  caddy = await startCaddy(await freePort(), ports);
}, 90_000);

afterAll(async () => {
  const daemons = [nginx, caddy].filter(Boolean);
  const pids = [...daemons.flatMap((d) => d.pids()), sidecar?.proc.pid ?? 0].filter((p) => p > 0);
  await Promise.all(daemons.map((d) => d.stop()));
  await sidecar?.stop();
  await prometheus?.stop();
  await Promise.all([metrics, upstream].filter(Boolean).map(close));
  rmSync(work, { recursive: true, force: true });
  // No nginx master or worker, Caddy or sidecar may outlive the test.
  expect(pids.filter(alive)).toEqual([]);
}, 60_000);

/** The 402 problem of user "over" that the sidecar itself answers on /v1/check. */
async function directDenial(): Promise<Record<string, unknown>> {
  const res = await fetch(`${sidecarUrl}/v1/check?user=over&feature=chat`);
  expect(res.status).toBe(402);
  return (await res.json()) as Record<string, unknown>;
}

/** Answer headers of user "under" on the sidecar's /v1/check. */
async function directAllowHeaders(): Promise<Record<string, string | null>> {
  const res = await fetch(`${sidecarUrl}/v1/check?user=under&feature=chat`);
  expect(res.status).toBe(200);
  return Object.fromEntries(ANSWER_HEADERS.map((name) => [name, res.headers.get(name)]));
}

function nextMonthStartUtc(now = new Date()): number {
  return Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1);
}

/** Checks a 402 answer against DESIGN.md "Budgets": problem members and headers. */
async function expectBudgetDenial(res: Response): Promise<void> {
  expect(res.status).toBe(402);
  expect(res.headers.get('content-type')).toBe(PROBLEM_CONTENT_TYPE);
  expect(res.headers.get('x-should-retry')).toBe('false');
  const body = (await res.json()) as Record<string, unknown>;
  expect(body).toMatchObject({
    type: PROBLEM_TYPES.budgetExceeded,
    title: expect.any(String) as unknown,
    status: 402,
    detail: UPGRADE.message,
    code: 'user_budget_exceeded',
    scope: 'user',
    subject: 'over',
    window: 'month',
    limit_usd: 10,
    spent_usd: 12,
    upgrade_url: UPGRADE.url,
  });
  expect(body.resets_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/);
  expect(Date.parse(body.resets_at as string)).toBe(nextMonthStartUtc());
  // Seconds to resets_at, as a positive integer.
  const retryAfter = res.headers.get('retry-after') ?? '';
  expect(retryAfter).toMatch(/^[1-9]\d*$/);
  expect(Math.abs(Number(retryAfter) - (nextMonthStartUtc() - Date.now()) / 1000)).toBeLessThan(30);
  // The proxy passes the sidecar's problem on unchanged.
  expect(body).toEqual(await directDenial());
}

async function expectBadRequest(res: Response): Promise<void> {
  expect(res.status).toBe(400);
  expect(res.headers.get('content-type')).toBe(PROBLEM_CONTENT_TYPE);
  const body = (await res.json()) as Record<string, unknown>;
  expect(body).toMatchObject({ type: PROBLEM_TYPES.invalidRequest, status: 400 });
}

function seenBy(user: string): Seen[] {
  return seen.filter((s) => s.headers[DEFAULT_HEADERS.user] === user);
}

describe.each([
  ['nginx', () => nginx],
  ['Caddy', () => caddy],
])('%s with the shipped snippet', (_name, daemon) => {
  it('answers an over-cap user 402 with the problem, and the app never sees the request', async () => {
    const url = `${daemon().url}/v1/chat/completions`;
    const before = seenBy('over').length;
    await expectBudgetDenial(
      await fetch(url, {
        method: 'POST',
        headers: { [DEFAULT_HEADERS.user]: 'over', [DEFAULT_HEADERS.feature]: 'chat' },
        body: '{"model":"gpt-4o"}',
      }),
    );
    await expectBudgetDenial(await fetch(url, { headers: { [DEFAULT_HEADERS.user]: 'over' } }));
    expect(seenBy('over').length).toBe(before);
    expect(before).toBe(0);
  });

  it('passes an under-cap user to the app with the remaining-budget headers', async () => {
    const expected = await directAllowHeaders();
    expect(Number(expected[BUDGET_HEADERS.remaining])).toBe(9);
    const res = await fetch(`${daemon().url}/v1/chat/completions?stream=false`, {
      method: 'POST',
      headers: {
        [DEFAULT_HEADERS.user]: 'under',
        [DEFAULT_HEADERS.feature]: 'chat',
        'content-type': 'application/json',
        // A client cannot grant itself budget: only the sidecar's x-llm-budget-* reach the app.
        ...Object.fromEntries(Object.values(BUDGET_HEADERS).map((h) => [h, 'forged'])),
      },
      body: '{"model":"gpt-4o","messages":[]}',
    });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('app answered POST /v1/chat/completions?stream=false');
    const got = seenBy('under').at(-1);
    expect(got?.headers[DEFAULT_HEADERS.feature]).toBe('chat');
    // The budget check must not eat the body the app needs.
    expect(got?.body).toBe('{"model":"gpt-4o","messages":[]}');
    expect(Object.fromEntries(ANSWER_HEADERS.map((h) => [h, got?.headers[h] ?? null]))).toEqual(
      expected,
    );
    expect(got?.headers[BUDGET_HEADERS.nginxStatus]).toBeUndefined();
    expect(got?.headers[BUDGET_HEADERS.nginxProblem]).toBeUndefined();
  });

  it.each(BAD_USERS)('answers 400 problem for user %j before the app', async (user) => {
    await expectBadRequest(
      await fetch(`${daemon().url}/x`, { headers: { [DEFAULT_HEADERS.user]: user } }),
    );
    expect(seenBy(user)).toEqual([]);
  });
});

describe('Express example (examples/express-402) under --require llm-finops/register', () => {
  let app: Child;
  let url: string;
  beforeAll(async () => {
    const port = await freePort();
    app = startNode(
      ['--require', 'llm-finops/register', join(ROOT, 'dist/examples/express-402/app.js')],
      {
        LLM_FINOPS_SIDECAR_URL: sidecarUrl,
        PORT: String(port),
        OTEL_METRICS_EXPORTER: 'none',
        OTEL_TRACES_EXPORTER: 'none',
      },
    );
    await app.waitFor(`listening on port ${port}`);
    url = `http://127.0.0.1:${port}/reports`;
  });
  afterAll(() => app.stop());

  it('answers the sidecar 402 upgrade prompt on a route that calls no LLM', async () => {
    await expectBudgetDenial(
      await fetch(url, { method: 'POST', headers: { [DEFAULT_HEADERS.user]: 'over' } }),
    );
  });

  it('queues the job for a user under the cap', async () => {
    const res = await fetch(url, { method: 'POST', headers: { [DEFAULT_HEADERS.user]: 'under' } });
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ queued: true, user: 'under' });
  });
});

describe('Envoy snippet (static: no Envoy binary here)', () => {
  const envoy = parse(read('envoy.yaml')) as EnvoyConfig;
  const listener = envoy.static_resources.listeners[0];
  const hcm = listener?.filter_chains[0]?.filters[0]?.typed_config;
  const filters = hcm?.http_filters.map((f) => f.name);
  const filter = (name: string) => hcm?.http_filters.find((f) => f.name === name)?.typed_config;
  const authz = filter('envoy.filters.http.ext_authz') as ExtAuthz;
  const cluster = (name: string | undefined) => {
    const c = envoy.static_resources.clusters.find((x) => x.name === name);
    const socket =
      c?.load_assignment.endpoints[0]?.lb_endpoints[0]?.endpoint.address.socket_address;
    return socket && `${socket.address}:${socket.port_value}`;
  };

  it('sends the x-llm-* headers to the sidecar at /v1/authz, failing closed', () => {
    expect(listener?.address.socket_address.port_value).toBe(Number(PLACEHOLDER.listen));
    expect(filters).toEqual([
      'envoy.filters.http.header_mutation',
      'envoy.filters.http.ext_authz',
      'envoy.filters.http.router',
    ]);
    expect(authz.transport_api_version).toBe('V3');
    expect(authz.failure_mode_allow).toBe(false);
    expect(authz.http_service.path_prefix).toBe('/v1/authz');
    expect(authz.http_service.server_uri.uri).toBe(`http://${PLACEHOLDER.sidecar}`);
    expect(cluster(authz.http_service.server_uri.cluster)).toBe(PLACEHOLDER.sidecar);
    for (const header of DECISION_HEADERS)
      expect(authz.allowed_headers.patterns.some((p) => matches(p, header))).toBe(true);
  });

  it('copies the answer headers to the app and the denial headers to the client', () => {
    const response = authz.http_service.authorization_response;
    expect(response.allowed_upstream_headers.patterns.map((p) => p.exact).sort()).toEqual(
      [...ANSWER_HEADERS].sort(),
    );
    const client = response.allowed_client_headers.patterns;
    for (const header of ['content-type', 'retry-after', 'x-should-retry'])
      expect(client.some((p) => matches(p, header))).toBe(true);
  });

  it('drops budget headers sent by clients before the check', () => {
    const strip = filter('envoy.filters.http.header_mutation') as HeaderMutation;
    expect(strip.mutations.request_mutations.map((m) => m.remove)).toEqual(
      Object.values(BUDGET_HEADERS),
    );
  });

  it('routes everything to the app cluster', () => {
    const routes = hcm?.route_config.virtual_hosts[0]?.routes ?? [];
    expect(routes.map((r) => r.route.cluster)).toEqual(['app']);
    expect(cluster('app')).toBe(PLACEHOLDER.app);
  });
});

describe('Traefik snippet (static: no Traefik binary here)', () => {
  const staticConfig = parse(read('traefik.yml')) as TraefikStatic;
  const dynamic = parse(read(staticConfig.providers.file.filename)) as TraefikDynamic;

  it('puts the forwardAuth middleware to /v1/authz on the router', () => {
    expect(staticConfig.entryPoints.web?.address).toBe(`:${PLACEHOLDER.listen}`);
    const router = dynamic.http.routers.app;
    expect(router?.entryPoints).toEqual(['web']);
    expect(router?.middlewares).toEqual(['llm-budget-strip', 'llm-budget']);
    // An empty value removes the header: only the sidecar's budget headers reach the app.
    expect(dynamic.http.middlewares['llm-budget-strip']?.headers?.customRequestHeaders).toEqual(
      Object.fromEntries(Object.values(BUDGET_HEADERS).map((h) => [h, ''])),
    );
    const auth = dynamic.http.middlewares['llm-budget']?.forwardAuth;
    expect(auth?.address).toBe(`http://${PLACEHOLDER.sidecar}/v1/authz`);
    expect(auth?.authRequestHeaders).toEqual(DECISION_HEADERS);
    expect([...(auth?.authResponseHeaders ?? [])].sort()).toEqual([...ANSWER_HEADERS].sort());
    expect(dynamic.http.services[router?.service ?? '']?.loadBalancer.servers).toEqual([
      { url: `http://${PLACEHOLDER.app}` },
    ]);
  });
});

describe('sidecar down', () => {
  it('nginx and Caddy fail closed: 5xx, and the app is not called', async () => {
    await sidecar.stop();
    const before = seen.length;
    const user = { [DEFAULT_HEADERS.user]: 'under' };
    expect((await fetch(`${nginx.url}/x`, { headers: user })).status).toBe(500);
    expect((await fetch(`${caddy.url}/x`, { headers: user })).status).toBe(502);
    expect(seen.length).toBe(before);
  });
});

// --- the proxies ---

interface Daemon {
  url: string;
  /** Pids of the daemon and its workers. */
  pids(): number[];
  stop(): Promise<void>;
}

function read(file: string): string {
  return readFileSync(join(PROXIES, file), 'utf8');
}

/** The shipped file with only its placeholder addresses replaced. */
function render(file: string, listenPort: number, ports: { sidecar: number; app: number }): string {
  const text = read(file);
  for (const placeholder of Object.values(PLACEHOLDER)) expect(text).toContain(placeholder);
  return text
    .replaceAll(PLACEHOLDER.sidecar, `127.0.0.1:${ports.sidecar}`)
    .replaceAll(PLACEHOLDER.app, `127.0.0.1:${ports.app}`)
    .replace(new RegExp(`\\b${PLACEHOLDER.listen}\\b`, 'g'), String(listenPort));
}

async function startNginx(port: number, ports: { sidecar: number; app: number }): Promise<Daemon> {
  const site = join(work, 'llm-budget.conf');
  writeFileSync(site, render('nginx.conf', port, ports));
  // What /etc/nginx/nginx.conf does on a server, with every path in the test's folder.
  const main = join(work, 'nginx-main.conf');
  writeFileSync(
    main,
    [
      'worker_processes 1;',
      'events { worker_connections 64; }',
      'http {',
      `  access_log ${work}/nginx-access.log;`,
      ...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map(
        (kind) => `  ${kind}_temp_path ${work}/nginx-${kind};`,
      ),
      `  include ${site};`,
      '}',
      '',
    ].join('\n'),
  );
  const globals = `pid ${work}/nginx.pid; error_log ${work}/nginx-error.log notice;`;
  const args = ['-p', `${work}/`, '-c', main];
  // Debian installs nginx in /usr/sbin, which is not on a non-root user's PATH.
  const env = { PATH: `${process.env.PATH ?? ''}:/usr/sbin:/sbin` };
  const check = spawnSync('nginx', [...args, '-t', '-g', globals], { encoding: 'utf8', env });
  expect(check.status, check.stderr).toBe(0);
  const proc = spawn('nginx', [...args, '-g', `daemon off; ${globals}`], { env, stdio: 'ignore' });
  await waitListening(port, proc, () => readLog(`${work}/nginx-error.log`));
  return daemon(`http://127.0.0.1:${port}`, proc, 'SIGQUIT');
}

async function startCaddy(port: number, ports: { sidecar: number; app: number }): Promise<Daemon> {
  const home = join(work, 'caddy-home');
  const site = join(work, 'Caddyfile.site');
  writeFileSync(site, render('Caddyfile', port, ports));
  // Global options a server's own Caddyfile would hold: no admin endpoint, storage in the test's folder.
  const main = join(work, 'Caddyfile');
  writeFileSync(
    main,
    `{\n\tadmin off\n\tstorage file_system ${home}/storage\n}\n\nimport ${site}\n`,
  );
  const env = {
    PATH: process.env.PATH ?? '',
    HOME: home,
    XDG_DATA_HOME: home,
    XDG_CONFIG_HOME: home,
  };
  const args = ['--config', main, '--adapter', 'caddyfile'];
  const check = spawnSync('caddy', ['validate', ...args], { encoding: 'utf8', env });
  expect(check.status, check.stderr).toBe(0);
  let log = '';
  const proc = spawn('caddy', ['run', ...args], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  proc.stderr?.on('data', (d: Buffer) => (log += d.toString()));
  await waitListening(port, proc, () => log);
  return daemon(`http://127.0.0.1:${port}`, proc, 'SIGTERM');
}

function daemon(url: string, proc: ChildProcess, signal: NodeJS.Signals): Daemon {
  const pid = proc.pid ?? 0;
  const exited = new Promise((resolve) => proc.once('exit', resolve));
  return {
    url,
    pids: () => [pid, ...childPids(pid)],
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
      await exited;
    },
  };
}

function childPids(pid: number): number[] {
  const ps = spawnSync('ps', ['-o', 'pid=', '--ppid', String(pid)], { encoding: 'utf8' });
  return ps.stdout
    .split('\n')
    .map((line) => Number(line.trim()))
    .filter((n) => n > 0);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function readLog(file: string): string {
  return existsSync(file) ? readFileSync(file, 'utf8') : '';
}

// --- small helpers ---

function listen(server: Server): Promise<Server> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

function close(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });
}

function address(server: Server): string {
  return `127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function until(check: () => Promise<boolean>, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      if (await check()) return;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) throw new Error(`condition not met within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Resolves once `port` accepts connections; rejects if `proc` exits first. */
async function waitListening(port: number, proc: ChildProcess, log: () => string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null) throw new Error(`exited ${proc.exitCode}:\n${log()}`);
    const ok = await new Promise<boolean>((resolve) => {
      // Closed right away: an idle connection would hold up nginx's graceful stop for 60 s.
      const socket = connect(port, '127.0.0.1');
      const done = (ok: boolean) => {
        socket.destroy();
        resolve(ok);
      };
      socket.once('connect', () => done(true));
      socket.once('error', () => done(false));
      socket.setTimeout(500, () => done(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  proc.kill('SIGKILL');
  throw new Error(`not listening on ${port} after 20 s:\n${log()}`);
}

function matches(pattern: StringMatcher, header: string): boolean {
  return (
    pattern.exact === header || (pattern.prefix !== undefined && header.startsWith(pattern.prefix))
  );
}

// --- the parts of the Envoy and Traefik configs the tests read ---

interface StringMatcher {
  exact?: string;
  prefix?: string;
}
interface Socket {
  socket_address: { address: string; port_value: number };
}
interface ExtAuthz {
  transport_api_version: string;
  failure_mode_allow: boolean;
  allowed_headers: { patterns: StringMatcher[] };
  http_service: {
    server_uri: { uri: string; cluster: string };
    path_prefix: string;
    authorization_response: {
      allowed_upstream_headers: { patterns: StringMatcher[] };
      allowed_client_headers: { patterns: StringMatcher[] };
    };
  };
}
interface HeaderMutation {
  mutations: { request_mutations: { remove: string }[] };
}
interface EnvoyConfig {
  static_resources: {
    listeners: {
      address: Socket;
      filter_chains: {
        filters: {
          typed_config: {
            route_config: { virtual_hosts: { routes: { route: { cluster: string } }[] }[] };
            http_filters: { name: string; typed_config: unknown }[];
          };
        }[];
      }[];
    }[];
    clusters: {
      name: string;
      load_assignment: { endpoints: { lb_endpoints: { endpoint: { address: Socket } }[] }[] };
    }[];
  };
}
interface TraefikStatic {
  entryPoints: Record<string, { address: string }>;
  providers: { file: { filename: string } };
}
interface TraefikDynamic {
  http: {
    routers: Record<string, { entryPoints: string[]; middlewares: string[]; service: string }>;
    middlewares: Record<
      string,
      {
        headers?: { customRequestHeaders: Record<string, string> };
        forwardAuth?: {
          address: string;
          authRequestHeaders: string[];
          authResponseHeaders: string[];
        };
      }
    >;
    services: Record<string, { loadBalancer: { servers: { url: string }[] } }>;
  };
}
