import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../demo/free-port';
import { stopProcess, waitReady } from '../../demo/service-process';

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
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'llmf-am-'));
  const configFile = join(dir, 'alertmanager.yml');
  const storage = join(dir, 'data');
  writeFileSync(configFile, config);
  const url = `http://127.0.0.1:${port}`;
  const proc = spawn(
    'prometheus-alertmanager',
    [
      `--config.file=${configFile}`,
      `--storage.path=${storage}`,
      `--web.listen-address=127.0.0.1:${port}`,
      `--web.external-url=${url}`,
      '--cluster.listen-address=',
      '--log.level=debug',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let log = '';
  proc.stderr?.on('data', (d: Buffer) => {
    log += d.toString();
    if (log.length > 200_000) log = log.slice(-100_000);
  });
  let stopped = false;
  const stop = async () => {
    if (!stopped) {
      stopped = true;
      await stopProcess(proc);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitReady('alertmanager', url, proc, () => log);
  } catch (e) {
    await stop();
    throw e;
  }
  return {
    url,
    log: () => log,
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
    stop,
  };
}
