import type { PrometheusApi } from '../prometheus/api';
import type { Period } from './period';
import type { Anomaly } from './types';

/**
 * Two firing samples further apart than this start a new episode. Prometheus writes ALERTS at
 * every rule evaluation (30 s in prometheus/prometheus.yml), so only a real gap splits.
 */
export const EPISODE_GAP_MS = 5 * 60_000;
/** Raw samples are read a day at a time, so that one answer stays small. */
const CHUNK_MS = 86_400_000;

interface Episode {
  readonly labels: Readonly<Record<string, string>>;
  readonly first: number;
  last: number;
}

/**
 * The alerts of prometheus/rules/ (all named Llm*) that fired in the period, one entry per
 * episode (a run of firing evaluations), oldest first. Read as raw samples (a range selector),
 * not at query steps, so the times are those Prometheus recorded.
 */
export async function readAnomalies(api: PrometheusApi, period: Period): Promise<Anomaly[]> {
  const open = new Map<string, Episode>();
  const episodes: Episode[] = [];
  for (let from = period.start; from < period.end; from += CHUNK_MS) {
    const to = Math.min(period.end, from + CHUNK_MS);
    // [to - range, to] is closed: end 1 ms early so a sample at `to` goes to the next chunk.
    const expr = `ALERTS{alertstate="firing", alertname=~"Llm.*"}[${to - from - 1}ms]`;
    for (const s of await api.instantSeries(expr, to - 1)) {
      const key = JSON.stringify(Object.entries(s.labels).sort());
      for (const [t] of s.points) {
        const episode = open.get(key);
        if (episode && t - episode.last <= EPISODE_GAP_MS) {
          episode.last = t;
        } else {
          const next = { labels: s.labels, first: t, last: t };
          episodes.push(next);
          open.set(key, next);
        }
      }
    }
  }
  return episodes
    .sort(
      (a, b) =>
        a.first - b.first || (a.labels.alertname ?? '').localeCompare(b.labels.alertname ?? ''),
    )
    .map(({ labels, first, last }) => {
      const rest: Record<string, string> = { ...labels };
      const alertname = rest.alertname ?? '';
      const severity = rest.severity ?? '';
      for (const name of ['__name__', 'alertname', 'alertstate', 'severity']) delete rest[name];
      return {
        alert: alertname,
        severity,
        labels: rest,
        first_firing: new Date(first).toISOString(),
        last_firing: new Date(last).toISOString(),
      };
    });
}
