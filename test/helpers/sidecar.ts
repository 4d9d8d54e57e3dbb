import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { METRICS } from '../../src/contract/metrics';
import { ROOT, parseMetrics, startNode, type Child, type PromSample } from './child';

/** The built CLI (`npm run build`). */
export const SIDECAR_CLI = join(ROOT, 'dist', 'src', 'cli', 'main.js');

/** The budget sidecar CLI running as a child process (`npm run build` first). */
export interface SidecarChild {
  /** The URL it printed, e.g. `http://127.0.0.1:41234`. */
  readonly url: string;
  readonly configFile: string;
  readonly child: Child;
  /** Replaces the config file the way editors save (new file renamed over the old one). */
  writeConfig(yaml: string): void;
  /** GET `path` of the sidecar. */
  get(path: string, init?: RequestInit): Promise<Response>;
  /** Its /metrics, parsed. */
  metrics(): Promise<PromSample[]>;
  /** SIGTERM, wait for the exit, remove the config folder. */
  stop(): Promise<void>;
}

export interface SidecarOptions {
  /** budgets.yaml text. */
  readonly config: string;
  /** Environment of the child (PATH and HOME are always passed). */
  readonly env?: Record<string, string>;
  /** Extra CLI arguments, e.g. `['--host', '::1']`. */
  readonly args?: readonly string[];
  /** Wait until /readyz answers 200 (default true). */
  readonly ready?: boolean;
  /** Name of the config file (default `budgets.yaml`; `.json` makes it JSON). */
  readonly fileName?: string;
  /** How long to wait for the "listening on" line and then readiness (default 20 s each). */
  readonly startTimeoutMs?: number;
}

/** Starts `llm-finops sidecar` on a free port (`--port 0`) and waits for its "listening on" line. */
export async function startSidecar(options: SidecarOptions): Promise<SidecarChild> {
  const dir = mkdtempSync(join(tmpdir(), 'llmf-sidecar-'));
  const configFile = join(dir, options.fileName ?? 'budgets.yaml');
  const timeout = options.startTimeoutMs ?? 20_000;
  const writeConfig = (yaml: string) => {
    const next = `${configFile}.new`;
    writeFileSync(next, yaml);
    renameSync(next, configFile);
  };
  writeConfig(options.config);
  const child = startNode(
    [SIDECAR_CLI, 'sidecar', '--config', configFile, '--port', '0', ...(options.args ?? [])],
    options.env ?? {},
  );
  const stop = async () => {
    await child.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await child.waitFor('listening on ', timeout);
  } catch (err) {
    await stop();
    throw err;
  }
  const url = /listening on (\S+)/.exec(child.stdout())?.[1] ?? '';
  const get = (path: string, init?: RequestInit) => fetch(`${url}${path}`, init);
  if (options.ready ?? true) {
    try {
      await eventually(async () => {
        const res = await get('/readyz');
        if (res.status !== 200) throw new Error(`readyz ${res.status}: ${child.stderr()}`);
      }, timeout);
    } catch (err) {
      await stop();
      throw err;
    }
  }
  return {
    url,
    configFile,
    child,
    writeConfig,
    get,
    async metrics() {
      return parseMetrics(await (await get('/metrics')).text());
    },
    stop,
  };
}

