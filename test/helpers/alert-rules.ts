import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { ROOT } from './child';

/** prometheus/rules/: the shipped recording and alerting rules. */
export const RULES_DIR = join(ROOT, 'prometheus', 'rules');

export interface RecordingRule {
  record: string;
  expr: string;
}
export interface AlertRule {
  alert: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
export type Rule = RecordingRule | AlertRule;

/** The `.yaml` files of `dir`, sorted, as absolute paths. */
export const yamlFiles = (dir: string): string[] =>
  readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .map((f) => join(dir, f));

/** Every rule of every group of prometheus/rules/*.yaml, in file order. */
export function shippedRules(): Rule[] {
  return yamlFiles(RULES_DIR).flatMap((f) =>
    (parse(readFileSync(f, 'utf8')) as { groups: { rules: Rule[] }[] }).groups.flatMap(
      (g) => g.rules,
    ),
  );
}

export const shippedAlerts = (): AlertRule[] =>
  shippedRules().filter((r): r is AlertRule => 'alert' in r);
