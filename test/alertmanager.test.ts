import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAlertmanager, type AlertmanagerServer } from './helpers/alertmanager';
import { freePort, ROOT } from './helpers/child';

/**
 * prometheus/alertmanager.yml: amtool's config check, its routing tree per severity, and delivery
 * end to end with a real Alertmanager (the shipped file, only the webhook URL, timings and template
 * path replaced) to a webhook receiver run by the test, with inhibition.
 */

const CONFIG = join(ROOT, 'prometheus', 'alertmanager.yml');
const TEMPLATES = join(ROOT, 'prometheus', 'templates', '*.tmpl');
const SHIPPED_URL = 'http://127.0.0.1:9095/alerts';

function amtool(args: string[]) {
  const run = spawnSync('amtool', args, { cwd: ROOT, encoding: 'utf8' });
  return { status: run.status, out: `${run.stdout}${run.stderr}` };
}

describe('amtool', () => {
  it('check-config accepts the config and its templates', () => {
    const run = amtool(['check-config', CONFIG]);
    expect(run.out).toContain('SUCCESS');
    expect(run.out).toContain('1 templates');
    expect(run.out).toContain('2 inhibit rules');
    expect(run.status, run.out).toBe(0);
  });

  it.each([
    ['pager', ['alertname=LlmBudgetExceeded', 'severity=critical', 'scope=user', 'subject=alice']],
    ['team', ['alertname=LlmBudgetWarning', 'severity=warning', 'feature=search']],
    ['low-priority', ['alertname=LlmUnpricedModelSeen', 'severity=info']],
    ['webhook', ['alertname=SomethingElse']],
    ['webhook', ['alertname=SomethingElse', 'severity=debug']],
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

interface WebhookPayload {
  version: string;
  groupKey: string;
  status: string;
  receiver: string;
  groupLabels: Record<string, string>;
  commonLabels: Record<string, string>;
  commonAnnotations: Record<string, string>;
  externalURL: string;
  alerts: {
    status: string;
    labels: Record<string, string>;
    annotations: Record<string, string>;
    startsAt: string;
    fingerprint: string;
  }[];
}

/** The shipped config, delivering to `url`, with 1 s group timings and an absolute template path. */
function renderConfig(url: string): string {
  const shipped = readFileSync(CONFIG, 'utf8');
  // Every receiver's webhook (the header comment mentions the URL too).
  expect(shipped.split(`- url: ${SHIPPED_URL}`).length - 1).toBe(4);
  return shipped
    .replaceAll(`- url: ${SHIPPED_URL}`, `- url: ${url}`)
    .replace(/^(\s*)group_wait: \S+/gm, '$1group_wait: 1s')
    .replace(/^(\s*)group_interval: \S+/gm, '$1group_interval: 1s')
    .replace('- templates/*.tmpl', `- ${TEMPLATES}`);
}

const budgetAnnotations = (subject: string, what: string) => ({
  summary: `User ${subject} ${what} their 1d budget`,
  description: `User ${subject} has spent $12.50 of their $10.00 1d budget.`,
  runbook_url: 'https://example.com/prometheus/runbook.md#llmbudgetexceeded',
});

describe('end to end: Alertmanager delivers to a webhook, with inhibition', () => {
  let am: AlertmanagerServer;
  let hook: Server;
  const received: WebhookPayload[] = [];

  beforeAll(async () => {
    const port = await freePort();
    hook = createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        if (req.url === '/alerts' && req.method === 'POST')
          received.push(JSON.parse(body) as WebhookPayload);
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((r) => hook.listen(port, '127.0.0.1', r));
    am = await startAlertmanager(renderConfig(`http://127.0.0.1:${port}/alerts`));
    const budget = { scope: 'user', window: '1d' };
    await am.postAlerts([
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
          window: '30d',
          subject: 'alice',
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
      {
        labels: { alertname: 'LlmRunawayUser', severity: 'critical', subject: 'carol' },
        annotations: { summary: 'runaway', description: 'x', runbook_url: 'x' },
      },
    ]);
  });

  afterAll(async () => {
    await am?.stop();
    await new Promise((r) => hook?.close(r));
  });

  const delivered = (alertname: string) =>
    received.flatMap((p) =>
      p.alerts.filter((a) => a.labels.alertname === alertname).map((a) => ({ p, a })),
    );

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
      window: '1d',
    });
    expect(a.annotations).toEqual(budgetAnnotations('alice', 'exceeded'));
    expect(p.commonAnnotations).toEqual(a.annotations);
  });

  it('delivers the warnings not covered by the exceeded budget, and not the inhibited one', async () => {
    await eventually(() =>
      expect(
        delivered('LlmBudgetWarning').map(({ a }) => `${a.labels.subject}/${a.labels.window}`),
      ).toEqual(expect.arrayContaining(['bob/1d', 'alice/30d'])),
    );
    // Two more group intervals: the inhibited alert would have been sent by now.
    await new Promise((r) => setTimeout(r, 2_500));
    const warnings = delivered('LlmBudgetWarning');
    expect(warnings.every(({ p }) => p.receiver === 'team' && p.status === 'firing')).toBe(true);
    expect(warnings.map(({ a }) => `${a.labels.subject}/${a.labels.window}`).sort()).toEqual([
      'alice/30d',
      'bob/1d',
    ]);
    const state = await am.alerts();
    const aliceWarning = state.find(
      (a) =>
        a.labels.alertname === 'LlmBudgetWarning' &&
        a.labels.subject === 'alice' &&
        a.labels.window === '1d',
    );
    expect(aliceWarning?.status.state).toBe('suppressed');
    expect(aliceWarning?.status.inhibitedBy).toHaveLength(1);
  });

  it('telemetry absent inhibits anomalies and runaway users, not budgets', async () => {
    await eventually(() => expect(delivered('LlmTelemetryAbsent')).toHaveLength(1));
    await new Promise((r) => setTimeout(r, 2_500));
    expect(delivered('LlmCostPerRequestAnomaly')).toEqual([]);
    expect(delivered('LlmRunawayUser')).toEqual([]);
    const state = await am.alerts();
    for (const name of ['LlmCostPerRequestAnomaly', 'LlmRunawayUser'])
      expect(state.find((a) => a.labels.alertname === name)?.status.state, name).toBe('suppressed');
    expect(state.find((a) => a.labels.alertname === 'LlmBudgetExceeded')?.status.state).toBe(
      'active',
    );
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
