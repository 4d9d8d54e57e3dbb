import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import { DEFAULT_HEADERS } from '../../contract/attributes';
import { BUDGET_HEADERS, PROBLEM_TYPES } from '../../contract/budget';
import type { CapStatus, Decision, DecisionRequest } from '../decide/decision';
import { ENDPOINTS, type Endpoint } from '../metrics';
import { remainingHeaders, retryAfter, rfc3339 } from '../decide/problem';
import { UnknownPlanError } from '../decide/caps';
import type { Sidecar } from '../sidecar';
import { headerParam, jsonBody, queryParam, subject, usd } from './params';
import {
  RequestProblem,
  headerSafeJson,
  requestProblemBody,
  sendJson,
  sendJsonText,
  sendProblem,
} from './respond';

/** Endpoint names of the duration histogram, by index (metrics.ts ENDPOINTS). */
const ENDPOINT_INDEX: Record<Endpoint, number> = Object.fromEntries(
  ENDPOINTS.map((e, i) => [e, i]),
) as Record<Endpoint, number>;

/** The sidecar's HTTP API (docs/budgets.md). Plain node:http: a decision is a few map lookups. */
export function createSidecarServer(sidecar: Sidecar): Server {
  // Decisions are answered synchronously: no promise or closure per request (BENCHMARKS.md).
  const server = createServer((req, res) => handle(sidecar, req, res));
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 10_000;
  server.requestTimeout = 10_000;
  return server;
}

function handle(sidecar: Sidecar, req: IncomingMessage, res: ServerResponse): void {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  const started = performance.now();
  let endpoint: Endpoint | undefined;
  try {
    if (path === '/v1/check') {
      endpoint = 'check';
      allow(req, ['GET', 'HEAD']);
      const params = new URLSearchParams(q < 0 ? '' : url.slice(q + 1));
      answer(sidecar, res, endpoint, {
        user: subject('user', queryParam(params, 'user')),
        feature: subject('feature', queryParam(params, 'feature')),
        plan: subject('plan', queryParam(params, 'plan')),
      });
    } else if (path === '/v1/authz' || path.startsWith('/v1/authz/')) {
      endpoint = 'authz';
      answer(sidecar, res, endpoint, fromHeaders(sidecar, req));
    } else if (path === '/v1/nginx-authz' || path.startsWith('/v1/nginx-authz/')) {
      endpoint = 'nginx';
      answer(sidecar, res, endpoint, fromHeaders(sidecar, req));
    } else if (path === '/v1/reserve' || path === '/v1/settle') {
      endpoint = path === '/v1/reserve' ? 'reserve' : 'settle';
      allow(req, ['POST']);
      authorize(sidecar, req);
      const done = endpoint;
      (done === 'reserve' ? reserve(sidecar, req, res) : settle(sidecar, req, res)).then(
        () => observe(sidecar, done, started),
        (err: unknown) => {
          failed(sidecar, res, done, err);
          observe(sidecar, done, started);
        },
      );
      return;
    } else if (path === '/healthz') {
      sendJson(res, 200, { status: 'ok' });
    } else if (path === '/readyz') {
      if (sidecar.ready) sendJson(res, 200, { status: 'ready' });
      else
        sendProblem(res, 503, {
          type: PROBLEM_TYPES.notReady,
          title: 'Not ready',
          status: 503,
          detail: 'spend has not been read from Prometheus yet',
        });
    } else if (path === '/metrics') {
      sidecar.metrics.registry.metrics().then(
        (body) => {
          res.writeHead(200, { 'content-type': sidecar.metrics.registry.contentType });
          res.end(body);
        },
        (err: unknown) => failed(sidecar, res, undefined, err),
      );
    } else {
      throw new RequestProblem(404, 'Not found', `no endpoint ${path}`, PROBLEM_TYPES.notFound);
    }
  } catch (err) {
    failed(sidecar, res, endpoint, err);
  }
  if (endpoint) observe(sidecar, endpoint, started);
}

function observe(sidecar: Sidecar, endpoint: Endpoint, started: number): void {
  sidecar.metrics.decisionDuration.observeAt(
    ENDPOINT_INDEX[endpoint],
    (performance.now() - started) / 1000,
  );
}

