import { writeFileSync } from 'node:fs';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { parseDuration } from '../sidecar/config/schema';
import { PrometheusApi, PrometheusQueryError } from '../prometheus/api';
import { GRID_MS, PeriodError, monthPeriod, rangePeriod, type Period } from '../report/period';
import { windowAt } from '../calendar/windows';

/** Options shared by the commands that read a period's figures from Prometheus. */
export interface PeriodOptions {
  prometheus: string;
  month?: string;
  from?: string;
  to?: string;
  timezone: string;
  maxScrapeGap: number;
  timeout: number;
}

/** Where a command writes: `--out` (DESIGN.md's name), or `--output`, its earlier name, hidden. */
export interface OutOptions {
  out?: string;
  output?: string;
}

/**
 * A duration option parsed to ms whose default is written as the user types it, so that --help
 * shows "10m", not 600000.
 */
function durationOption(flags: string, description: string, fallback: string): Option {
  const flag = flags.split(' ')[0]!;
  return new Option(flags, description)
    .argParser((value: string) => {
      const ms = parseDuration(value);
      if (ms === undefined || ms <= 0)
        throw new InvalidArgumentError(`${flag}: expected a duration such as 90s, 10m, 2h`);
      return ms;
    })
    .default(parseDuration(fallback), fallback);
}

/** Adds --prometheus, --month, --from/--to, --timezone, --max-scrape-gap and --timeout. */
export function addPeriodOptions(command: Command): Command {
  return command
    .option(
      '--prometheus <url>',
      'Prometheus (or compatible) base URL; bearer token from $LLM_FINOPS_PROMETHEUS_TOKEN',
      process.env.LLM_FINOPS_PROMETHEUS_URL ?? 'http://127.0.0.1:9090',
    )
    .option('--month <YYYY-MM>', 'a calendar month (default: this month so far)')
    .option('--from <date>', 'start: YYYY-MM-DD (local midnight) or an RFC 3339 time, inclusive')
    .option('--to <date>', 'end: YYYY-MM-DD (local midnight) or an RFC 3339 time, exclusive')
    .option('--timezone <tz>', 'IANA time zone of months and days', 'UTC')
    .addOption(
      durationOption(
        '--max-scrape-gap <duration>',
        'longest scrape gap bridged (as the sidecar)',
        '10m',
      ),
    )
    .addOption(durationOption('--timeout <duration>', 'per query', '2m'));
}

/** Adds -o/--out <file>, and --output as a hidden alias. */
export function addOutOptions(command: Command): Command {
  return command
    .option('-o, --out <file>', 'write to a file instead of stdout')
    .addOption(new Option('--output <file>').hideHelp().conflicts('out'));
}

/** The period the options name; without any, this month up to the last quarter hour. */
export function periodOf(options: PeriodOptions, now: number): Period {
  if (options.month !== undefined) {
    if (options.from !== undefined || options.to !== undefined)
      throw new PeriodError('--month cannot be combined with --from/--to');
    return monthPeriod(options.month, options.timezone);
  }
  const to = options.to ?? new Date(now - (now % GRID_MS)).toISOString();
  const from =
    options.from ?? new Date(windowAt('month', now, options.timezone).start).toISOString();
  return rangePeriod(from, to, options.timezone);
}

/** A client of the --prometheus URL. */
export function prometheusApi(options: PeriodOptions): PrometheusApi {
  const token = process.env.LLM_FINOPS_PROMETHEUS_TOKEN;
  return new PrometheusApi({
    url: options.prometheus,
    timeoutMs: options.timeout,
    headers: token ? { authorization: `Bearer ${token}` } : {},
  });
}

/**
 * Runs a command that reads Prometheus and writes `produce()`'s text to the --out file or stdout.
 * Bad periods and unreachable or failing Prometheus end with exit code 2 and one line on stderr.
 */
export async function writeOutput(
  command: string,
  options: OutOptions,
  produce: () => Promise<string>,
): Promise<void> {
  let text: string;
  try {
    text = await produce();
  } catch (err) {
    if (err instanceof PeriodError || err instanceof PrometheusQueryError) {
      process.stderr.write(`llm-finops ${command}: ${err.message}\n`);
      process.exitCode = 2;
      return;
    }
    throw err;
  }
  const file = options.out ?? options.output;
  if (file) writeFileSync(file, text);
  else process.stdout.write(text);
}
