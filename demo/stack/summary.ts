import { DEFAULT_BASELINE_MODEL } from '../../src/pricing/price-book';
import { parseExposition, sumOf } from '../exposition';
import type { TrafficResult } from '../traffic/simulation';
import { alertLines, allDelivered, deliveredAlerts, firedAlerts } from './alerts';
import { spendBreakdown } from './breakdown';
import { promQuery } from './prometheus';
import { cacheStatement, roiAt, roiStatement, type RoiFigures } from './roi';
import type { Stack } from './start';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The end of a run: waits until Prometheus has scraped the app's final counters and Alertmanager
 * has delivered the alerts that fired, then prints the ROI statement, the spend tables, the 402s
 * and the alerts, all read from Prometheus at one evaluation time. Returns the figures.
 */
export async function summarise(options: {
  stack: Stack;
  traffic: TrafficResult;
  /** When the traffic started (ms since the epoch): the alerts of the run are those since. */
  startedMs: number;
  checkpoint: () => void;
  out: (line: string) => void;
}): Promise<{ roi: RoiFigures; alertsFired: { alertname: string; detail: string }[] }> {
  const { stack, traffic, checkpoint, out } = options;
  const prom = stack.prometheusUrl;
  out('\nTraffic done; waiting for the last scrape and the alerts to be delivered...');
  // Every call's cost is in Prometheus once the scraped counters equal those the app exposes.
  const exposed = sumOf(
    parseExposition(await (await fetch(stack.appMetricsUrl)).text()),
    'llm_requests_total',
  );
  for (const deadline = Date.now() + 30_000; ; await sleep(250)) {
    checkpoint();
    const scraped = await promQuery(prom, 'sum(llm_requests_total)', Date.now() / 1000);
    if ((scraped[0]?.value ?? -1) === exposed) break;
    if (Date.now() > deadline)
      throw new Error(`Prometheus has not scraped the app's last counters (${exposed} calls)`);
  }
  // Seconds, to the millisecond: anyone can repeat the queries at this time.
  const evaluationTime = Date.now() / 1000;
  const fired = await firedAlerts(
    prom,
    evaluationTime,
    evaluationTime - options.startedMs / 1000 + 10,
  );
  for (let waited = 0; waited < 20_000; waited += 250) {
    checkpoint();
    if (allDelivered(fired, deliveredAlerts(stack.receiver.alerts))) break;
    await sleep(250);
  }

  const roi = await roiAt(
    prom,
    evaluationTime,
    process.env.LLM_FINOPS_BASELINE_MODEL || DEFAULT_BASELINE_MODEL,
  );
  const denied = Object.entries(traffic.denied).sort((a, b) => b[1] - a[1]);
  out(`\n${roiStatement(roi)}`);
  out(cacheStatement(roi));
  for (const line of await spendBreakdown(prom, evaluationTime)) out(line);
  out(
    `\nBudget 402s: ${denied.reduce((a, [, n]) => a + n, 0)} (` +
      (denied.map(([u, n]) => `${u} ${n}`).join(', ') || 'none') +
      `); LLM calls refused before reaching the provider: ${roi.deniedCalls}`,
  );
  out(
    `Requests to the app: ${traffic.requests} sent, ${traffic.ok} answered, ` +
      `${traffic.failedTasks} agent tasks failed, ${traffic.errors} errors`,
  );
  for (const line of alertLines(fired, deliveredAlerts(stack.receiver.alerts))) out(line);
  out(
    `\nFigures read from Prometheus at ${new Date(evaluationTime * 1000).toISOString()} ` +
      `(evaluation time ${evaluationTime}).`,
  );
  return { roi, alertsFired: fired };
}
