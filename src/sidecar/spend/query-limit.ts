import type { PrometheusApi } from '../../prometheus/api';

/** The queries a spend read makes. */
export type SpendQueries = Pick<PrometheusApi, 'instant' | 'range'>;

/**
 * `api` with at most `limit` queries in flight; the others wait their turn, in order. With a
 * million users each query of a read can hold tens of millions of samples in Prometheus's memory
 * at once: the ten queries of a read, all at once, took a 2-core Prometheus past 22 GB.
 */
export function limitQueries(api: SpendQueries, limit: number): SpendQueries {
  let running = 0;
  const waiting: (() => void)[] = [];
  const run = async <T>(query: () => Promise<T>): Promise<T> => {
    if (running >= limit) await new Promise<void>((turn) => waiting.push(turn));
    else running++;
    try {
      return await query();
    } finally {
      // The slot passes straight to the next waiter, or frees up.
      const next = waiting.shift();
      if (next) next();
      else running--;
    }
  };
  return {
    instant: (...args) => run(() => api.instant(...args)),
    range: (...args) => run(() => api.range(...args)),
  };
}
