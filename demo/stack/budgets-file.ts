import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseDocument } from 'yaml';
import { packageRoot } from '../../src/package-info';

/** demo/budgets.yaml (shared with docker-compose.yml). */
export const DEMO_BUDGETS = join(packageRoot(), 'demo', 'budgets.yaml');

/** Writes a copy of demo/budgets.yaml into `dir` with `prometheus.url` set; returns its path. */
export function writeBudgets(dir: string, prometheusUrl: string): string {
  const doc = parseDocument(readFileSync(DEMO_BUDGETS, 'utf8'));
  doc.setIn(['prometheus', 'url'], prometheusUrl);
  const file = join(dir, 'budgets.yaml');
  writeFileSync(file, doc.toString());
  return file;
}
