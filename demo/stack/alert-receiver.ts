import { createServer } from 'node:http';
import { freePort } from '../free-port';

/** One notification in Alertmanager's webhook format (version 4). */
export interface WebhookPayload {
  version: string;
  groupKey: string;
  status: string;
  receiver: string;
  groupLabels: Record<string, string>;
  commonLabels: Record<string, string>;
  commonAnnotations: Record<string, string>;
  externalURL: string;
  alerts: {
    status: string;
    labels: Record<string, string>;
    annotations: Record<string, string>;
    startsAt: string;
    fingerprint: string;
  }[];
}

/** A local HTTP server collecting the JSON bodies POSTed to it, as Alertmanager's receivers. */
export interface AlertReceiver {
  /** Base URL, e.g. http://127.0.0.1:PORT; webhooks go to `${url}/alerts`. */
  readonly url: string;
  /** Webhook notifications POSTed to /alerts, in arrival order. */
  readonly alerts: WebhookPayload[];
  /** JSON bodies POSTed to another path (e.g. Slack's API as Alertmanager calls it). */
  posts(path: string): unknown[];
  close: () => Promise<void>;
}

export async function startAlertReceiver(): Promise<AlertReceiver> {
  const alerts: WebhookPayload[] = [];
  const others = new Map<string, unknown[]>();
  const port = await freePort();
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      if (req.method === 'POST') {
        const parsed = JSON.parse(body) as unknown;
        if (req.url === '/alerts') alerts.push(parsed as WebhookPayload);
        else others.set(req.url ?? '', [...(others.get(req.url ?? '') ?? []), parsed]);
      }
      res.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${port}`,
    alerts,
    posts: (path) => others.get(path) ?? [],
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
