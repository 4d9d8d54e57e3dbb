import type { WebhookPayload } from './alert-receiver';
import { promQuery } from './prometheus';

/** An alert identified by its name and labels (those that tell its instances apart). */
export interface AlertId {
  alertname: string;
  /** `scope="user" subject="runaway-bot" window="day"`, without the scrape and severity labels. */
  detail: string;
}

const IGNORED = new Set(['__name__', 'alertname', 'alertstate', 'instance', 'job', 'severity']);

function alertId(labels: Record<string, string>): AlertId {
  const detail = Object.entries(labels)
    .filter(([k]) => !IGNORED.has(k) && k !== 'environment')
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}="${v}"`)
    .join(' ');
  return { alertname: labels.alertname ?? '?', detail };
}

const key = (a: AlertId) => `${a.alertname} ${a.detail}`;

/** Alerts that were firing at some point of the `seconds` before `time`, per Prometheus. */
export async function firedAlerts(url: string, time: number, seconds: number): Promise<AlertId[]> {
  const series = await promQuery(
    url,
    `max_over_time(ALERTS{alertstate="firing"}[${Math.max(1, Math.ceil(seconds))}s])`,
    time,
  );
  return unique(series.map((s) => alertId(s.metric)));
}

/** Firing alerts delivered to the demo's webhook, with the receiver of their route. */
export function deliveredAlerts(
  payloads: readonly WebhookPayload[],
): (AlertId & { receiver: string })[] {
  const out = new Map<string, AlertId & { receiver: string }>();
  for (const p of payloads)
    for (const a of p.alerts)
      if (a.status === 'firing') {
        const id = alertId(a.labels);
        out.set(`${key(id)} ${p.receiver}`, { ...id, receiver: p.receiver });
      }
  return [...out.values()];
}

/** Whether every fired alert has been delivered (once Alertmanager's group wait has passed). */
export function allDelivered(fired: readonly AlertId[], delivered: readonly AlertId[]): boolean {
  const got = new Set(delivered.map(key));
  return fired.every((a) => got.has(key(a)));
}

function unique(ids: AlertId[]): AlertId[] {
  return [...new Map(ids.map((a) => [key(a), a])).values()].sort((a, b) =>
    key(a).localeCompare(key(b)),
  );
}

export function alertLines(
  fired: readonly AlertId[],
  delivered: readonly (AlertId & { receiver: string })[],
): string[] {
  return [
    '',
    `Alerts fired (Prometheus):${fired.length ? '' : ' none'}`,
    ...fired.map((a) => `  ${a.alertname} ${a.detail}`),
    `Alerts delivered (Alertmanager -> webhook):${delivered.length ? '' : ' none'}`,
    ...delivered.map((a) => `  ${a.alertname} ${a.detail} -> receiver ${a.receiver}`),
  ];
}
