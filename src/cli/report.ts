import { type Command, Option } from 'commander';
import { DEFAULT_BASELINE_MODEL } from '../pricing/price-book';
import { buildReport } from '../report/build-report';
import { renderHtml } from '../report/render/html';
import { renderMarkdown } from '../report/render/markdown';
import { renderText } from '../report/render/text';
import type { Report } from '../report/types';
import {
  addOutOptions,
  addPeriodOptions,
  periodOf,
  prometheusApi,
  type OutOptions,
  type PeriodOptions,
  writeOutput,
} from './prometheus-options';

const RENDERERS: Record<string, (r: Report) => string> = {
  text: renderText,
  json: (r) => `${JSON.stringify(r, null, 2)}\n`,
  markdown: renderMarkdown,
  html: renderHtml,
};

interface ReportOptions extends PeriodOptions, OutOptions {
  format: string;
  top: number;
  baselineModel: string;
}

/** `llm-finops report`: a period's ROI, spend, budgets and anomalies, read from Prometheus. */
export function registerReportCommand(program: Command): void {
  const command = program
    .command('report')
    .description(
      "a period's requests, cost against the baseline, savings, spend by feature, model and user, budgets and anomalies, from Prometheus",
    );
  addPeriodOptions(command).addOption(
    new Option('--format <format>', 'output format')
      .choices(Object.keys(RENDERERS))
      .default('text'),
  );
  addOutOptions(command)
    .option('--top <n>', 'users listed', (v) => Number.parseInt(v, 10), 10)
    .option(
      '--baseline-model <model>',
      "the model named in the ROI statement: the app's LLM_FINOPS_BASELINE_MODEL",
      process.env.LLM_FINOPS_BASELINE_MODEL ?? DEFAULT_BASELINE_MODEL,
    )
    .action(async (options: ReportOptions) => {
      const now = Date.now();
      await writeOutput('report', options, async () => {
        const report = await buildReport(prometheusApi(options), periodOf(options, now), {
          baselineModel: options.baselineModel,
          topUsers: options.top,
          gapMs: options.maxScrapeGap,
          now,
        });
        return RENDERERS[options.format]!(report);
      });
    });
}
