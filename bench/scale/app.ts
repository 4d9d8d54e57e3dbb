/**
 * The app of the scale bench, forked by run.ts with an IPC channel:
 *
 *   node [--require dist/instrumentation/register.js] dist/bench/scale/app.js <provider url> <on|off>
 *
 * On each `calls` command it makes chat calls through the real openai client against the fake
 * provider, each inside `withAttribution({ user, feature })` when instrumented (`on`), plainly
 * otherwise, so both modes send the same requests; `stats` answers its memory (after a full GC
 * on request). It never loads llm-finops in mode `off`: that is the uninstrumented baseline.
 */
import { createRequire } from 'node:module';
import { writeHeapSnapshot } from 'node:v8';
import OpenAI from 'openai';
import type { Attribution } from '../../instrumentation/types';
import { serveCommands } from '../sidecar/ipc';
import { plannedCalls, userId, type CallsCommand } from './series';

type Attribute = <T>(attribution: Attribution, fn: () => T) => T;

const [url, mode] = process.argv.slice(2);
if (!url || (mode !== 'on' && mode !== 'off'))
  throw new Error('usage: app.js <provider url> <on|off>');

// As an app would: `require('llm-finops')`, resolved to this package's dist by its exports.
const attribute: Attribute =
  mode === 'on'
    ? (createRequire(__filename)('llm-finops') as { withAttribution: Attribute }).withAttribution
    : (_attribution, fn) => fn();

const openai = new OpenAI({ apiKey: 'bench', baseURL: `${url}/v1`, maxRetries: 0 });
const messages = [{ role: 'user' as const, content: 'Say something.' }];

async function calls(command: CallsCommand): Promise<{ calls: number; wallMs: number }> {
  const started = performance.now();
  const plan = plannedCalls(command);
  let made = 0;
  const worker = async (): Promise<void> => {
    for (let next = plan.next(); !next.done; next = plan.next()) {
      const { user, feature, model } = next.value;
      await attribute({ user: userId(user, command.prefix), feature }, () =>
        openai.chat.completions.create({ model, messages }),
      );
      made++;
    }
  };
  await Promise.all(Array.from({ length: command.concurrency }, worker));
  return { calls: made, wallMs: performance.now() - started };
}

serveCommands({
  calls: (c) => calls(c as unknown as CallsCommand),
  // For the profile of where the memory goes (run.ts --heap-snapshot).
  'heap-snapshot': (c) => writeHeapSnapshot(String(c.file)),
});
