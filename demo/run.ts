/**
 * `npm run demo`: the whole llm-finops stack on this machine, without Docker. A fake
 * OpenAI/Anthropic provider, the demo app under `--require llm-finops/register`, the budget
 * sidecar, Prometheus with the shipped rules and Alertmanager with the shipped routes; then
 * simulated users for `--duration`, the 402s as they happen, and at the end the ROI statement,
 * spend by feature, model and user, and the alerts that fired, all read from Prometheus.
 *
 *   node dist/demo/run.js [--duration 2m] [--users 40] [--rate 6] [--keep-data DIR] [--json]
 */
import { requireBinaries } from './stack/binaries';
import { demoOptions, USAGE } from './stack/options';
import { Services } from './stack/services';
import { startStack } from './stack/start';
import { summarise } from './stack/summary';
import { runTraffic } from './traffic/simulation';

const out = (line: string) => console.log(line);

async function main(): Promise<number> {
  let opts;
  try {
    opts = demoOptions(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n${USAGE}`);
    return 2;
  }
  if (!opts) {
    process.stdout.write(USAGE);
    return 0;
  }
  const stop = new AbortController();
  const interrupted = (signal: NodeJS.Signals) => {
    if (!stop.signal.aborted) out(`\n${signal}: stopping everything the demo started...`);
    stop.abort(signal);
  };
  process.on('SIGINT', interrupted);
  process.on('SIGTERM', interrupted);
  const checkpoint = () => {
    if (stop.signal.aborted) throw stop.signal.reason;
  };

  const services = new Services();
  try {
    const bin = requireBinaries(out);
    const stack = await startStack({ bin, services, keepData: opts.keepData, checkpoint });
    out('llm-finops demo: every part runs on this machine');
    for (const part of services.list())
      out(`  ${part.name.padEnd(42)} ${part.url}${part.pid ? `  (pid ${part.pid})` : ''}`);
    out(`  ${'app metrics (scraped every 1 s)'.padEnd(42)} ${stack.appMetricsUrl}`);
    out(`  ${'temporary files'.padEnd(42)} ${stack.dir}`);
    if (opts.keepData) out(`  ${'Prometheus data (kept)'.padEnd(42)} ${opts.keepData}`);
    out(
      `\nTraffic: ${opts.users} users (heavy-tailed) at ~${opts.rate} requests/s and one runaway ` +
        `user looping agent tasks, for ${Math.round(opts.durationMs / 1000)} s. ` +
        'Ctrl-C stops everything.',
    );

    const startedMs = Date.now();
    const traffic = await runTraffic({
      target: stack.appUrl,
      durationMs: opts.durationMs,
      users: opts.users,
      rate: opts.rate,
      signal: stop.signal,
      out,
    });
    checkpoint();
    const figures = await summarise({ stack, traffic, startedMs, checkpoint, out });
    if (opts.json) out(JSON.stringify({ ...figures, denied: traffic.denied }));
    return 0;
  } catch (err) {
    // 128 + the signal's number, as shells report a process ended by it.
    if (stop.signal.aborted) return stop.signal.reason === 'SIGTERM' ? 143 : 130;
    throw err;
  } finally {
    await services.stopAll();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`demo failed: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