/** Answers an invalid request with its 4xx; anything else is a bug: a 500, and the process lives on. */
function failed(
  sidecar: Sidecar,
  res: ServerResponse,
  endpoint: Endpoint | undefined,
  err: unknown,
): void {
  const problem =
    err instanceof RequestProblem
      ? err
      : err instanceof UnknownPlanError
        ? new RequestProblem(400, 'Invalid request', err.message)
        : undefined;
  if (!problem) {
    sidecar.log(
      `internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`,
    );
    if (!res.headersSent)
      sendProblem(res, 500, { type: 'about:blank', title: 'Internal error', status: 500 });
    else res.destroy();
  } else if (endpoint === 'nginx') {
    // nginx's auth_request passes on only 401 and 403: the real status rides in headers.
    res.writeHead(403, {
      [BUDGET_HEADERS.nginxStatus]: String(problem.status),
      [BUDGET_HEADERS.nginxProblem]: headerSafeJson(requestProblemBody(problem)),
      'content-length': 0,
    });
    res.end();
  } else {
    sendProblem(res, problem.status, requestProblemBody(problem), problem.headers);
  }
}

function allow(req: IncomingMessage, methods: string[]): void {
  if (methods.includes(req.method ?? '')) return;
  throw new RequestProblem(
    405,
    'Method not allowed',
    `use ${methods.join(' or ')}`,
    PROBLEM_TYPES.invalidRequest,
    { allow: methods.join(', ') },
  );
}

/** Header names by config: the merge once per config, not per request. */
const headerNames = new WeakMap<Sidecar['config'], Record<keyof typeof DEFAULT_HEADERS, string>>();

function fromHeaders(sidecar: Sidecar, req: IncomingMessage): DecisionRequest {
  let names = headerNames.get(sidecar.config);
  if (!names) {
    names = { ...DEFAULT_HEADERS, ...sidecar.config.headers };
    headerNames.set(sidecar.config, names);
  }
  return {
    user: subject('user', headerParam(req, names.user)),
    feature: subject('feature', headerParam(req, names.feature)),
    plan: subject('plan', headerParam(req, names.plan)),
  };
}

function answer(
  sidecar: Sidecar,
  res: ServerResponse,
  endpoint: Endpoint,
  request: DecisionRequest,
): void {
  const now = Date.now();
  const decision = sidecar.decide(request, now);
  count(sidecar, decision);
  if (decision.allowed) {
    sendJsonText(res, 200, allowedJson(decision), remainingHeaders(decision.tightest));
    return;
  }
  deny(sidecar, res, endpoint, decision, now);
}

function deny(
  sidecar: Sidecar,
  res: ServerResponse,
  endpoint: Endpoint,
  decision: Decision,
  now: number,
): void {
  const problem = decision.problem;
  if (!problem) throw new Error('a denial without problem details');
  // Stale data is an outage, not a spent budget: worth a retry after the next refresh, not the reset.
  const retry =
    problem.code === 'budget_data_stale'
      ? retryAfter(now + sidecar.config.prometheus.refresh, now)
      : retryAfter(Date.parse(problem.resets_at), now);
  if (endpoint === 'nginx') {
    res.writeHead(403, {
      [BUDGET_HEADERS.nginxStatus]: '402',
      [BUDGET_HEADERS.nginxProblem]: headerSafeJson(problem),
      'retry-after': retry,
      'x-should-retry': 'false',
      'content-length': 0,
    });
    res.end();
    return;
  }
  sendProblem(res, 402, problem, { 'retry-after': retry, 'x-should-retry': 'false' });
}

/** A JSON number as JSON.stringify writes it. */
function num(n: number): string {
  return Number.isFinite(n) ? String(n) : 'null';
}

/**
 * The allowed answer's JSON, written as text: building the objects and JSON.stringify cost
 * several µs of each decision (BENCHMARKS.md). `lead` is members put first (reserve's id).
 * Subjects and windows go through JSON.stringify; everything else is a number or a fixed word.
 */
