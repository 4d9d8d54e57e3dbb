#!/usr/bin/env node
import { Command } from 'commander';
import { packageVersion } from '../package-info';
import { registerExportCommand } from './export';
import { registerPricingCommand } from './pricing';
import { registerReportCommand } from './report';
import { registerSidecarCommand } from './sidecar';

/**
 * The `llm-finops` program. Each command group lives in its own module and registers itself
 * here (`pricing`, `sidecar`, `report`, `export`).
 */
export function createProgram(): Command {
  const program = new Command('llm-finops')
    .description(
      'FinOps for LLM features: prices, budgets and reports for OpenAI and Anthropic calls',
    )
    .version(packageVersion())
    .showHelpAfterError();
  registerPricingCommand(program);
  registerSidecarCommand(program);
  registerReportCommand(program);
  registerExportCommand(program);
  return program;
}

if (require.main === module) {
  createProgram()
    .parseAsync(process.argv)
    .catch((err: unknown) => {
      process.stderr.write(`llm-finops: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exitCode = 1;
    });
}
