import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { BUDGET_METRICS, METRICS } from '../src/contract/metrics';
import {
  RULES_DIR,
  shippedRules,
  yamlFiles,
  type AlertRule,
  type RecordingRule,
  type Rule,
} from './helpers/alert-rules';
import { ROOT } from './helpers/child';

/**
 * The shipped Prometheus configuration, rules and their promtool unit tests (prometheus/), and a
 * lint of the conventions: kubernetes-mixin style names, every alert documented in the runbook and
 * proven by a firing and a not-firing promtool case, only metrics and labels of the contract.
 */

const PROM = join(ROOT, 'prometheus');
const TESTS_DIR = join(PROM, 'tests');

/** The first capture group of every match of `re` in `s`. */
const captures = (s: string, re: RegExp): string[] => [...s.matchAll(re)].map((m) => m[1] ?? '');

function promtool(args: string[]) {
  const r = spawnSync('promtool', args, { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

interface AlertTestCase {
  eval_time: string;
  alertname: string;
  exp_alerts?: unknown[] | null;
}
interface TestFile {
  rule_files: string[];
  tests: {
    name?: string;
    alert_rule_test?: AlertTestCase[];
    promql_expr_test?: { expr: string }[];
  }[];
}

const rules: Rule[] = shippedRules();
const alerts = rules.filter((r): r is AlertRule => 'alert' in r);
const recordings = rules.filter((r): r is RecordingRule => 'record' in r);
const testFiles = yamlFiles(TESTS_DIR).map((f) => parse(readFileSync(f, 'utf8')) as TestFile);
const alertCases = testFiles.flatMap((t) => t.tests.flatMap((c) => c.alert_rule_test ?? []));
const exprCases = testFiles.flatMap((t) => t.tests.flatMap((c) => c.promql_expr_test ?? []));

/**
 * The repository's web address, from package.json's `repository` (`git+https://…/x.git`): the
 * runbook links must point into the repository the package says it comes from.
 */
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  repository?: { url?: string };
  homepage?: string;
  bugs?: { url?: string };
};
const REPO_URL = (pkg.repository?.url ?? '').replace(/^git\+/, '').replace(/\.git$/, '');
const RUNBOOK_PREFIX = `${REPO_URL}/blob/main/prometheus/runbook.md#`;

/** GitHub's anchors of the `## ` headings of the runbook. */
const runbookAnchors = new Set(
  readFileSync(join(PROM, 'runbook.md'), 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('## '))
    .map((l) =>
      l
        .slice(3)
        .trim()
        .toLowerCase()
        .replace(/[^a-z0-9 _-]/g, '')
        .replace(/ /g, '-'),
    ),
);

/**
 * Metric names the rules may read: the contract's (the app's and the budget sidecar's
 * BUDGET_METRICS), the sidecar's other metrics, recording rules, `up`.
 */
function knownMetrics(): Set<string> {
  const names = new Set<string>(['up', ...Object.values(BUDGET_METRICS)]);
  for (const m of Object.values(METRICS)) {
    names.add(m.promName);
    if (m.kind === 'histogram')
      for (const s of ['_bucket', '_sum', '_count']) names.add(m.promName + s);
  }
  const sidecar = readFileSync(join(ROOT, 'src', 'sidecar', 'metrics.ts'), 'utf8');
  for (const name of captures(sidecar, /name: '(llm_[a-z_]+)'/g)) {
    names.add(name);
    for (const s of ['_bucket', '_sum', '_count']) names.add(name + s);
  }
  for (const r of recordings) names.add(r.record);
  return names;
}

/** Label names the rules may use: the contract's, the sidecar's, and the target labels. */
function knownLabels(): Set<string> {
  const labels = new Set<string>(['job', 'instance', 'le']);
  for (const m of Object.values(METRICS))
    for (const l of m.labels as readonly string[]) labels.add(l.replace(/\./g, '_'));
  const sidecar = readFileSync(join(ROOT, 'src', 'sidecar', 'metrics.ts'), 'utf8');
  for (const list of captures(sidecar, /labelNames: \[([^\]]*)\]/g))
    for (const l of captures(list, /'([a-z_]+)'/g)) labels.add(l);
  return labels;
}

const KEYWORDS = new Set(['and', 'or', 'unless', 'bool', 'offset', 'by', 'without', 'on']);
const KEYWORDS_WITH_LIST = /\b(by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)/g;

/** Metric names and label names used by a PromQL expression (a lexical scan, enough for ours). */
function promqlNames(expr: string): { metrics: string[]; labels: string[] } {
  const labels: string[] = [];
  let e = expr.replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'/g, '""');
  e = e.replace(KEYWORDS_WITH_LIST, (_, _kw: string, list: string) => {
    labels.push(
      ...list
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    );
    return ' ';
  });
  e = e.replace(/\{([^}]*)\}/g, (_, inner: string) => {
    labels.push(...captures(inner, /([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)/g));
    return ' ';
  });
  e = e.replace(/\[[^\]]*\]/g, ' ');
  const metrics: string[] = [];
  for (const m of e.matchAll(/(?<![\w.])([a-zA-Z_:][a-zA-Z0-9_:]*)(\s*\()?/g)) {
    const name = m[1] ?? '';
    if (m[2] || KEYWORDS.has(name) || /^(inf|nan)$/i.test(name)) continue;
    metrics.push(name);
  }
  return { metrics, labels };
}

describe('prometheus/: promtool', () => {
  it('promtool check rules accepts every rule file', () => {
    const files = yamlFiles(RULES_DIR);
    expect(files.length).toBeGreaterThanOrEqual(2);
    const r = promtool(['check', 'rules', ...files]);
    expect(r.out).not.toMatch(/FAILED/);
    expect(r.code, r.out).toBe(0);
    expect(r.out.match(/SUCCESS: \d+ rules found/g)).toHaveLength(files.length);
  });

  it('promtool check config accepts prometheus.yml with its rule files', () => {
    const r = promtool(['check', 'config', 'prometheus/prometheus.yml']);
    expect(r.code, r.out).toBe(0);
    expect(r.out).toContain('SUCCESS: 2 rule files found');
    expect(r.out).toMatch(/prometheus\.yml is valid prometheus config file syntax/);
  });

  it('prometheus.yml scrapes the app, the Collector and the sidecar and alerts to Alertmanager', () => {
    const conf = parse(readFileSync(join(PROM, 'prometheus.yml'), 'utf8')) as {
      rule_files: string[];
      alerting: { alertmanagers: { static_configs: { targets: string[] }[] }[] };
      scrape_configs: { job_name: string; static_configs: { targets: string[] }[] }[];
    };
    const targets = Object.fromEntries(
      conf.scrape_configs.map((s) => [s.job_name, s.static_configs.flatMap((c) => c.targets)]),
    );
    expect(targets).toEqual({
      'llm-app': ['127.0.0.1:9464'],
      'otel-collector': ['127.0.0.1:8889'],
      'llm-budget-sidecar': ['127.0.0.1:8787'],
    });
    expect(conf.rule_files).toEqual(['rules/*.yaml']);
    expect(
      conf.alerting.alertmanagers.flatMap((a) => a.static_configs.flatMap((c) => c.targets)),
    ).toEqual(['127.0.0.1:9093']);
  });

  it('promtool test rules passes every unit test file', () => {
    // Relative paths, as in `promtool test rules prometheus/tests/*.yaml` from the repo root.
    const files = yamlFiles(TESTS_DIR).map((f) => f.slice(ROOT.length + 1));
    expect(files.length).toBeGreaterThanOrEqual(2);
    const r = promtool(['test', 'rules', ...files]);
    expect(r.code, r.out).toBe(0);
    expect(r.out).not.toMatch(/FAILED/);
    // One "Unit Testing: <file>" line followed by SUCCESS per file.
    const results = [...r.out.matchAll(/Unit Testing:\s+(\S+)\s+(SUCCESS|FAILED)/g)];
    expect(results.map((m) => [m[1], m[2]])).toEqual(files.map((f) => [f, 'SUCCESS']));
    // promtool evaluates every rule at every step of weeks-long cases: 20-30 s here.
  }, 120_000);
});

describe('prometheus/: conventions', () => {
  it('has the alerts of this stage', () => {
    expect(alerts.map((a) => a.alert).sort()).toEqual(
      [
        'LlmBudgetExceeded',
        'LlmBudgetProjectedOverrun',
        'LlmBudgetSidecarStale',
        'LlmBudgetWarning',
        'LlmCacheHitRateDrop',
        'LlmCostPerRequestAnomaly',
        'LlmCostPerRequestAnomalyRobust',
        'LlmRunawayUser',
        'LlmSavingsNegative',
        'LlmTelemetryAbsent',
        'LlmTierMixShift',
        'LlmUnpricedModelSeen',
        'LlmUserFarAbovePeers',
        'LlmVolumeSpike',
      ].sort(),
    );
  });

  it('names are unique', () => {
    const names = rules.map((r) => ('alert' in r ? r.alert : r.record));
    const alertNames = alerts.map((a) => a.alert);
    expect(new Set(alertNames).size).toBe(alertNames.length);
    expect(new Set(recordings.map((r) => r.record)).size).toBe(recordings.length);
    expect(names.length).toBe(alerts.length + recordings.length);
  });

  it('every recording rule is named level:metric:operations', () => {
    expect(recordings.length).toBeGreaterThan(0);
    for (const r of recordings) expect(r.record).toMatch(/^[a-z_]+:[a-z0-9_]+:[a-z0-9_]+$/);
  });

  it('package.json names the GitHub repository the runbook links point into', () => {
    expect(pkg.repository?.url).toMatch(/^git\+https:\/\/github\.com\/[\w.-]+\/[\w.-]+\.git$/);
    expect(pkg.homepage?.startsWith(`${REPO_URL}#`), pkg.homepage).toBe(true);
    expect(pkg.bugs?.url).toBe(`${REPO_URL}/issues`);
  });

  it.each(alerts.map((a) => [a.alert, a] as const))(
    '%s has severity, summary, description and a runbook_url to an existing section',
    (name, a) => {
      // The severities prometheus/alertmanager.yml routes (test/alertmanager.test.ts).
      expect(['critical', 'warning']).toContain(a.labels?.severity);
      expect(a.annotations?.summary?.trim()).toBeTruthy();
      expect(a.annotations?.description?.trim()).toBeTruthy();
      const url = a.annotations?.runbook_url ?? '';
      expect(url.startsWith(RUNBOOK_PREFIX), `${url} is under ${RUNBOOK_PREFIX}`).toBe(true);
      const anchor = url.slice(RUNBOOK_PREFIX.length);
      expect(anchor).toBe(name.toLowerCase());
      expect(runbookAnchors.has(anchor), `runbook.md has no section #${anchor}`).toBe(true);
    },
  );

  it.each(alerts.map((a) => [a.alert] as const))(
    '%s has a promtool case where it fires and one where it does not',
    (name) => {
      const cases = alertCases.filter((c) => c.alertname === name);
      expect(cases.some((c) => (c.exp_alerts ?? []).length > 0)).toBe(true);
      expect(cases.some((c) => (c.exp_alerts ?? []).length === 0)).toBe(true);
    },
  );

  it.each(recordings.map((r) => [r.record] as const))(
    '%s has a promtool case checking its values',
    (name) => {
      expect(exprCases.some((c) => promqlNames(c.expr).metrics.includes(name))).toBe(true);
    },
  );

  it('promtool tests name only existing alerts and load the shipped rule files', () => {
    const names = new Set(alerts.map((a) => a.alert));
    for (const c of alertCases) expect(names.has(c.alertname), c.alertname).toBe(true);
    for (const t of testFiles)
      for (const f of t.rule_files) expect(f).toMatch(/^\.\.\/rules\/[a-z-]+\.yaml$/);
  });

  it('every expression reads only known metrics and labels', () => {
    const metrics = knownMetrics();
    const labels = knownLabels();
    for (const r of rules) {
      const used = promqlNames(r.expr);
      const where = 'alert' in r ? r.alert : r.record;
      expect(used.metrics.length, where).toBeGreaterThan(0);
      for (const m of used.metrics) expect(metrics.has(m), `${where}: metric ${m}`).toBe(true);
      for (const l of used.labels) expect(labels.has(l), `${where}: label ${l}`).toBe(true);
    }
  });

  it('the expression scan finds metrics and labels (self-check)', () => {
    expect(
      promqlNames(
        'sum by (feature) (rate(llm_cost_usd_total{result="hit", tier=~"a|b"}[5m])) / on () group_left () (x:y:z > 0) and absent(up{job="llm-app"} == 1)',
      ),
    ).toEqual({
      metrics: ['llm_cost_usd_total', 'x:y:z', 'up'],
      labels: ['feature', 'result', 'tier', 'job'],
    });
  });
});