function allowedJson(decision: Decision, lead = ''): string {
  let json = `{${lead}"allowed":true,"state":"${decision.state}","budgets":[`;
  const caps = decision.caps;
  for (let i = 0; i < caps.length; i++) {
    const c = caps[i] as CapStatus;
    json +=
      (i ? ',{"scope":"' : '{"scope":"') +
      c.scope +
      '","subject":' +
      JSON.stringify(c.subject) +
      ',"window":' +
      JSON.stringify(c.window) +
      ',"limit_usd":' +
      num(c.limit_usd) +
      ',"spent_usd":' +
      num(c.spent_usd) +
      ',"remaining_usd":' +
      num(c.remaining_usd) +
      ',"resets_at":"' +
      rfc3339(c.resetsAt) +
      '","state":"' +
      c.state +
      '"}';
  }
  json += ']';
  if (decision.failedOpen.length) json += `,"failed_open":${JSON.stringify(decision.failedOpen)}`;
  return json + '}';
}

function count(sidecar: Sidecar, decision: Decision): void {
  const scope = decision.problem?.scope ?? decision.tightest?.scope ?? 'none';
  sidecar.metrics.countDecision(scope, decision.allowed);
}

/** Without the token a neighbour could reserve (and so block) any user's budget. */
function authorize(sidecar: Sidecar, req: IncomingMessage): void {
  const token = sidecar.secrets.reservationToken;
  if (!token) return;
  const given = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '')?.[1]?.trim() ?? '';
  const digest = (s: string) => createHash('sha256').update(s).digest();
  if (!given || !timingSafeEqual(digest(given), digest(token))) {
    req.resume();
    throw new RequestProblem(
      401,
      'Unauthorized',
      'a valid bearer token is required',
      PROBLEM_TYPES.unauthorized,
      { 'www-authenticate': 'Bearer' },
    );
  }
}

async function reserve(sidecar: Sidecar, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const body = await jsonBody(req);
  const request: DecisionRequest = {
    user: subject('user', body.user),
    feature: subject('feature', body.feature),
    plan: subject('plan', body.plan),
  };
  const estimate = usd('estimate_usd', body.estimate_usd, true) ?? 0;
  const ttlSeconds = body.ttl_seconds;
  if (
    ttlSeconds !== undefined &&
    (typeof ttlSeconds !== 'number' || !(ttlSeconds > 0) || ttlSeconds > 86_400)
  ) {
    throw new RequestProblem(
      400,
      'Invalid request',
      'ttl_seconds must be a number of seconds above 0, at most 86400',
    );
  }
  const now = Date.now();
  const decision = sidecar.decide(request, now);
  count(sidecar, decision);
  if (!decision.allowed) return deny(sidecar, res, 'reserve', decision, now);
  const ttl = typeof ttlSeconds === 'number' ? ttlSeconds * 1000 : sidecar.config.reservations.ttl;
  const { id, expiresAt } = sidecar.ledger.reserve(decision.keys, estimate, ttl, now);
  // The budgets as they stand with this reservation held (what the caller has left).
  const held = sidecar.decide(request, now);
  sendJsonText(
    res,
    200,
    allowedJson(held, `"id":${JSON.stringify(id)},"expires_at":"${rfc3339(expiresAt)}",`),
    remainingHeaders(held.tightest),
  );
}

async function settle(sidecar: Sidecar, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const body = await jsonBody(req);
  if (typeof body.id !== 'string' || body.id.length < 1 || body.id.length > 100) {
    throw new RequestProblem(
      400,
      'Invalid request',
      'id must be the reservation id returned by /v1/reserve',
    );
  }
  const cost = usd('cost_usd', body.cost_usd, true) ?? 0;
  const user = subject('user', body.user);
  const feature = subject('feature', body.feature);
  const fallback = ['g'];
  if (feature) fallback.push(sidecar.decider.keyOf('feature', feature));
  if (user) fallback.push(sidecar.decider.keyOf('user', user));
  const reservation = sidecar.ledger.settle(body.id, cost, fallback, Date.now());
  sendJson(res, 200, { settled: true, reservation });
}
