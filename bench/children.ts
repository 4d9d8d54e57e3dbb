/**
 * The child processes every benchmark starts: with an environment that cannot change their
 * telemetry set-up, and the fake provider in a process of its own (its CPU and memory are not
 * the measured app's).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';

// dist/bench when compiled, bench when a test imports the source.
const UP = resolve(__dirname, '..');
/** The compiled package (dist/). */
export const DIST = UP.endsWith('/dist') ? UP : resolve(UP, 'dist');
/** The fake OpenAI/Anthropic provider's entry point. */
export const FAKE_PROVIDER = resolve(DIST, 'demo', 'fake-provider', 'main.js');
/** What `--require llm-finops/register` loads. */
export const REGISTER = resolve(DIST, 'instrumentation', 'register.js');

/** The environment without anything that would change a child's telemetry set-up. */
export function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (key.startsWith('OTEL_') || key.startsWith('LLM_FINOPS_') || key === 'NODE_OPTIONS')
      continue;
    env[key] = value;
  }
  return env;
}

/** Starts dist/demo/fake-provider/main.js on a free port with `args`, answering at once. */
export async function startFakeProvider(
  args: readonly string[] = [],
): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [FAKE_PROVIDER, '--port', '0', ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: cleanEnv(),
  });
  const lines = createInterface({ input: child.stdout });
  const first = await new Promise<string>((done, fail) => {
    lines.once('line', done);
    child.once('exit', (code) =>
      fail(new Error(`fake provider exited (${code}) before printing its URL`)),
    );
  });
  lines.close();
  return { child, url: (JSON.parse(first) as { url: string }).url };
}
