/**
 * Simulated users for the demo app:
 *
 *   node dist/demo/traffic/main.js --target URL [--duration 10m] [--users 40] [--rate 6]
 *
 * `--duration 0` runs until SIGINT/SIGTERM (as docker-compose does). Prints progress, the 402s
 * as they happen and a JSON summary line at the end.
 */
import { parseArgs } from 'node:util';
import { parseDuration } from '../../src/sidecar/config/schema';
import { runTraffic } from './simulation';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      target: { type: 'string' },
      duration: { type: 'string', default: '10m' },
      users: { type: 'string', default: '40' },
      rate: { type: 'string', default: '6' },
    },
  });
  const durationMs = values.duration === '0' ? 0 : parseDuration(values.duration);
  const users = Number(values.users);
  const rate = Number(values.rate);
  if (!values.target || durationMs === undefined || !(users >= 1) || !(rate > 0)) {
    process.stderr.write(
      'Usage: traffic --target URL [--duration 10m|0] [--users 40] [--rate 6]\n',
    );
    process.exit(2);
  }
  const stop = new AbortController();
  process.once('SIGINT', () => stop.abort());
  process.once('SIGTERM', () => stop.abort());
  const result = await runTraffic({
    target: values.target.replace(/\/+$/, ''),
    durationMs,
    users,
    rate,
    signal: stop.signal,
    out: (line) => console.log(line),
  });
  console.log(JSON.stringify({ traffic: result }));
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
