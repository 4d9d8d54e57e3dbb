/**
 * CLI: starts the fake provider and prints `{"url": …}` as one JSON line on stdout, for the demo
 * to spawn as a child process. Stops on SIGINT/SIGTERM.
 *
 *   node dist/demo/fake-provider/main.js [--port 0] [--host 127.0.0.1] [--first-byte-ms 0]
 *     [--per-chunk-ms 0] [--chunks N] [--output-tokens 32]
 */
import { parseArgs } from 'node:util';

import { startFakeProvider } from './server';

function numberOption(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed < 0) throw new Error(`--${name} must be a number >= 0`);
  return parsed;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: '0' },
      host: { type: 'string', default: '127.0.0.1' },
      'first-byte-ms': { type: 'string' },
      'per-chunk-ms': { type: 'string' },
      chunks: { type: 'string' },
      'output-tokens': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(
      'Usage: fake-provider [--port 0] [--host 127.0.0.1] [--first-byte-ms N] [--per-chunk-ms N] [--chunks N] [--output-tokens N]\n',
    );
    return;
  }
  const fake = await startFakeProvider({
    host: values.host,
    port: numberOption(values.port, 'port'),
    latency: {
      firstByteMs: numberOption(values['first-byte-ms'], 'first-byte-ms'),
      perChunkMs: numberOption(values['per-chunk-ms'], 'per-chunk-ms'),
    },
    chunks: numberOption(values.chunks, 'chunks'),
    defaultOutputTokens: numberOption(values['output-tokens'], 'output-tokens'),
    // A long-running process must not grow without bound.
    recordRequests: false,
  });
  process.stdout.write(`${JSON.stringify({ url: fake.url })}\n`);

  const stop = (): void => {
    fake.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((error: unknown) => {
  process.stderr.write(
    `fake-provider: ${error instanceof Error ? error.message : String(error)}\n`,
  );
  process.exit(1);
});