/** Retries `check` until it stops throwing; rethrows its last error after `ms`. */
export async function eventually<T>(check: () => Promise<T> | T, ms = 15_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      return await check();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/** A plain HTTP server on a free loopback port, closed with its open connections. */
export interface TestServer {
  /** `host:port`, as a Prometheus scrape target. */
  readonly target: string;
  readonly url: string;
  stop(): Promise<void>;
}

export async function listen(server: Server): Promise<TestServer> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    target: `127.0.0.1:${port}`,
    url: `http://127.0.0.1:${port}`,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A /metrics page whose text the test changes between scrapes. */
export interface StaticMetrics extends TestServer {
  set(text: string): void;
  /** Scrapes served so far. */
  scrapes(): number;
}

export async function startStaticMetrics(text = ''): Promise<StaticMetrics> {
  let page = text;
  let scrapes = 0;
  const server = createServer((req, res) => {
    scrapes++;
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
    res.end(page);
  });
  return {
    ...(await listen(server)),
    set: (next) => (page = next),
    scrapes: () => scrapes,
  };
}

/** Cumulative cost by user and feature, USD. */
export type Costs = Readonly<Record<string, Readonly<Record<string, number>>>>;

/**
 * The instrumentation's cost counters for `costs`: `llm_user_cost_usd_total{user,feature}` and
 * `llm_cost_usd_total{feature,...}` (per feature, summed over users), so user, feature and global
 * spend agree. `extraFeatures` adds feature cost not attributed to any user.
 */
export function costExposition(costs: Costs, extraFeatures: Record<string, number> = {}): string {
  const user = METRICS.userCost.promName;
  const cost = METRICS.cost.promName;
  const byFeature = new Map<string, number>(Object.entries(extraFeatures));
  const lines = [`# TYPE ${user} counter`];
  for (const [u, features] of Object.entries(costs))
    for (const [f, usd] of Object.entries(features)) {
      lines.push(`${user}{user="${u}",feature="${f}"} ${usd}`);
      byFeature.set(f, (byFeature.get(f) ?? 0) + usd);
    }
  lines.push(`# TYPE ${cost} counter`);
  for (const [f, usd] of byFeature)
    lines.push(
      `${cost}{provider="openai",model="gpt-4o-mini",tier="economy",feature="${f}"} ${usd}`,
    );
  return `${lines.join('\n')}\n`;
}

/** Value of the first sample of `name` whose labels include `labels` (undefined when none). */
export function sample(
  samples: readonly PromSample[],
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  return samples.find(
    (s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v),
  )?.value;
}

/** How a {@link PrometheusProxy} answers queries. */
export type ProxyMode =
  /** Forward to the upstream Prometheus (connection closed when there is none). */
  | 'pass'
  /** Close the connection without an answer. */
  | 'down'
  /** 500 with a text body. */
  | 'http500'
  /** 200 with HTML. */
  | 'not_json'
  /** 200 JSON that is not a PromQL result. */
  | 'wrong_shape'
  /** 200 PromQL results whose values are "NaN". */
  | 'nan'
  /** Never answer. */
  | 'hang';

/**
 * An HTTP server between the sidecar and Prometheus: records every PromQL expression it is asked,
 * forwards to the upstream (which can move, as a restarted Prometheus does), or misbehaves.
 */
export interface PrometheusProxy extends TestServer {
  mode: ProxyMode;
  upstream: string | undefined;
  /** Queries matching this answer 500 whatever the mode. */
  failQueries: RegExp | undefined;
  /** Delay before answering, ms. */
  delayMs: number;
  /** Every `query` parameter received, in order. */
  readonly queries: string[];
}

export async function startPrometheusProxy(upstream?: string): Promise<PrometheusProxy> {
  const state = {
    mode: 'pass' as ProxyMode,
    upstream,
    failQueries: undefined as RegExp | undefined,
    delayMs: 0,
    queries: [] as string[],
  };
  const server = createServer((req, res) => {
    const path = req.url ?? '/';
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString();
      const query =
        new URLSearchParams(body).get('query') ??
        new URL(path, 'http://x').searchParams.get('query') ??
        '';
      state.queries.push(query);
      const mode = state.failQueries?.test(query) ? 'http500' : state.mode;
      setTimeout(() => void answer(mode, body), state.delayMs);
    });
    const json = (status: number, value: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(value));
    };
    const answer = async (mode: ProxyMode, body: string) => {
      switch (mode) {
        case 'hang':
          return;
        case 'down':
          return req.socket.destroy();
        case 'http500':
          res.writeHead(500, { 'content-type': 'text/plain' });
          return res.end('upstream exploded');
        case 'not_json':
          res.writeHead(200, { 'content-type': 'text/html' });
          return res.end('<html><body>Login required</body></html>');
        case 'wrong_shape':
          return json(200, { status: 'success', data: { resultType: 'vector', result: 'none' } });
        case 'nan': {
          const t = Date.now() / 1000;
          const metric = { user: 'nan-user', feature: 'chat' };
          return json(200, {
            status: 'success',
            data: path.includes('query_range')
              ? { resultType: 'matrix', result: [{ metric, values: [[t, 'NaN']] }] }
              : { resultType: 'vector', result: [{ metric, value: [t, 'NaN'] }] },
          });
        }
        case 'pass': {
          if (!state.upstream) return req.socket.destroy();
          try {
            const type = req.headers['content-type'];
            const up = await fetch(`${state.upstream}${path}`, {
              method: req.method,
              headers: type ? { 'content-type': type } : {},
              body: req.method === 'GET' ? undefined : body,
            });
            res.writeHead(up.status, { 'content-type': up.headers.get('content-type') ?? '' });
            res.end(await up.text());
          } catch {
            req.socket.destroy();
          }
        }
      }
    };
  });
  // The state object is the proxy: the test sets its fields, the handler reads them.
  return Object.assign(state, await listen(server));
}
