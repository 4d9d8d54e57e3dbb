import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ALERT_SIGNALS } from '../grafana/src/anomalies';
import { DATASOURCE_UID } from '../grafana/src/panels';
import {
  DASHBOARDS,
  DASHBOARDS_DIR,
  README,
  renderReadme,
  writeDashboards,
} from '../grafana/src/generate';
import { BUDGET_METRICS, METRICS } from '../src/contract/metrics';
import { ROOT } from './helpers/child';

/**
 * Static checks of the generated Grafana dashboards (grafana/dashboards/*.json) and provisioning:
 * - regenerating them from grafana/src/*.ts gives the committed files byte for byte (no stale or
 *   hand-edited JSON, no file without a builder);
 * - the planned uids and titles, and every panel the panel test looks up by title;
 * - the `datasource` variable exists, defaults to the provisioned uid, and every panel, target,
 *   query variable and annotation uses it;
 * - every panel has a description, a unit and thresholds; ids unique, no overlapping panels;
 * - rate/increase/irate/deriv windows are $__rate_interval (range queries), $__range (instant
 *   queries), `$__range @ end()` (a ranking over the whole range, the same at every step) or one
 *   of the fixed windows an alert's meaning needs; other range selectors (…_over_time) likewise,
 *   or $__interval;
 * - every metric in every expression exists: src/contract/metrics.ts, the budget sidecar's
 *   metrics (src/sidecar/metrics.ts), the recording rules or ALERTS;
 * - on the overview, every app metric with a feature label is filtered by `$feature`;
 * - every alert of prometheus/rules/alerts.yaml has its panel on the anomalies dashboard, linking
 *   the alert's runbook_url, and that panel shows what the alert evaluates (its signal is written
 *   in the alert's expression), so the panel cannot drift from the rule;
 * - the provisioning YAML parses, its datasource uid is the dashboards' default and its
 *   timeInterval is Prometheus' scrape interval.
 */

interface Target {
  expr: string;
  refId: string;
  instant?: boolean;
  range?: boolean;
  datasource?: { type?: string; uid?: string };
  legendFormat?: string;
}
interface Panel {
  id: number;
  type: string;
  title: string;
  description?: string;
  datasource?: { type?: string; uid?: string };
  gridPos: { x: number; y: number; w: number; h: number };
  targets?: Target[];
  panels?: Panel[];
  links?: { title: string; url: string }[];
  interval?: string;
  fieldConfig?: {
    defaults: { unit?: string; thresholds?: { steps: { value: number | null; color: string }[] } };
  };
}
interface Variable {
  type: string;
  name: string;
  query?: string;
  datasource?: { uid?: string };
  current?: { value: string | string[] };
  allValue?: string;
}
interface Dashboard {
  uid: string;
  title: string;
  panels: Panel[];
  templating: { list: Variable[] };
  annotations: { list?: { name: string; expr?: string; datasource?: { uid?: string } }[] };
}

const DIR = join(ROOT, DASHBOARDS_DIR);
const load = (file: string) => JSON.parse(readFileSync(join(DIR, file), 'utf8')) as Dashboard;
const dashboards = new Map(DASHBOARDS.map((d) => [d.file, load(d.file)]));
const byUid = (uid: string) => {
  const d = [...dashboards.values()].find((x) => x.uid === uid);
  if (!d) throw new Error(`no dashboard ${uid}`);
  return d;
};

/** Every panel, rows' nested panels included. */
const allPanels = (d: Dashboard): Panel[] => d.panels.flatMap((p) => [p, ...(p.panels ?? [])]);
const dataPanels = (d: Dashboard) => allPanels(d).filter((p) => p.type !== 'row');
/** Every expression of a dashboard with where it comes from. */
const exprsOf = (d: Dashboard): { where: string; target: Target }[] => [
  ...dataPanels(d).flatMap((p) =>
    (p.targets ?? []).map((t) => ({ where: `${d.uid} "${p.title}" ${t.refId}`, target: t })),
  ),
  ...(d.annotations.list ?? [])
    .filter((a) => a.expr)
    .map((a) => ({
      where: `${d.uid} annotation "${a.name}"`,
      // Grafana runs annotation queries as range queries over the dashboard range.
      target: { expr: a.expr!, refId: '' },
    })),
];

