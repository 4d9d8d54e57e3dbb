/** Connection settings of a PromQL-compatible HTTP API (Prometheus, Thanos, Mimir, VictoriaMetrics). */
export interface PrometheusConnection {
  readonly url: string;
  readonly timeoutMs: number;
  /** Extra request headers, including Authorization when basic or bearer auth is configured. */
  readonly headers: Readonly<Record<string, string>>;
}

/** A query that failed: HTTP error, timeout, error answer or a body that is not a PromQL result. */
export class PrometheusQueryError extends Error {
  constructor(
    readonly kind:
      | 'http'
      | 'timeout'
      | 'unreachable'
      | 'query'
      | 'bad_response'
      /** Refused for loading more samples than Prometheus's `--query.max-samples`. */
      | 'too_many_samples',
    message: string,
  ) {
    super(message);
    this.name = 'PrometheusQueryError';
  }
}

/** Values by the subject label, from a `sum by (label)` instant query. */
export type SubjectValues = Map<string, number>;

/** A point of a range query: the step time (ms) and the value per subject. */
export interface RangePoint {
  readonly t: number;
  readonly subject: string;
  readonly value: number;
}

/** One series of a query answer with all its labels: a sample for instant queries, points for ranges. */
export interface LabelledSeries {
  readonly labels: Readonly<Record<string, string>>;
  /** [time in ms, value] pairs, oldest first. */
  readonly points: readonly (readonly [number, number])[];
}

/** Minimal client of the Prometheus HTTP API's query endpoints. */
export class PrometheusApi {
  constructor(private readonly connection: PrometheusConnection) {}

  /** Instant query at `timeMs`; values keyed by `label` (series without it under ""). */
  async instant(expr: string, timeMs: number, label: string): Promise<SubjectValues> {
    const data = await this.get('query', { query: expr, time: seconds(timeMs) });
    if (data.resultType !== 'vector') throw badResponse(`resultType ${String(data.resultType)}`);
    const values: SubjectValues = new Map();
    for (const row of data.result) {
      const sample = row as { metric?: Record<string, string>; value?: [number, string] };
      if (!sample.value || !Array.isArray(sample.value))
        throw badResponse('vector sample without value');
      values.set(sample.metric?.[label] ?? '', number(sample.value[1]));
    }
    return values;
  }

  /** Range query from `startMs` to `endMs` (both included) every `stepMs`. */
  async range(
    expr: string,
    startMs: number,
    endMs: number,
    stepMs: number,
    label: string,
  ): Promise<RangePoint[]> {
    const data = await this.get('query_range', {
      query: expr,
      start: seconds(startMs),
      end: seconds(endMs),
      step: seconds(stepMs),
    });
    if (data.resultType !== 'matrix') throw badResponse(`resultType ${String(data.resultType)}`);
    const points: RangePoint[] = [];
    for (const row of data.result) {
      const series = row as { metric?: Record<string, string>; values?: [number, string][] };
      if (!Array.isArray(series.values)) throw badResponse('matrix series without values');
      const subject = series.metric?.[label] ?? '';
      for (const [t, v] of series.values) {
        points.push({ t: Math.round(Number(t) * 1000), subject, value: number(v) });
      }
    }
    return points;
  }

  /**
   * Instant query at `timeMs`, every series with its labels: one point per series for a vector,
   * the raw samples of the range for a range selector (a matrix).
   */
  async instantSeries(expr: string, timeMs: number): Promise<LabelledSeries[]> {
    const data = await this.get('query', { query: expr, time: seconds(timeMs) });
    if (data.resultType === 'matrix') return matrix(data.result);
    if (data.resultType !== 'vector') throw badResponse(`resultType ${String(data.resultType)}`);
    return data.result.map((row) => {
      const sample = row as { metric?: Record<string, string>; value?: [number, string] };
      if (!sample.value || !Array.isArray(sample.value))
        throw badResponse('vector sample without value');
      return {
        labels: sample.metric ?? {},
        points: [[Math.round(Number(sample.value[0]) * 1000), number(sample.value[1])]],
      };
    });
  }

