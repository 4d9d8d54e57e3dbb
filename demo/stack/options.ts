import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { parseDuration } from '../../src/sidecar/config/schema';

export interface DemoOptions {
  durationMs: number;
  users: number;
  rate: number;
  /** Prometheus's data folder, kept after the run. */
  keepData?: string;
  /** End with one JSON line of the figures. */
  json: boolean;
}

export const USAGE =
  'Usage: npm run demo -- [--duration 2m] [--users 40] [--rate 6] [--keep-data DIR] [--json]\n' +
  '  --duration   how long the simulated users send requests (60s, 5m, ...)\n' +
  '  --users      simulated users besides the runaway one\n' +
  '  --rate       their requests per second, on average\n' +
  "  --keep-data  keep Prometheus's data in DIR after the run\n" +
  '  --json       end with one JSON line of the ROI figures\n';

/** The demo's command-line options; undefined for --help, throws on bad values. */
export function demoOptions(args: string[]): DemoOptions | undefined {
  const { values } = parseArgs({
    args,
    options: {
      duration: { type: 'string', default: '2m' },
      users: { type: 'string', default: '40' },
      rate: { type: 'string', default: '6' },
      'keep-data': { type: 'string' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return undefined;
  const durationMs = parseDuration(values.duration);
  const users = Number(values.users);
  const rate = Number(values.rate);
  if (!durationMs) throw new Error(`--duration ${values.duration}: expected e.g. 60s, 2m, 1h`);
  if (!Number.isInteger(users) || users < 1) throw new Error('--users: expected an integer >= 1');
  if (!(rate > 0)) throw new Error('--rate: expected a number > 0');
  return {
    durationMs,
    users,
    rate,
    keepData: values['keep-data'] && resolve(values['keep-data']),
    json: values.json,
  };
}