const PLAN: Record<string, { title: string; panels: string[] }> = {
  'llm-finops-overview': {
    title: 'LLM FinOps overview',
    panels: [
      'ROI',
      'Savings in period',
      'Spend rate by model',
      'Spend rate by feature',
      'Savings rate',
      'Spend by feature',
      'Spend by model',
      'Top users by spend',
      'Spend rate by user (top 10)',
      'Users over budget',
      'Budget caps',
      'Cache hit rate',
      'Cache savings',
      'Daily cost',
      'Tier mix',
      'Cost per successful outcome',
    ],
  },
  'llm-finops-users': {
    title: 'LLM users and budgets',
    panels: [
      'Top spenders',
      'Users near or over cap',
      'Users by budget state',
      'Budget decisions',
      'Spend of $user',
      'Spend of $user by feature',
      'Requests of $user',
    ],
  },
  'llm-finops-anomalies': { title: 'LLM anomalies', panels: ['Firing alerts'] },
};

/** Fixed windows allowed where the meaning needs them (the alerts' 15m, 1h, 1d, 1w; daily bars). */
const FIXED_WINDOWS = ['15m', '1h', '1d', '1w'];
/** The whole range evaluated at its end: the same figure at every step of a range query. */
const AT_END = '$__range @ end()';
/** A window with its `@ end()` if any, as written in AT_END. */
const windowOf = (m: RegExpMatchArray, i: number) => `${m[i]}${m[i + 1] ? ' @ end()' : ''}`;
const RATE_FNS =
  /\b(rate|irate|increase|deriv)\(\s*[a-zA-Z_:][\w:]*\s*(?:\{[^}]*\})?\s*\[([^\]]+)\](\s*@\s*end\(\))?/g;

// Known metric names.
const contractNames = Object.values(METRICS).flatMap((m) =>
  m.kind === 'histogram'
    ? [`${m.promName}_bucket`, `${m.promName}_sum`, `${m.promName}_count`]
    : [m.promName],
);
const sidecarNames: string[] = Object.values(BUDGET_METRICS);
interface RuleFile {
  groups: {
    rules: {
      record?: string;
      alert?: string;
      expr: string;
      annotations?: Record<string, string>;
    }[];
  }[];
}
const ruleFile = (f: string) =>
  parse(readFileSync(join(ROOT, 'prometheus', 'rules', f), 'utf8')) as RuleFile;
const recordingRules = ruleFile('recording.yaml').groups.flatMap((g) => g.rules);
const records = recordingRules.flatMap((r) => (r.record ? [r.record] : []));
const alerts = ruleFile('alerts.yaml')
  .groups.flatMap((g) => g.rules)
  .filter((r) => r.alert);
const KNOWN = new Set([...contractNames, ...sidecarNames, ...records, 'ALERTS']);

const KEYWORDS = new Set([
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'and',
  'or',
  'unless',
  'offset',
  'bool',
  'inf',
  'nan',
]);

/** Metric names in a PromQL expression (functions, labels, strings, durations removed). */
export function metricNames(expr: string): string[] {
  const s = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""') // strings
    .replace(/\{[^}]*\}/g, ' ') // label matchers
    .replace(/\[[^\]]*\]/g, ' ') // range windows
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ') // label lists
    .replace(/\boffset\s+\S+/g, ' ')
    .replace(/\$\w+/g, ' ');
  return [...s.matchAll(/(?<![\w:.])([a-zA-Z_:][\w:]*)(?![\w:]|\s*\()/g)]
    .map((m) => m[1]!)
    .filter((n) => !KEYWORDS.has(n.toLowerCase()));
}

