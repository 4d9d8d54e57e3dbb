/**
 * Writes the dashboards built in grafana/src/*.ts to grafana/dashboards/*.json, formatted by the
 * repository's prettier configuration so that `prettier --check .` accepts them as they are.
 *
 *   npm run dashboards              # rewrites grafana/dashboards/
 *   node dist/grafana/src/generate.js <dir>   # writes elsewhere (the regenerate check)
 *
 * test/grafana-dashboards.test.ts fails when regenerating changes the committed files.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import * as prettier from 'prettier';
import { anomaliesDashboard } from './anomalies';
import { overviewDashboard } from './overview';
import { usersDashboard } from './users';

/** File name (in grafana/dashboards/) and builder of each dashboard. */
export const DASHBOARDS: readonly { file: string; build: () => dashboard.Dashboard }[] = [
  { file: 'llm-finops-overview.json', build: overviewDashboard },
  { file: 'llm-finops-users.json', build: usersDashboard },
  { file: 'llm-finops-anomalies.json', build: anomaliesDashboard },
];

/** The committed folder, relative to the repository root. */
export const DASHBOARDS_DIR = join('grafana', 'dashboards');

/** Each dashboard's file name and its JSON text, exactly as committed. */
export async function renderDashboards(): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const d of DASHBOARDS) {
    const options = (await prettier.resolveConfig(join(DASHBOARDS_DIR, d.file))) ?? {};
    const text = await prettier.format(JSON.stringify(d.build()), { ...options, parser: 'json' });
    out.set(d.file, text);
  }
  return out;
}

/** Writes every dashboard into `dir`; returns the paths written. */
export async function writeDashboards(dir: string): Promise<string[]> {
  mkdirSync(dir, { recursive: true });
  const written: string[] = [];
  for (const [file, text] of await renderDashboards()) {
    const path = join(dir, file);
    writeFileSync(path, text);
    written.push(path);
  }
  return written;
}

// Run as a script (not when a test imports this module).
if (typeof module !== 'undefined' && require.main === module) {
  writeDashboards(resolve(process.argv[2] ?? DASHBOARDS_DIR)).then(
    (paths) => console.log(`wrote ${paths.join(', ')}`),
    (err: unknown) => {
      console.error(err);
      process.exitCode = 1;
    },
  );
}
