import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

export { freePort } from '../../demo/free-port';
export { parseExposition as parseMetrics, sumOf, type PromSample } from '../../demo/exposition';

export const ROOT = join(__dirname, '..', '..');
export const APPS = join(ROOT, 'test', 'fixtures', 'apps');

export interface Child {
  proc: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves when stdout contains `text`; rejects if the process exits first or after `ms`. */
  waitFor(text: string, ms?: number): Promise<void>;
  exited: Promise<number | null>;
  stop(): Promise<void>;
}

/** Starts `node ...args` in the repo root with the given extra environment. */
export function startNode(args: string[], env: Record<string, string>): Child {
  const proc = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((resolve) =>
    proc.once('exit', (code) => resolve(code)),
  );
  return {
    proc,
    stdout: () => out,
    stderr: () => err,
    exited,
    waitFor(text, ms = 20_000) {
      return new Promise((resolve, reject) => {
        const started = Date.now();
        const check = () => {
          if (out.includes(text)) return resolve();
          if (proc.exitCode !== null)
            return reject(new Error(`exited ${proc.exitCode} before "${text}": ${out}\n${err}`));
          if (Date.now() - started > ms)
            return reject(new Error(`timeout waiting for "${text}": ${out}\n${err}`));
          setTimeout(check, 20);
        };
        check();
      });
    },
    async stop() {
      if (proc.exitCode === null) proc.kill('SIGTERM');
      await exited;
    },
  };
}
