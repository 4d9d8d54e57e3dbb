/**
 * A real Prometheus for the bench (the Debian `prometheus` and `promtool` binaries): history
 * backfilled with promtool, served on a free port from a temporary folder. A small copy of what
 * test/helpers/prometheus.ts does, since test/ is not part of the build.
 */
import { spawn, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '../../demo/free-port';
import { stopProcess, waitReady } from '../../demo/service-process';

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
      // As the sidecars' own timeout (history.ts): a million users' queries take minutes here.
      '--query.timeout=15m',
      `--web.listen-address=127.0.0.1:${port}`,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let log = '';
  proc.stderr?.on('data', (d: Buffer) => {
    log = (log + d.toString()).slice(-20_000);
  });
  const url = `http://127.0.0.1:${port}`;
  await waitReady('prometheus', url, proc, () => log, 60_000);
  return { url, pid: proc.pid ?? 0, stop: () => stopProcess(proc) };
}