describe('generated dashboards', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'llmf-dashboards-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('regenerating from grafana/src changes nothing (byte for byte), and no other file is there', async () => {
    await writeDashboards(tmp);
    const committed = readdirSync(DIR).sort();
    expect(committed).toEqual(DASHBOARDS.map((d) => d.file).sort());
    for (const file of committed)
      expect(
        readFileSync(join(tmp, file), 'utf8') === readFileSync(join(DIR, file), 'utf8'),
        `${file} differs from a fresh generation: run npm run dashboards and commit`,
      ).toBe(true);
  }, 30_000);

  it('the layout tables of grafana/README.md are those of the dashboards', async () => {
    const readme = readFileSync(join(ROOT, README), 'utf8');
    expect((await renderReadme(readme)) === readme, 'run npm run dashboards and commit').toBe(true);
  }, 30_000);

  it('has the planned uids, titles and panels (the panel test finds them by title)', () => {
    expect(new Set([...dashboards.values()].map((d) => d.uid))).toEqual(new Set(Object.keys(PLAN)));
    for (const [uid, plan] of Object.entries(PLAN)) {
      const d = byUid(uid);
      expect(d.title).toBe(plan.title);
      const titles = dataPanels(d).map((p) => p.title);
      for (const t of plan.panels) expect(titles, `${uid} lacks panel "${t}"`).toContain(t);
      expect(new Set(titles).size, `${uid}: panel titles are unique`).toBe(titles.length);
    }
  });

  it('every panel, target, query variable and annotation uses the datasource variable', () => {
    for (const d of dashboards.values()) {
      const ds = d.templating.list.find((v) => v.name === 'datasource');
      expect(ds, `${d.uid} datasource variable`).toMatchObject({
        type: 'datasource',
        query: 'prometheus',
        current: { value: DATASOURCE_UID },
      });
      for (const p of dataPanels(d)) {
        expect(p.datasource, `${d.uid} "${p.title}"`).toEqual({
          type: 'prometheus',
          uid: '${datasource}',
        });
        expect(p.targets?.length, `${d.uid} "${p.title}" has targets`).toBeGreaterThan(0);
        for (const t of p.targets ?? [])
          expect(t.datasource?.uid, `${d.uid} "${p.title}" ${t.refId}`).toBe('${datasource}');
      }
      for (const v of d.templating.list.filter((x) => x.type === 'query'))
        expect(v.datasource?.uid, `${d.uid} variable ${v.name}`).toBe('${datasource}');
      for (const a of d.annotations.list ?? [])
        expect(a.datasource?.uid, `${d.uid} annotation ${a.name}`).toBe('${datasource}');
    }
  });

  it('every panel has a description, a unit and thresholds; ids are unique; panels do not overlap', () => {
    for (const d of dashboards.values()) {
      const ids = allPanels(d).map((p) => p.id);
      expect(new Set(ids).size, `${d.uid} ids`).toBe(ids.length);
      for (const p of dataPanels(d)) {
        const at = `${d.uid} "${p.title}"`;
        expect(['stat', 'timeseries', 'bargauge', 'table'], at).toContain(p.type);
        expect(p.description?.length ?? 0, `${at} description`).toBeGreaterThan(20);
        expect(p.fieldConfig?.defaults.unit, `${at} unit`).toMatch(
          /^(currencyUSD|percentunit|short|reqps|s)$/,
        );
        expect(
          p.fieldConfig?.defaults.thresholds?.steps.length,
          `${at} thresholds`,
        ).toBeGreaterThan(0);
        for (const t of p.targets ?? [])
          expect(t.legendFormat, `${at} ${t.refId} legend`).toBeTruthy();
      }
      const cells = new Map<string, string>();
      for (const p of allPanels(d))
        for (let x = p.gridPos.x; x < p.gridPos.x + p.gridPos.w; x++)
          for (let y = p.gridPos.y; y < p.gridPos.y + p.gridPos.h; y++) {
            expect(x, `${d.uid} "${p.title}" inside 24 columns`).toBeLessThan(24);
            const other = cells.get(`${x},${y}`);
            expect(other, `${d.uid} "${p.title}" overlaps "${other}"`).toBeUndefined();
            cells.set(`${x},${y}`, p.title);
          }
    }
  });

  it('rate windows are $__rate_interval (range), $__range (instant), $__range @ end() or a fixed window of an alert', () => {
    let checked = 0;
    for (const d of dashboards.values())
      for (const { where, target } of exprsOf(d)) {
        const calls = target.expr.match(/\b(rate|irate|increase|deriv)\(/g)?.length ?? 0;
        const windows = [...target.expr.matchAll(RATE_FNS)].map((m) => windowOf(m, 2));
        expect(windows.length, `${where}: every rate-like call has a parsed window`).toBe(calls);
        for (const w of windows) {
          checked++;
          const allowed = target.instant
            ? ['$__range', AT_END, ...FIXED_WINDOWS]
            : ['$__rate_interval', AT_END, ...FIXED_WINDOWS];
          expect(allowed, `${where}: window [${w}] in ${target.expr}`).toContain(w);
        }
      }
    expect(checked).toBeGreaterThan(40);
  });

  it('every other range selector (…_over_time) uses a Grafana interval or a fixed window of an alert', () => {
    for (const d of dashboards.values())
      for (const { where, target } of exprsOf(d))
        for (const m of target.expr.matchAll(/\[([^\]]+)\](\s*@\s*end\(\))?/g)) {
          const w = windowOf(m, 1);
          const allowed = target.instant
            ? ['$__range', AT_END, ...FIXED_WINDOWS]
            : ['$__rate_interval', '$__interval', AT_END, ...FIXED_WINDOWS];
          expect(allowed, `${where}: window [${w}] in ${target.expr}`).toContain(w);
        }
  });

  it('every metric in every expression exists (contract, sidecar, recording rules, ALERTS)', () => {
    expect(
      metricNames('sum by (feature) (rate(a_b{x="y z"}[5m] offset 1w)) / on () b:c:d'),
    ).toEqual(['a_b', 'b:c:d']);
    const used = new Set<string>();
    for (const d of dashboards.values())
      for (const { where, target } of exprsOf(d)) {
        const names = metricNames(target.expr);
        expect(names.length, `${where}: no metric in ${target.expr}`).toBeGreaterThan(0);
        for (const n of names) {
          expect(KNOWN.has(n), `${where}: unknown metric ${n}`).toBe(true);
          used.add(n);
        }
      }
    // The dashboards read the recording rules the alerts compare against.
    expect([...used].filter((n) => records.includes(n)).length).toBeGreaterThan(3);
  });

  it('the overview filters every app metric with a feature label by $feature', () => {
    const d = byUid('llm-finops-overview');
    expect(d.templating.list.find((v) => v.name === 'feature')).toMatchObject({
      type: 'query',
      query: `label_values(${METRICS.cost.promName}, feature)`,
      allValue: '.*',
    });
    const withFeature = Object.values(METRICS)
      .filter((m) => (m.labels as readonly string[]).includes('feature'))
      .map((m) => m.promName);
    for (const { where, target } of exprsOf(d))
      for (const name of withFeature)
        for (const m of target.expr.matchAll(new RegExp(`\\b${name}\\b(\\{[^}]*\\})?`, 'g')))
          expect(m[1] ?? '', `${where}: ${name} without $feature`).toContain('feature=~"$feature"');
    expect((d.annotations.list ?? []).map((a) => a.expr)).toContain(
      'ALERTS{alertname=~"Llm.*", alertstate="firing"}',
    );
  });

  it('every alert of prometheus/rules/alerts.yaml has a panel on the anomalies dashboard linking its runbook', () => {
    const d = byUid('llm-finops-anomalies');
    expect(alerts.length).toBeGreaterThanOrEqual(13);
    for (const a of alerts) {
      const url = a.annotations?.runbook_url;
      expect(url, `${a.alert} runbook_url`).toBeTruthy();
      const panels = dataPanels(d).filter((p) => (p.links ?? []).some((l) => l.url === url));
      expect(panels.length, `${a.alert}: one panel links ${url}`).toBe(1);
      expect(panels[0]!.description).toContain(`Alert: ${a.alert}.`);
      expect(panels[0]!.type).toBe('timeseries');
    }
  });

  it('each alert panel shows what its alert evaluates (the signal is in the alert expression)', () => {
    const d = byUid('llm-finops-anomalies');
    const bare = (e: string) => e.replace(/\s+/g, '');
    expect(Object.keys(ALERT_SIGNALS).sort()).toEqual(alerts.map((a) => a.alert!).sort());
    for (const a of alerts) {
      const signal = ALERT_SIGNALS[a.alert!]!;
      // A recording rule stands for its expression.
      const rule = recordingRules.find((r) => r.record === signal);
      expect(
        bare(a.expr).includes(bare(rule ? rule.expr : signal)),
        `${a.alert}: ${signal} is not in its expression`,
      ).toBe(true);
      const p = dataPanels(d).find((x) =>
        (x.links ?? []).some((l) => l.url === a.annotations?.runbook_url),
      );
      expect(
        p?.targets?.some((t) => t.expr.includes(signal)),
        `${a.alert}: no target of "${p?.title}" shows ${signal}`,
      ).toBe(true);
    }
  });
});

