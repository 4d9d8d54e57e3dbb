import type { Command } from 'commander';
import { formatIssue } from '../config-file/issues';
import { BudgetConfigError, loadBudgetConfig } from '../sidecar/config/load';
import { watchBudgetConfig } from '../sidecar/config/watch';
import { Sidecar } from '../sidecar/sidecar';

/** `llm-finops sidecar`: the budget-enforcement service. */
export function registerSidecarCommand(program: Command): void {
  program
    .command('sidecar')
    .description(
      'Run the budget sidecar: answers 200 or 402 (problem+json) from spend read from Prometheus',
    )
    .requiredOption('--config <file>', 'budget config (YAML), see budgets.example.yaml')
    .option('--host <host>', 'address to listen on (only this machine by default)', '127.0.0.1')
    .option('--port <port>', 'port to listen on', '8787')
    .action(async (options: { config: string; host: string; port: string }) => {
      const port = Number(options.port);
      if (!Number.isInteger(port) || port < 0 || port > 65_535) {
        process.stderr.write(`llm-finops sidecar: --port ${options.port} is not a port number\n`);
        process.exitCode = 2;
        return;
      }
      let loaded;
      try {
        loaded = loadBudgetConfig(options.config);
      } catch (err) {
        if (!(err instanceof BudgetConfigError)) throw err;
        process.stderr.write(
          `llm-finops sidecar: invalid config, not starting:\n${err.issues.map(formatIssue).join('\n')}\n`,
        );
        process.exitCode = 2;
        return;
      }
      const sidecar = new Sidecar(loaded);
      const watcher = watchBudgetConfig(
        options.config,
        (next) => sidecar.reload(next),
        (err) => {
          sidecar.metrics.configReloads.inc({ result: 'error' });
          sidecar.log(
            `config not reloaded, keeping the previous one:\n${err.issues.map(formatIssue).join('\n')}`,
          );
        },
        { current: loaded },
      );
      const url = await sidecar.start(options.host, port);
      process.stdout.write(`llm-finops sidecar listening on ${url}\n`);
      const shutdown = () => {
        watcher.close();
        void sidecar.stop().then(() => process.exit(0));
      };
      process.once('SIGTERM', shutdown);
      process.once('SIGINT', shutdown);
    });
}
