import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startAlertmanager as startAlertmanagerProcess } from '../../demo/stack/alertmanager';

/** A real Alertmanager started for one test, on a free port with its own storage folder. */
export interface AlertmanagerServer {
  readonly url: string;
  /** POST /api/v2/alerts. */
  postAlerts(alerts: PostableAlert[]): Promise<void>;
  /** GET /api/v2/alerts (all alerts it holds, with their inhibition status). */
  alerts(): Promise<GettableAlert[]>;
  /** Stops the server (SIGTERM, then SIGKILL after 10 s) and removes its folders. */
  stop(): Promise<void>;
  log(): string;
}

export interface PostableAlert {
  labels: Record<string, string>;
  annotations?: Record<string, string>;
  startsAt?: string;
  endsAt?: string;
  generatorURL?: string;
}

export interface GettableAlert extends PostableAlert {
  fingerprint: string;
  status: { state: string; inhibitedBy: string[]; silencedBy: string[] };
  receivers: { name: string }[];
}

/**
 * Starts `prometheus-alertmanager` with `config` (YAML text, written to a temporary folder) and
 * waits until it answers /-/ready. Clustering is disabled (`--cluster.listen-address=`).
 */
export async function startAlertmanager(config: string): Promise<AlertmanagerServer> {
  const dir = mkdtempSync(join(tmpdir(), 'llmf-am-'));
  const server = await startAlertmanagerProcess({ config, dir }).catch((e: unknown) => {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  });
  const { url } = server;
  return {
    url,
    log: server.log,
    async postAlerts(alerts) {
      const res = await fetch(`${url}/api/v2/alerts`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(alerts),
      });
      if (!res.ok) throw new Error(`POST /api/v2/alerts: ${res.status} ${await res.text()}`);
    },
    async alerts() {
      const res = await fetch(`${url}/api/v2/alerts`);
      if (!res.ok) throw new Error(`GET /api/v2/alerts: ${res.status} ${await res.text()}`);
      return (await res.json()) as GettableAlert[];
    },
    async stop() {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
