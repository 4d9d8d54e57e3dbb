import { denialLine, parseProblem } from './denials';
import { FEATURES, population, RUNAWAY_USER, type Feature, type SimUser } from './population';
import { pickWeighted, seededRandom } from './random';
import { requestBody, runawayBody } from './requests';
import { ThrottledLog } from './throttled-log';

export interface TrafficOptions {
  /** The demo app's base URL. */
  target: string;
  /** How long to send requests; 0 = until `signal` aborts. */
  durationMs: number;
  /** Simulated users besides the runaway one. */
  users: number;
  /** Requests per second of the whole population, on average (Poisson arrivals). */
  rate: number;
  /** The runaway user's requests in flight at any time (0 = no runaway user). */
  runawayConcurrency?: number;
  /** Stops the traffic early. */
  signal?: AbortSignal;
  /** Where progress and 402 lines go. */
  out: (line: string) => void;
  progressEveryMs?: number;
}

export interface TrafficResult {
  requests: number;
  /** 2xx answers. */
  ok: number;
  /** 402 answers (budget denials), per user. */
  denied: Record<string, number>;
  /** Agent tasks that failed (422). */
  failedTasks: number;
  /** Other answers and network errors. */
  errors: number;
  byFeature: Record<Feature, number>;
}

/** More requests than this in flight: arrivals wait (the app is slower than the traffic). */
const MAX_IN_FLIGHT = 32;

/**
 * Simulated users calling the demo app: Poisson arrivals at `rate`, each from a user picked by
 * the heavy-tailed population weights, for a feature of that user's mix; and one runaway user
 * looping long agent tasks, ignoring Retry-After, until the budget sidecar stops them with 402s.
 */
export async function runTraffic(options: TrafficOptions): Promise<TrafficResult> {
  const users = population(options.users);
  const random = seededRandom(42);
  const denials = new ThrottledLog(options.out, '402s');
  const errors = new ThrottledLog(options.out, 'errors');
  const result: TrafficResult = {
    requests: 0,
    ok: 0,
    denied: {},
    failedTasks: 0,
    errors: 0,
    byFeature: { chat: 0, summarise: 0, agent: 0 },
  };
  const started = Date.now();
  const running = () =>
    !options.signal?.aborted &&
    (options.durationMs === 0 || Date.now() - started < options.durationMs);

  const send = async (user: SimUser | typeof RUNAWAY_USER, feature: Feature) => {
    const id = typeof user === 'string' ? user : user.id;
    result.requests++;
    result.byFeature[feature]++;
    try {
      const res = await fetch(`${options.target}/${feature}`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-llm-user': id,
          'x-llm-feature': feature,
          'x-llm-session': `${id}-${Math.floor((Date.now() - started) / 60_000)}`,
          ...(typeof user === 'string' ? {} : { 'x-llm-plan': user.plan }),
        },
        body: JSON.stringify(
          typeof user === 'string' ? runawayBody() : requestBody(feature, random),
        ),
      });
      const text = await res.text();
      if (res.ok) result.ok++;
      else if (res.status === 402) {
        result.denied[id] = (result.denied[id] ?? 0) + 1;
        denials.line(denialLine(id, feature, parseProblem(text), res.headers.get('retry-after')));
      } else if (res.status === 422) result.failedTasks++;
      else {
        result.errors++;
        errors.line(`  error ${res.status} ${id} ${feature}: ${text.slice(0, 200)}`);
      }
    } catch (err) {
      result.errors++;
      errors.line(`  error ${id} ${feature}: ${err instanceof Error ? err.message : String(err)}`);
    }
  };

  const inFlight = new Set<Promise<void>>();
  const track = (p: Promise<void>) => {
    inFlight.add(p);
    void p.finally(() => inFlight.delete(p));
  };

  const runaway = async () => {
    while (running()) {
      await send(RUNAWAY_USER, 'agent');
      // A tight retry loop, but not a busy one.
      await sleep(250, options.signal);
    }
  };
  const runaways = Array.from({ length: options.runawayConcurrency ?? 2 }, () => runaway());

  const progress = setInterval(() => {
    const denied = Object.values(result.denied).reduce((a, n) => a + n, 0);
    const seconds = Math.round((Date.now() - started) / 1000);
    options.out(
      `  [${String(seconds).padStart(4)}s] ${result.requests} requests (` +
        FEATURES.map((f) => `${f} ${result.byFeature[f]}`).join(', ') +
        `), 402s ${denied}, errors ${result.errors}`,
    );
  }, options.progressEveryMs ?? 5_000);

  const weights = users.map((u) => u.weight);
  try {
    while (running()) {
      await sleep((-Math.log(1 - random()) / options.rate) * 1000, options.signal);
      if (!running()) break;
      if (inFlight.size >= MAX_IN_FLIGHT) continue;
      const user = users[pickWeighted(weights, random)]!;
      const mix = FEATURES.map((f) => user.mix[f]);
      const feature = FEATURES[pickWeighted(mix, random)]!;
      track(send(user, feature));
    }
    await Promise.all([...runaways, ...inFlight]);
  } finally {
    clearInterval(progress);
  }
  return result;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
