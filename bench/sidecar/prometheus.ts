/**
 * A real Prometheus for the bench (the Debian `prometheus` and `promtool` binaries): history
 * backfilled with promtool, served on a free port from a temporary folder. A small copy of what
 * test/helpers/prometheus.ts does, since test/ is not part of the build.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '../../demo/free-port';

export interface BenchPrometheus {
  readonly url: string;
  readonly pid: number;
  stop(): Promise<void>;
}

/** Turns an OpenMetrics file into TSDB blocks in `dataDir`. */
export function backfill(input: string, dataDir: string): void {
  const run = spawnSync('promtool', ['tsdb', 'create-blocks-from', 'openmetrics', input, dataDir], {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  if (run.status !== 0) throw new Error(`promtool failed: ${run.stderr}${run.stdout}`);
}

/** Starts Prometheus on `dataDir` with nothing to scrape, and waits until it is ready. */
export async function startPrometheus(dataDir: string, confDir: string): Promise<BenchPrometheus> {
  const port = await freePort();
  const configFile = join(confDir, 'prometheus.yml');
  writeFileSync(configFile, 'global:\n  scrape_interval: 1m\nscrape_configs: []\n');
  const proc = spawn(
    'prometheus',
    [
      `--config.file=${configFile}`,
      `--storage.tsdb.path=${dataDir}`,
      '--storage.tsdb.retention.time=3650d',
      // 2 h blocks stay 2 h blocks: no compaction competes with the measurements.
      '--storage.tsdb.min-block-duration=2h',
      '--storage.tsdb.max-block-duration=2h',
      `--web.listen-address=127.0.0.1:${port}`,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let log = '';
  proc.stderr?.on('data', (d: Buffer) => {
    log = (log + d.toString()).slice(-20_000);
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`prometheus exited ${proc.exitCode}:\n${log}`);
    if (Date.now() > deadline) {
      await kill(proc);
      throw new Error(`prometheus not ready after 60 s:\n${log}`);
    }
    const ready = await fetch(`${url}/-/ready`).then(
      (res) => res.ok,
      () => false,
    );
    if (ready) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  return { url, pid: proc.pid ?? 0, stop: () => kill(proc) };
}

async function kill(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise((r) => proc.once('exit', r));
  proc.kill('SIGTERM');
  const timer = setTimeout(() => proc.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}
