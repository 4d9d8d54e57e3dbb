import { existsSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, startNode, type Child } from './helpers/child';
import { startPrometheus, type PrometheusServer } from './helpers/prometheus';

/**
 * The native demo (`npm run demo`), built, run as a child process like a newcomer would:
 * - a short run exits 0, shows the runaway user's 402s, and ends with the ROI statement whose
 *   figures equal, to the micro-dollar, the test's own queries to a Prometheus it starts on the
 *   demo's kept data at the evaluation time the demo printed; the budget alert was delivered;
 * - SIGINT and SIGTERM during the run stop every process it started and remove its temp folder.
 */

const DEMO = join(ROOT, 'dist', 'demo', 'run.js');
const ROI =
  /^(\d+) requests, would have cost \$(\d+\.\d{6}) at (\S+) rates, actually cost \$(\d+\.\d{6}) — (\d+\.\d)% savings$/m;

describe('a short demo run', () => {
  let demo: Child;
  let code: number | null;
  let dataDir: string;
  let prom: PrometheusServer;
  let summary: { roi: { evaluationTime: number; requests: number } };

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'llmf-demo-data-'));
    demo = startNode([DEMO, '--duration', '40s', '--keep-data', dataDir, '--json'], {});
    code = await demo.exited;
    const last = demo.stdout().trim().split('\n').at(-1) ?? '';
    summary = JSON.parse(last) as typeof summary;
    prom = await startPrometheus({ dataDir });
  }, 110_000);

  afterAll(async () => {
    await prom?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const output = () => `${demo.stdout()}\n${demo.stderr()}`;
  const value = async (expr: string) => {
    const result = await prom.query(expr, summary.roi.evaluationTime);
    expect(result, expr).toHaveLength(1);
    return Number(result[0]!.value[1]);
  };

  it('exits 0 after printing where every part listens', () => {
    expect(code, output()).toBe(0);
    for (const part of [
      'fake OpenAI/Anthropic provider',
      'Alertmanager',
      'demo app (--require llm-finops/register)',
      'Prometheus',
      'budget sidecar',
    ])
      expect(demo.stdout()).toMatch(
        new RegExp(`^  ${escape(part)} +http://127\\.0\\.0\\.1:\\d+`, 'm'),
      );
  });

  it('shows the 402s of the runaway user as they happen, before the summary', () => {
    const lines = demo.stdout().split('\n');
    const first402 = lines.findIndex((l) =>
      /^ {2}402 runaway-bot agent: user "runaway-bot" day cap \$1\.00 reached/.test(l),
    );
    expect(first402, output()).toBeGreaterThan(0);
    expect(first402).toBeLessThan(lines.findIndex((l) => l.startsWith('Traffic done')));
    const counted = /^Budget 402s: (\d+) \(runaway-bot (\d+)/m.exec(demo.stdout());
    expect(Number(counted?.[2])).toBeGreaterThan(0);
  });

  it('prints the ROI statement with the figures Prometheus holds at the evaluation time', async () => {
    const m = ROI.exec(demo.stdout());
    expect(m, output()).not.toBeNull();
    const [, requests, baseline, model, cost, percent] = m!;
    const ok = await value('sum(llm_requests_total{status="ok"})');
    const actual = await value('sum(llm_cost_usd_total)');
    const base = await value('sum(llm_baseline_cost_usd_total)');
    expect(ok).toBeGreaterThan(50);
    expect(Number(requests)).toBe(ok);
    expect(summary.roi.requests).toBe(ok);
    expect(model).toBe('gpt-4');
    expect(baseline).toBe(base.toFixed(6));
    expect(cost).toBe(actual.toFixed(6));
    expect(percent).toBe(((1 - actual / base) * 100).toFixed(1));
    // Routing to cheaper tiers saves most of the baseline.
    expect(actual).toBeLessThan(base / 2);
    const saved = await value('sum(llm_cache_savings_usd_total{cache="response"})');
    expect(saved).toBeGreaterThan(0);
    expect(demo.stdout()).toContain(`(response cache $${saved.toFixed(6)}`);
    expect(demo.stdout()).toContain(`(evaluation time ${summary.roi.evaluationTime})`);
  });

  it('prints spend by feature and the top users as Prometheus has them', async () => {
    for (const feature of ['chat', 'summarise', 'agent']) {
      const cost = await value(`sum(llm_cost_usd_total{feature="${feature}"})`);
      expect(demo.stdout()).toMatch(new RegExp(`^  ${feature} +\\d+ +\\$${cost.toFixed(6)} `, 'm'));
    }
    const runaway = await value('sum(llm_user_cost_usd_total{user="runaway-bot"})');
    // Its cap is $1 a day: it got there, and was stopped within one agent step of it.
    expect(runaway).toBeGreaterThanOrEqual(1);
    expect(runaway).toBeLessThan(1.5);
    expect(demo.stdout()).toMatch(new RegExp(`^  runaway-bot +\\$${runaway.toFixed(6)}$`, 'm'));
    const denied = await value('sum(llm_requests_total{status="denied"})');
    expect(demo.stdout()).toContain(`LLM calls refused before reaching the provider: ${denied}`);
  });

  it('ran every feature through the instrumentation: tiers, outcomes, the response cache', async () => {
    // The router and the agent's escalation: every tier was used.
    for (const tier of ['economy', 'standard', 'premium'])
      expect(await value(`sum(llm_cost_usd_total{tier="${tier}"})`), tier).toBeGreaterThan(0);
    for (const feature of ['chat', 'summarise', 'agent'])
      expect(
        await value(`sum(llm_outcomes_total{feature="${feature}",outcome="success"})`),
        feature,
      ).toBeGreaterThan(0);
    for (const result of ['hit', 'miss'])
      expect(
        await value(`sum(llm_cache_lookups_total{feature="summarise",result="${result}"})`),
      ).toBeGreaterThan(0);
    // OpenAI (chat, agent) and Anthropic (summarise).
    expect(await value('count(sum by (provider) (llm_cost_usd_total))')).toBe(2);
  });

  it('lists the budget alert as fired and delivered to the pager receiver', () => {
    const exceeded = 'LlmBudgetExceeded scope="user" subject="runaway-bot" window="day"';
    const fired = demo.stdout().split('Alerts fired (Prometheus):')[1] ?? '';
    const [firedPart = '', deliveredPart = ''] = fired.split('Alerts delivered');
    expect(firedPart, output()).toContain(`  ${exceeded}\n`);
    expect(deliveredPart).toContain(`  ${exceeded} -> receiver pager\n`);
  });
});

describe.each(['SIGINT', 'SIGTERM'] as const)('%s during the run', (signal) => {
  it('stops every process the demo started and removes its temporary folder', async () => {
    const demo = startNode([DEMO, '--duration', '5m'], {});
    try {
      await demo.waitFor('Ctrl-C stops everything', 40_000);
      await demo.waitFor('402 runaway-bot', 20_000);
      const pids = [...demo.stdout().matchAll(/\(pid (\d+)\)/g)].map((m) => Number(m[1]));
      expect(pids).toHaveLength(5);
      const temp = /^ {2}temporary files +(\S+)$/m.exec(demo.stdout())?.[1] ?? '';
      expect(existsSync(temp)).toBe(true);
      expect(pids.every(alive)).toBe(true);

      demo.proc.kill(signal);
      const code = await demo.exited;
      expect(code, `${demo.stdout()}\n${demo.stderr()}`).toBe(signal === 'SIGINT' ? 130 : 143);
      expect(demo.stdout()).toContain(`${signal}: stopping everything the demo started`);
      expect(pids.filter(alive)).toEqual([]);
      expect(existsSync(temp)).toBe(false);
    } finally {
      await demo.stop();
    }
  }, 70_000);
});

describe('without Prometheus and Alertmanager', () => {
  it('exits 1 naming what to install and suggesting docker compose when it cannot install them', async () => {
    // Only node on PATH: no prometheus, no apt-get, no sudo.
    const bin = mkdtempSync(join(tmpdir(), 'llmf-demo-bin-'));
    try {
      symlinkSync(process.execPath, join(bin, 'node'));
      const demo = startNode([DEMO, '--duration', '5s'], { PATH: bin });
      expect(await demo.exited).toBe(1);
      expect(demo.stderr()).toContain('prometheus and alertmanager are not on PATH');
      expect(demo.stderr()).toContain('apt-get install prometheus prometheus-alertmanager');
      expect(demo.stderr()).toContain('docker compose up');
      expect(demo.stdout()).toBe('');
    } finally {
      rmSync(bin, { recursive: true, force: true });
    }
  });
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
