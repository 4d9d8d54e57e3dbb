import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SHIPPED_WEBHOOK_URL } from '../../demo/stack/alertmanager';
import { ROOT } from './child';

/** Where the compose stack's Alertmanager delivers: the alert-receiver service. */
export const COMPOSE_WEBHOOK_URL = 'http://alert-receiver:9095/alerts';

/**
 * compose/alertmanager.yml: prometheus/alertmanager.yml (the one source of routes, inhibitions
 * and receivers) with its webhook URL, 127.0.0.1 on the host, pointed at the alert-receiver
 * service. test/compose.test.ts keeps the committed file equal to this (`-u` rewrites it).
 */
export function composeAlertmanagerConfig(
  shipped = readFileSync(join(ROOT, 'prometheus', 'alertmanager.yml'), 'utf8'),
): string {
  const header = [
    '# GENERATED from prometheus/alertmanager.yml, do not edit: edit that file, then run',
    '#   npx vitest run test/compose.test.ts -u',
    `# Only change: the receivers deliver to ${COMPOSE_WEBHOOK_URL} (the alert-receiver`,
    '# service of docker-compose.yml); inside the Alertmanager container nothing listens on',
    `# ${new URL(SHIPPED_WEBHOOK_URL).host}.`,
    '',
    '',
  ].join('\n');
  return header + shipped.replaceAll(SHIPPED_WEBHOOK_URL, COMPOSE_WEBHOOK_URL);
}