describe('provisioning', () => {
  const prov = join(ROOT, 'grafana', 'provisioning');
  const yaml = <T>(...p: string[]) => parse(readFileSync(join(prov, ...p), 'utf8')) as T;

  it('the datasource has the dashboards’ default uid and Prometheus’ scrape interval', () => {
    const ds = yaml<{
      apiVersion: number;
      datasources: { uid: string; type: string; url: string; jsonData: { timeInterval: string } }[];
    }>('datasources', 'prometheus.yaml');
    expect(ds.apiVersion).toBe(1);
    expect(ds.datasources).toHaveLength(1);
    const prom = parse(readFileSync(join(ROOT, 'prometheus', 'prometheus.yml'), 'utf8')) as {
      global: { scrape_interval: string };
    };
    expect(ds.datasources[0]).toMatchObject({
      uid: DATASOURCE_UID,
      type: 'prometheus',
      url: 'http://prometheus:9090',
      jsonData: { timeInterval: prom.global.scrape_interval },
    });
  });

  it('the dashboard provider loads the folder the compose file mounts, read-only', () => {
    const dp = yaml<{
      apiVersion: number;
      providers: {
        type: string;
        folder: string;
        allowUiUpdates: boolean;
        options: { path: string };
      }[];
    }>('dashboards', 'llm-finops.yaml');
    expect(dp.apiVersion).toBe(1);
    expect(dp.providers).toEqual([
      expect.objectContaining({
        type: 'file',
        folder: 'LLM FinOps',
        allowUiUpdates: false,
        options: expect.objectContaining({
          path: '/var/lib/grafana/dashboards/llm-finops',
        }) as unknown,
      }),
    ]);
  });
});
