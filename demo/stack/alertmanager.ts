import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../../src/package-info';
import { freePort } from '../free-port';
import { startService, type ServiceProcess } from '../service-process';

/** The webhook URL of every receiver in the shipped prometheus/alertmanager.yml. */
export const SHIPPED_WEBHOOK_URL = 'http://127.0.0.1:9095/alerts';

/**
 * The shipped Alertmanager config with every receiver's webhook delivering to `url`, group
 * timings of 1 s (so a short run sees its notifications) and an absolute templates path.
 */
export function alertmanagerConfig(
  url: string,
  shipped = readFileSync(join(packageRoot(), 'prometheus', 'alertmanager.yml'), 'utf8'),
): string {
  if (!shipped.includes(`- url: ${SHIPPED_WEBHOOK_URL}`))
    throw new Error(`alertmanager.yml: no receiver with the url ${SHIPPED_WEBHOOK_URL}`);
  return shipped
    .replaceAll(`- url: ${SHIPPED_WEBHOOK_URL}`, `- url: ${url}`)
    .replace(/^(\s*)group_wait: \S+/gm, '$1group_wait: 1s')
    .replace(/^(\s*)group_interval: \S+/gm, '$1group_interval: 1s')
    .replace('- templates/*.tmpl', `- ${join(packageRoot(), 'prometheus', 'templates', '*.tmpl')}`);
}

/** An Alertmanager child process. */
export type AlertmanagerProcess = ServiceProcess;

/**
 * Starts Alertmanager with `config` (YAML text) written to `dir`, its storage in `dir`/data, on a
 * free port, and waits until it answers /-/ready. Clustering is off. `dir` stays the caller's.
 */
export async function startAlertmanager(options: {
  config: string;
  dir: string;
  bin?: string;
}): Promise<AlertmanagerProcess> {
  const port = await freePort();
  const configFile = join(options.dir, 'alertmanager.yml');
  writeFileSync(configFile, options.config);
  const url = `http://127.0.0.1:${port}`;
  // Its own process group: a Ctrl-C in the terminal reaches the demo, which stops it in order.
  return startService(
    'alertmanager',
    options.bin ?? 'prometheus-alertmanager',
    [
      `--config.file=${configFile}`,
      `--storage.path=${join(options.dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      `--web.external-url=${url}`,
      '--cluster.listen-address=',
      '--log.level=debug',
    ],
    url,
    { detached: true },
  );
}
