import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { startAlertReceiver, type WebhookPayload } from '../demo/stack/alert-receiver';
import { alertmanagerConfig, SHIPPED_WEBHOOK_URL } from '../demo/stack/alertmanager';
import { writeRules } from '../demo/stack/rules';
import { windowSchema } from '../src/sidecar/config/schema';
import { shippedAlerts } from './helpers/alert-rules';
import {
  startAlertmanager,
  type AlertmanagerServer,
  type PostableAlert,
} from './helpers/alertmanager';
import { freePort, ROOT } from './helpers/child';
import { startPrometheus, type PrometheusServer } from './helpers/prometheus';
import {
  costExposition,
  startSidecar,
  startStaticMetrics,
  type SidecarChild,
  type StaticMetrics,
} from './helpers/sidecar';

/**
 * prometheus/alertmanager.yml and prometheus/templates/:
 * - amtool: check-config (also with the commented Slack, e-mail and PagerDuty receivers
 *   uncommented), the routing tree per severity, template rendering;
 * - a real Alertmanager (the shipped file, only the webhook URL, group timings and template path
 *   replaced, Slack uncommented towards the test) fed through its API: payloads, grouping by
 *   alertname and feature, both inhibition rules, Slack messages from the templates;
 * - fully end to end: a real Prometheus with the shipped rules (only `for:` shortened) scrapes
 *   the real budget sidecar, which reads the app's spend from that Prometheus, and fires to that
 *   Alertmanager; delivered and resolved (cap raised, config reloaded) notifications are asserted.
 */

const CONFIG = join(ROOT, 'prometheus', 'alertmanager.yml');
const TEMPLATES = join(ROOT, 'prometheus', 'templates', '*.tmpl');

function amtool(args: string[]) {
  const run = spawnSync('amtool', args, { cwd: ROOT, encoding: 'utf8' });
  return { status: run.status, stdout: run.stdout, out: `${run.stdout}${run.stderr}` };
}