  /** Range query from `startMs` to `endMs` (both included) every `stepMs`, series with labels. */
  async rangeSeries(
    expr: string,
    startMs: number,
    endMs: number,
    stepMs: number,
  ): Promise<LabelledSeries[]> {
    const data = await this.get('query_range', {
      query: expr,
      start: seconds(startMs),
      end: seconds(endMs),
      step: seconds(stepMs),
    });
    if (data.resultType !== 'matrix') throw badResponse(`resultType ${String(data.resultType)}`);
    return matrix(data.result);
  }

  private async get(
    endpoint: string,
    params: Record<string, string>,
  ): Promise<{ resultType: unknown; result: unknown[] }> {
    const url = `${this.connection.url.replace(/\/+$/, '')}/api/v1/${endpoint}`;
    let res: Response;
    try {
      res = await fetch(url, {
        method: 'POST',
        headers: {
          ...this.connection.headers,
          'content-type': 'application/x-www-form-urlencoded',
        },
        body: new URLSearchParams(params).toString(),
        signal: AbortSignal.timeout(this.connection.timeoutMs),
      });
    } catch (err) {
      const name = (err as Error).name;
      if (name === 'TimeoutError' || name === 'AbortError')
        throw new PrometheusQueryError(
          'timeout',
          `no answer within ${this.connection.timeoutMs} ms`,
        );
      // The base URL, not the endpoint: one outage is one message, whichever query failed first.
      throw new PrometheusQueryError('unreachable', `${this.connection.url}: ${causeOf(err)}`);
    }
    let text: string;
    try {
      text = await res.text();
    } catch (err) {
      throw new PrometheusQueryError('unreachable', `reading the answer: ${causeOf(err)}`);
    }
    let body: {
      status?: unknown;
      error?: unknown;
      data?: { resultType?: unknown; result?: unknown };
    };
    try {
      body = JSON.parse(text) as typeof body;
    } catch {
      throw new PrometheusQueryError(
        res.ok ? 'bad_response' : 'http',
        `HTTP ${res.status}: not JSON: ${text.slice(0, 120)}`,
      );
    }
    if (body.status !== 'success') {
      const error = typeof body.error === 'string' ? body.error : 'status is not success';
      throw new PrometheusQueryError(
        TOO_MANY_SAMPLES.test(error) ? 'too_many_samples' : res.ok ? 'query' : 'http',
        `HTTP ${res.status}: ${error}`,
      );
    }
    if (!body.data || !Array.isArray(body.data.result)) throw badResponse('no data.result array');
    return { resultType: body.data.resultType, result: body.data.result };
  }
}

/** Prometheus's answer (HTTP 422) to a query over its `--query.max-samples`. */
const TOO_MANY_SAMPLES = /too many samples/i;

function matrix(result: unknown[]): LabelledSeries[] {
  return result.map((row) => {
    const series = row as { metric?: Record<string, string>; values?: [number, string][] };
    if (!Array.isArray(series.values)) throw badResponse('matrix series without values');
    return {
      labels: series.metric ?? {},
      points: series.values.map(([t, v]) => [Math.round(Number(t) * 1000), number(v)] as const),
    };
  });
}

function seconds(ms: number): string {
  return (ms / 1000).toFixed(3);
}

function number(text: unknown): number {
  const n = typeof text === 'string' ? Number(text) : NaN;
  if (!Number.isFinite(n))
    throw badResponse(`sample value ${JSON.stringify(text)} is not a finite number`);
  return n;
}

function badResponse(what: string): PrometheusQueryError {
  return new PrometheusQueryError('bad_response', `not a PromQL result: ${what}`);
}

function causeOf(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (err as Error).message;
}
