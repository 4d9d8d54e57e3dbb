/**
 * The demo's Alertmanager webhook receiver: collects what Alertmanager POSTs. In docker-compose.yml
 * it runs on its own (service `alert-receiver`) and prints one line per alert delivered:
 *
 *   node dist/demo/stack/alert-receiver.js [--host 127.0.0.1] [--port 9095]
 */
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';
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
  /** Webhook notifications POSTed to /alerts, in arrival order (none kept with `keep: false`). */
  readonly alerts: WebhookPayload[];
  /** JSON bodies POSTed to another path (e.g. Slack's API as Alertmanager calls it). */
  posts(path: string): unknown[];
  close: () => Promise<void>;
}

export interface AlertReceiverOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** Default: a free port. */
  port?: number;
  /** Keep the bodies for `alerts` and `posts` (default true; a long-running receiver must not). */
  keep?: boolean;
  /** Called with each webhook notification. */
  onAlerts?: (payload: WebhookPayload) => void;
}

export async function startAlertReceiver(
  options: AlertReceiverOptions = {},
): Promise<AlertReceiver> {
  const alerts: WebhookPayload[] = [];
  const others = new Map<string, unknown[]>();
  const keep = options.keep ?? true;
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? (await freePort());
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      // Any GET answers 200: the health check.
      if (req.method !== 'POST') {
        res.writeHead(200).end('ok');
        return;
      }
      let parsed: unknown;
      try {
        parsed = JSON.parse(body);
      } catch {
        // A bad body must not stop a receiver that runs for days.
        res.writeHead(400).end('body is not JSON');
        return;
      }
      const path = req.url ?? '';
      if (path === '/alerts') {
        options.onAlerts?.(parsed as WebhookPayload);
        if (keep) alerts.push(parsed as WebhookPayload);
      } else if (keep) others.set(path, [...(others.get(path) ?? []), parsed]);
      res.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  const { port: bound } = server.address() as { port: number };
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${bound}`,
    alerts,
    posts: (path) => others.get(path) ?? [],
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** One line per alert of a notification: receiver, status, name, labels, summary. */
export function alertLines(p: WebhookPayload): string[] {
  return p.alerts.map((a) => {
    const { alertname = '?', ...labels } = a.labels;
    const pairs = Object.entries(labels)
      .sort(([x], [y]) => x.localeCompare(y))
      .map(([k, v]) => `${k}=${v}`);
    const summary = a.annotations.summary ? ` - ${a.annotations.summary}` : '';
    return `${p.receiver}: ${a.status.toUpperCase()} ${alertname} ${pairs.join(' ')}${summary}`;
  });
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      host: { type: 'string', default: '127.0.0.1' },
      port: { type: 'string', default: '9095' },
    },
  });
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new Error('--port must be a port number');
  const receiver = await startAlertReceiver({
    host: values.host,
    port,
    keep: false,
    onAlerts: (p) => alertLines(p).forEach((line) => console.log(line)),
  });
  console.log(`alert-receiver listening on ${receiver.url}/alerts`);
  const stop = () => void receiver.close().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(`alert-receiver: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  });
}