describe('amtool', () => {
  it('check-config accepts the config and its templates', () => {
    const run = amtool(['check-config', CONFIG]);
    expect(run.out).toContain('SUCCESS');
    expect(run.out).toContain('1 templates');
    expect(run.out).toContain('3 inhibit rules');
    expect(run.status, run.out).toBe(0);
  });

  it('check-config accepts the commented Slack, e-mail and PagerDuty receivers once uncommented', () => {
    const dir = mkdtempSync(join(tmpdir(), 'llmf-am-check-'));
    try {
      const all = uncomment(readFileSync(CONFIG, 'utf8'), [
        'slack_configs',
        'email_configs',
        'pagerduty_configs',
      ]);
      for (const key of ['slack_configs:', 'email_configs:', 'pagerduty_configs:', 'smtp_from:'])
        expect(all).toMatch(new RegExp(`^\\s*${key}`, 'm'));
      expect(all).toMatch(/^\s*Subject: '\{\{ template "llmfinops.title" \. \}\}'$/m);
      const file = join(dir, 'alertmanager.yml');
      writeFileSync(file, all.replace('- templates/*.tmpl', `- ${TEMPLATES}`));
      const run = amtool(['check-config', file]);
      expect(run.status, run.out).toBe(0);
      expect(run.out).toContain('3 receivers');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it.each([
    ['pager', ['alertname=LlmBudgetExceeded', 'severity=critical', 'scope=user', 'subject=alice']],
    ['team', ['alertname=LlmBudgetWarning', 'severity=warning', 'feature=search']],
    ['webhook', ['alertname=SomethingElse']],
    ['webhook', ['alertname=SomethingElse', 'severity=debug']],
    // No route for info (see the next test): the fallback.
    ['webhook', ['alertname=SomethingElse', 'severity=info']],
  ])('routes to %s: %s', (receiver, labels) => {
    const run = amtool([
      'config',
      'routes',
      'test',
      `--config.file=${CONFIG}`,
      `--verify.receivers=${receiver}`,
      ...labels,
    ]);
    expect(run.status, run.out).toBe(0);
    // A wrong expectation must fail, or the test above proves nothing.
    const wrong = amtool([
      'config',
      'routes',
      'test',
      `--config.file=${CONFIG}`,
      `--verify.receivers=${receiver === 'team' ? 'pager' : 'team'}`,
      ...labels,
    ]);
    expect(wrong.status, wrong.out).not.toBe(0);
  });

  it('routes every shipped alert by its severity, and gives every route a shipped alert', () => {
    const config = parse(readFileSync(CONFIG, 'utf8')) as {
      route: { routes?: { receiver: string }[] };
    };
    const routes = (config.route.routes ?? []).map((r) => r.receiver);
    expect(new Set(routes).size, 'one receiver per route').toBe(routes.length);
    const reached = new Map(routes.map((r) => [r, [] as string[]]));
    for (const a of shippedAlerts()) {
      const labels = Object.entries({ ...a.labels, alertname: a.alert }).map(
        ([k, v]) => `${k}=${v}`,
      );
      const run = amtool(['config', 'routes', 'test', `--config.file=${CONFIG}`, ...labels]);
      const receiver = run.stdout.trim();
      // Not the fallback: an alert whose severity has no route.
      expect(routes, `${a.alert} (${labels.join(' ')}) goes to ${receiver}`).toContain(receiver);
      reached.get(receiver)?.push(a.alert);
    }
    for (const [receiver, names] of reached)
      expect(names, `the route to ${receiver} receives no shipped alert`).not.toEqual([]);
    // The comment above each route names only alerts that the route receives.
    const text = readFileSync(CONFIG, 'utf8');
    const commented = [...text.matchAll(/((?:^ *#.*\n)+) *- receiver: (\S+)/gm)];
    expect(commented.map((m) => m[2])).toEqual(routes);
    for (const [, comment = '', receiver = ''] of commented)
      for (const name of comment.match(/\bLlm[A-Za-z]+\b/g) ?? [])
        expect(
          reached.get(receiver),
          `the comment of the ${receiver} route names ${name}`,
        ).toContain(name);
  });

  it('renders the notification templates', () => {
    const run = amtool([
      'template',
      'render',
      `--template.glob=${TEMPLATES}`,
      '--template.text={{ template "llmfinops.title" . }}|{{ template "llmfinops.text" . }}|{{ template "llmfinops.email.html" . }}',
    ]);
    expect(run.status, run.out).toBe(0);
    expect(run.out).toContain('Dashboard: https://grafana.example.com/d/llm-finops-overview');
    expect(run.out).toContain('/#/silences/new');
  });
});

/**
 * Uncomments the shipped config's commented receiver blocks named in `blocks` (`slack_configs`,
 * `email_configs`, `pagerduty_configs`) and the commented `global` settings (smtp_*, slack_*).
 */
function uncomment(config: string, blocks: string[]): string {
  let active = false;
  return config
    .split('\n')
    .map((line) => {
      const m = /^(\s*)# (.*)$/.exec(line);
      if (!m) return ((active = false), line);
      const [, indent = '', content = ''] = m;
      const block = /^(\w+_configs):$/.exec(content)?.[1];
      if (block !== undefined) active = blocks.includes(block);
      else if (!/^\s*(- )?(\w+|Subject):|^\s*- /.test(content)) active = false;
      else if (/^(smtp|slack)_\w+:/.test(content) && blocks.length > 0) return indent + content;
      return active ? indent + content : line;
    })
    .join('\n');
}

/** The shipped config, delivering to `url`, with 1 s group timings and an absolute template path. */
function renderConfig(url: string, shipped = readFileSync(CONFIG, 'utf8')): string {
  // Every receiver's webhook (the header comment mentions the URL too).
  expect(shipped.split(`- url: ${SHIPPED_WEBHOOK_URL}`).length - 1).toBe(3);
  const rendered = alertmanagerConfig(url, shipped);
  expect(rendered.split(`- url: ${url}\n`).length - 1).toBe(3);
  expect(rendered).toContain(`- ${TEMPLATES}`);
  return rendered;
}

const budgetAnnotations = (subject: string, what: string) => ({
  summary: `User ${subject} ${what} their day budget`,
  description: `User ${subject} has spent $12.50 of their $10.00 day budget.`,
  runbook_url: 'https://example.com/prometheus/runbook.md#llmbudgetexceeded',
});

interface SlackPayload {
  channel: string;
  attachments: { title: string; title_link: string; text: string }[];
}

/** The alert receiver, with Alertmanager's webhook at `url` and Slack's API at `slackUrl`. */
async function startWebhook() {
  const receiver = await startAlertReceiver();
  return {
    url: `${receiver.url}/alerts`,
    slackUrl: `${receiver.url}/slack`,
    received: receiver.alerts,
    get slack() {
      return receiver.posts('/slack') as SlackPayload[];
    },
    close: receiver.close,
  };
}

const deliveredIn = (received: WebhookPayload[], alertname: string) =>
  received.flatMap((p) =>
    p.alerts.filter((a) => a.labels.alertname === alertname).map((a) => ({ p, a })),
  );

describe('end to end: Alertmanager delivers to a webhook, with inhibition', () => {
  let am: AlertmanagerServer;
  let hook: Awaited<ReturnType<typeof startWebhook>>;

  beforeAll(async () => {
    hook = await startWebhook();
    // The shipped config with its Slack receivers uncommented, Slack's API being the test's server.
    const withSlack = uncomment(readFileSync(CONFIG, 'utf8'), ['slack_configs']).replace(
      'slack_api_url_file: /etc/alertmanager/slack-webhook-url',
      `slack_api_url: ${hook.slackUrl}`,
    );
    expect(withSlack).toContain(`slack_api_url: ${hook.slackUrl}`);
    am = await startAlertmanager(renderConfig(hook.url, withSlack));
    const budget = { scope: 'user', window: 'day' };
    const alerts: PostableAlert[] = [
      {
        labels: {
          alertname: 'LlmBudgetExceeded',
          severity: 'critical',
          ...budget,
          subject: 'alice',
        },
        annotations: budgetAnnotations('alice', 'exceeded'),
      },
      {
        labels: { alertname: 'LlmBudgetWarning', severity: 'warning', ...budget, subject: 'alice' },
        annotations: budgetAnnotations('alice', 'is near'),
      },
      // Another subject, and the same subject in another window: not inhibited.
      {
        labels: { alertname: 'LlmBudgetWarning', severity: 'warning', ...budget, subject: 'bob' },
        annotations: budgetAnnotations('bob', 'is near'),
      },
      {
        labels: {
          alertname: 'LlmBudgetWarning',
          severity: 'warning',
          scope: 'user',
          window: 'month',
          subject: 'alice',
        },
        annotations: budgetAnnotations('alice', 'is near'),
      },
      // The same cap in another environment (another Prometheus server): not inhibited.
      {
        labels: {
          alertname: 'LlmBudgetWarning',
          severity: 'warning',
          ...budget,
          subject: 'alice',
          environment: 'staging',
        },
        annotations: budgetAnnotations('alice', 'is near'),
      },
      // Telemetry absent silences anomalies, whatever their feature, but not budget alerts.
      {
        labels: { alertname: 'LlmTelemetryAbsent', severity: 'critical' },
        annotations: { summary: 'No LLM telemetry', description: 'x', runbook_url: 'x' },
      },
      {
        labels: { alertname: 'LlmCostPerRequestAnomaly', severity: 'warning', feature: 'search' },
        annotations: { summary: 'anomaly', description: 'x', runbook_url: 'x' },
      },
      // Another Prometheus server (external label environment): not inhibited by this one.
      {
        labels: {
          alertname: 'LlmCostPerRequestAnomaly',
          severity: 'warning',
          feature: 'chat',
          environment: 'staging',
        },
        annotations: { summary: 'anomaly', description: 'x', runbook_url: 'x' },
      },
      // The robust sibling of an anomaly already firing for the feature: inhibited; alone: sent.
      ...['chat', 'refund'].map((feature) => ({
        labels: {
          alertname: 'LlmCostPerRequestAnomalyRobust',
          severity: 'warning',
          feature,
          environment: 'staging',
        },
        annotations: { summary: 'robust anomaly', description: 'x', runbook_url: 'x' },
      })),
      // Grouping by alertname and feature: two groups, one per feature.
      ...[
        ['search', 'gpt-4o'],
        ['search', 'gpt-4o-mini'],
        ['chat', 'gpt-4o'],
      ].map(([feature = '', model = '']) => ({
        labels: { alertname: 'LlmGroupingProbe', severity: 'warning', feature, model },
        annotations: { summary: `probe ${feature} ${model}`, description: 'x', runbook_url: 'x' },
      })),
      {
        labels: { alertname: 'LlmRunawayUser', severity: 'warning', user: 'carol' },
        annotations: { summary: 'runaway', description: 'x', runbook_url: 'x' },
      },
    ];
    // Budget windows as the sidecar names them (day, week, month or <N>h).
    for (const a of alerts)
      if (a.labels.window) expect(windowSchema.parse(a.labels.window)).toBe(a.labels.window);
    await am.postAlerts(alerts);
  });

  afterAll(async () => {
    await am?.stop();
    await hook?.close();
  });

  const delivered = (alertname: string) => deliveredIn(hook.received, alertname);

  it('delivers LlmBudgetExceeded to the pager receiver with the full payload', async () => {
    await eventually(() => expect(delivered('LlmBudgetExceeded')).toHaveLength(1));
    const first = delivered('LlmBudgetExceeded')[0];
    if (!first) throw new Error('not delivered');
    const { p, a } = first;
    expect(p.version).toBe('4');
    expect(p.status).toBe('firing');
    expect(p.receiver).toBe('pager');
    expect(p.groupKey).toContain('alertname="LlmBudgetExceeded"');
    expect(p.groupLabels).toEqual({ alertname: 'LlmBudgetExceeded' });
    expect(p.externalURL).toBe(am.url);
    expect(p.alerts).toHaveLength(1);
    expect(a.status).toBe('firing');
    expect(a.labels).toEqual({
      alertname: 'LlmBudgetExceeded',
      severity: 'critical',
      scope: 'user',
      subject: 'alice',
      window: 'day',
    });
    expect(a.annotations).toEqual(budgetAnnotations('alice', 'exceeded'));
    expect(p.commonAnnotations).toEqual(a.annotations);
  });

  it('delivers the warnings not covered by the exceeded budget, and not the inhibited one', async () => {
    await eventually(() =>
      expect(
        delivered('LlmBudgetWarning').map(
          ({ a }) =>
            `${a.labels.subject}/${a.labels.window}${a.labels.environment ? ` (${a.labels.environment})` : ''}`,
        ),
      ).toEqual(expect.arrayContaining(['bob/day', 'alice/month', 'alice/day (staging)'])),
    );
    // Two more group intervals: the inhibited alert would have been sent by now.
    await new Promise((r) => setTimeout(r, 2_500));
    const warnings = delivered('LlmBudgetWarning');
    expect(warnings.every(({ p }) => p.receiver === 'team' && p.status === 'firing')).toBe(true);
    expect(
      warnings
        .map(
          ({ a }) =>
            `${a.labels.subject}/${a.labels.window}${a.labels.environment ? ` (${a.labels.environment})` : ''}`,
        )
        .sort(),
    ).toEqual(['alice/day (staging)', 'alice/month', 'bob/day']);
    const state = await am.alerts();
    const aliceWarning = state.find(
      (a) =>
        a.labels.alertname === 'LlmBudgetWarning' &&
        a.labels.subject === 'alice' &&
        a.labels.window === 'day' &&
        !a.labels.environment,
    );
    expect(aliceWarning?.status.state).toBe('suppressed');
    expect(aliceWarning?.status.inhibitedBy).toHaveLength(1);
  });

  it('renders the Slack messages with the shipped templates', async () => {
    await eventually(() =>
      expect(hook.slack.map((m) => m.channel).sort()).toEqual(
        expect.arrayContaining(['#llm-finops', '#llm-finops-oncall']),
      ),
    );
    const exceeded = hook.slack
      .flatMap((m) => m.attachments.map((a) => ({ channel: m.channel, ...a })))
      .find((a) => a.title.includes('LlmBudgetExceeded'));
    expect(exceeded).toMatchObject({
      channel: '#llm-finops-oncall',
      title: '[FIRING:1] LlmBudgetExceeded subject=alice (window day)',
      title_link: 'https://grafana.example.com/d/llm-finops-overview/finops-overview',
    });
    const annotations = budgetAnnotations('alice', 'exceeded');
    const lines = exceeded?.text.split('\n') ?? [];
    expect(lines[0]).toBe(`*CRITICAL* ${annotations.summary}`);
    expect(lines).toContain(annotations.description);
    expect(lines).toContain('Labels: scope=user severity=critical subject=alice window=day');
    expect(lines).toContain(`Runbook: ${annotations.runbook_url}`);
    expect(lines).toContain(
      'Dashboard: https://grafana.example.com/d/llm-finops-overview/finops-overview',
    );
    expect(lines).toContain(`Silence: ${am.url}/#/silences/new`);
    expect(lines.some((l) => l.startsWith('Since: '))).toBe(true);
    const warning = hook.slack
      .flatMap((m) => m.attachments.map((a) => ({ channel: m.channel, ...a })))
      .find((a) => a.title.includes('LlmBudgetWarning'));
    expect(warning?.channel).toBe('#llm-finops');
    expect(warning?.title).toBe('[FIRING:3] LlmBudgetWarning');
    expect(warning?.text).toContain('subject=bob');
    expect(warning?.text).toContain('window=month');
  });

  it('groups by alertname and feature, with the feature in the Slack title and Grafana link', async () => {
    await eventually(() => expect(delivered('LlmGroupingProbe')).toHaveLength(3));
    const groups = new Map(
      hook.received
        .filter((p) => p.groupLabels.alertname === 'LlmGroupingProbe')
        .map((p) => [p.groupLabels.feature, p]),
    );
    expect([...groups.keys()].sort()).toEqual(['chat', 'search']);
    expect(groups.get('search')?.groupLabels).toEqual({
      alertname: 'LlmGroupingProbe',
      feature: 'search',
    });
    expect(
      groups
        .get('search')
        ?.alerts.map((a) => a.labels.model)
        .sort(),
    ).toEqual(['gpt-4o', 'gpt-4o-mini']);
    expect(groups.get('chat')?.alerts).toHaveLength(1);
    await eventually(() =>
      expect(
        hook.slack
          .flatMap((m) => m.attachments)
          .filter((a) => a.title.includes('LlmGroupingProbe'))
          .map((a) => `${a.title} ${a.title_link}`)
          .sort(),
      ).toEqual([
        '[FIRING:1] LlmGroupingProbe feature=chat https://grafana.example.com/d/llm-finops-overview/finops-overview?var-feature=chat',
        '[FIRING:2] LlmGroupingProbe feature=search https://grafana.example.com/d/llm-finops-overview/finops-overview?var-feature=search',
      ]),
    );
  });

  it('telemetry absent inhibits anomalies and runaway users of its environment, not budgets', async () => {
    await eventually(() => expect(delivered('LlmTelemetryAbsent')).toHaveLength(1));
    await new Promise((r) => setTimeout(r, 2_500));
    expect(delivered('LlmCostPerRequestAnomaly').map(({ a }) => a.labels)).toEqual([
      {
        alertname: 'LlmCostPerRequestAnomaly',
        severity: 'warning',
        feature: 'chat',
        environment: 'staging',
      },
    ]);
    expect(delivered('LlmRunawayUser')).toEqual([]);
    expect(delivered('LlmCostPerRequestAnomalyRobust').map(({ a }) => a.labels.feature)).toEqual([
      'refund',
    ]);
    const state = await am.alerts();
    expect(
      state.find(
        (a) =>
          a.labels.alertname === 'LlmCostPerRequestAnomalyRobust' && a.labels.feature === 'chat',
      )?.status.state,
    ).toBe('suppressed');
    for (const name of ['LlmCostPerRequestAnomaly', 'LlmRunawayUser'])
      expect(
        state.find((a) => a.labels.alertname === name && !a.labels.environment)?.status.state,
        name,
      ).toBe('suppressed');
    expect(state.find((a) => a.labels.alertname === 'LlmBudgetExceeded')?.status.state).toBe(
      'active',
    );
  });
});

/**
 * The shipped rules (prometheus/rules/*.yaml) with every `for:` shortened to 1 s, written to a
 * temporary folder; returns the folder. Only the durations change.
 */
function renderRules(): string {
  const dir = mkdtempSync(join(tmpdir(), 'llmf-rules-'));
  expect(writeRules(dir, '1s')).toContain('alerts.yaml');
  expect(readFileSync(join(dir, 'alerts.yaml'), 'utf8')).not.toMatch(/^\s*for: (?!1s$)/m);
  return dir;
}

/**
 * The end-to-end test's budgets: user caps only. alice has the default caps, bob and carol their
 * own warn_at (bob warns from exactly his 90%, carol at 50% of hers does not warn).
 */
const e2eBudgets = (prometheusUrl: string, aliceDayLimit: number) => `
prometheus:
  url: ${prometheusUrl}
  refresh: 1s
  resolution: 1s
upgrade:
  url: https://example.com/upgrade
budgets:
  users:
    default:
      - { window: day, limit_usd: ${aliceDayLimit}, warn_at: 0.8 }
      - { window: month, limit_usd: 20, warn_at: 0.6 }
    overrides:
      bob:
        - { window: day, limit_usd: 10, warn_at: 0.9 }
      carol:
        - { window: day, limit_usd: 10, warn_at: 0.6 }
`;

describe('end to end: Prometheus fires budget alerts from the sidecar it scrapes, Alertmanager delivers', () => {
  let am: AlertmanagerServer;
  let prom: PrometheusServer;
  let app: StaticMetrics;
  let sidecar: SidecarChild;
  let sidecarTarget: string;
  let hook: Awaited<ReturnType<typeof startWebhook>>;
  let rulesDir: string;

  beforeAll(async () => {
    hook = await startWebhook();
    am = await startAlertmanager(renderConfig(hook.url));
    // The app's spend counters: alice $12.50 (over her $10 day cap, 62.5% of her month cap),
    // bob $9 (90% of his day cap), carol $5 (50%).
    app = await startStaticMetrics(
      costExposition({ alice: { chat: 12.5 }, bob: { chat: 9 }, carol: { chat: 5 } }),
    );
    // The real sidecar reads that spend from Prometheus, and Prometheus scrapes its gauges: its
    // port is chosen first so that one Prometheus does both.
    sidecarTarget = `127.0.0.1:${await freePort()}`;
    rulesDir = renderRules();
    prom = await startPrometheus({
      targets: [app.target, sidecarTarget],
      extraConfig: [
        'rule_files:',
        `  - ${join(rulesDir, '*.yaml')}`,
        'alerting:',
        '  alertmanagers:',
        `    - static_configs: [{ targets: ['${new URL(am.url).host}'] }]`,
      ].join('\n'),
    });
    sidecar = await startSidecar({
      config: e2eBudgets(prom.url, 10),
      args: ['--port', sidecarTarget.split(':')[1]!],
    });
    expect(new URL(sidecar.url).host).toBe(sidecarTarget);
  });

  afterAll(async () => {
    await sidecar?.stop();
    await prom?.stop();
    await am?.stop();
    await app?.stop();
    await hook?.close();
    if (rulesDir) rmSync(rulesDir, { recursive: true, force: true });
  });

  const delivered = (alertname: string) => deliveredIn(hook.received, alertname);
  const capsOf = (alertname: string) =>
    delivered(alertname)
      .map(({ a }) => `${a.labels.subject}/${a.labels.window}`)
      .sort();

  it('delivers LlmBudgetExceeded for alice/day with its labels and annotations', async () => {
    await eventually(() => expect(delivered('LlmBudgetExceeded')).toHaveLength(1), 30_000);
    const first = delivered('LlmBudgetExceeded')[0];
    if (!first) throw new Error('not delivered');
    const { p, a } = first;
    expect(p.status).toBe('firing');
    expect(p.receiver).toBe('pager');
    expect(p.groupKey).toContain('alertname="LlmBudgetExceeded"');
    expect(a.labels).toEqual({
      alertname: 'LlmBudgetExceeded',
      severity: 'critical',
      scope: 'user',
      subject: 'alice',
      window: 'day',
      job: 'app',
      instance: sidecarTarget,
    });
    expect(a.annotations.summary).toBe('LLM budget exceeded: user "alice".');
    expect(a.annotations.description).toContain('$12.50');
    expect(a.annotations.runbook_url).toMatch(/prometheus\/runbook\.md#llmbudgetexceeded$/);
  });

  it('delivers the warnings of bob/day and alice/month, not one for alice/day nor carol', async () => {
    await eventually(
      () => expect(capsOf('LlmBudgetWarning')).toEqual(['alice/month', 'bob/day']),
      30_000,
    );
    // A few more evaluations and group intervals: nothing else arrives.
    await new Promise((r) => setTimeout(r, 3_000));
    expect(capsOf('LlmBudgetWarning')).toEqual(['alice/month', 'bob/day']);
    expect(delivered('LlmBudgetWarning').map(({ p }) => p.receiver)).toEqual(['team', 'team']);
    // Each cap's own warn_at, read from llm_budget_warn_usd.
    expect(
      delivered('LlmBudgetWarning')
        .map(({ a }) => `${a.labels.subject}/${a.labels.window}: ${a.annotations.description}`)
        .sort(),
    ).toEqual([
      'alice/month: The month user budget of "alice" has spent 62.5% of its limit (warning from 60%).',
      'bob/day: The day user budget of "bob" has spent 90% of its limit (warning from 90%).',
    ]);
    expect(delivered('LlmBudgetExceeded')).toHaveLength(1);
  });

  it('sends a resolved notification once the cap is raised (the sidecar reloads its config)', async () => {
    // The runbook's mitigation: alice's day cap to $20 ($12.50 is then under its $16 warning).
    sidecar.writeConfig(e2eBudgets(prom.url, 20));
    await eventually(
      () =>
        expect(
          delivered('LlmBudgetExceeded').map(({ p, a }) => `${p.receiver} ${p.status} ${a.status}`),
        ).toEqual(['pager firing firing', 'pager resolved resolved']),
      30_000,
    );
    // Resolving alice/day brings no warning for it either.
    expect(capsOf('LlmBudgetWarning')).toEqual(['alice/month', 'bob/day']);
  });
});

async function eventually(check: () => void, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      check();
      return;
    } catch (e) {
      if (Date.now() > deadline) throw e;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}
