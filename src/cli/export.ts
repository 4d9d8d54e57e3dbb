import type { Command } from 'commander';
import { focusCsv, focusRows } from '../export/focus';
import { DEFAULT_BASELINE_MODEL } from '../pricing/price-book';
import {
  addOutOptions,
  addPeriodOptions,
  periodOf,
  prometheusApi,
  type OutOptions,
  type PeriodOptions,
  writeOutput,
} from './prometheus-options';

interface FocusCommandOptions extends PeriodOptions, OutOptions {
  billingAccount?: string;
  baselineModel: string;
}

/** `llm-finops export focus`: LLM spend as FinOps FOCUS 1.2 CSV, daily charge periods. */
export function registerExportCommand(program: Command): void {
  const exportCommand = program.command('export').description('export LLM spend for finance tools');
  const focus = exportCommand
    .command('focus')
    .description(
      'FinOps FOCUS 1.2 CSV: a row per day, provider, model and feature; ListCost = baseline, BilledCost = EffectiveCost = actual',
    );
  addOutOptions(addPeriodOptions(focus))
    .option('--billing-account <id>', 'BillingAccountId/Name (default: the provider)')
    .option(
      '--baseline-model <model>',
      "the model whose rates ListCost uses: the app's LLM_FINOPS_BASELINE_MODEL",
      process.env.LLM_FINOPS_BASELINE_MODEL ?? DEFAULT_BASELINE_MODEL,
    )
    .action(async (options: FocusCommandOptions) => {
      await writeOutput('export focus', options, async () => {
        const rows = await focusRows(prometheusApi(options), periodOf(options, Date.now()), {
          gapMs: options.maxScrapeGap,
          billingAccount: options.billingAccount,
          baselineModel: options.baselineModel,
        });
        return focusCsv(rows);
      });
    });
}
