import { spawn, type ChildProcess } from 'node:child_process';
import { packageRoot } from '../../src/package-info';
import { stopProcess } from '../service-process';

/** A Node.js child process of the demo (fake provider, sidecar, app). */
export interface NodeService {
  readonly url: string;
  readonly proc: ChildProcess;
  log: () => string;
  stop: () => Promise<void>;
}

/**
 * Runs `node ...args` from the package root and waits until its stdout shows the URL it listens
 * on (`urlPattern`'s first group). Stops it and throws with its output if it exits first or takes
 * longer than `timeoutMs`.
 */
export async function startNodeService(options: {
  name: string;
  args: string[];
  env: Record<string, string>;
  urlPattern: RegExp;
  timeoutMs?: number;
}): Promise<NodeService> {
  const proc = spawn(process.execPath, options.args, {
    cwd: packageRoot(),
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
    // Its own process group: a Ctrl-C in the terminal reaches the demo, which stops it in order.
    detached: true,
  });
  let out = '';
  const keep = (d: Buffer) => {
    out += d.toString();
    if (out.length > 200_000) out = out.slice(-100_000);
  };
  proc.stdout.on('data', keep);
  proc.stderr.on('data', keep);
  const service = { proc, log: () => out, stop: () => stopProcess(proc) };
  try {
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`${options.name} did not start:\n${out}`)),
        options.timeoutMs ?? 30_000,
      );
      const check = () => {
        const m = options.urlPattern.exec(out);
        if (m?.[1]) {
          clearTimeout(timer);
          proc.stdout.off('data', check);
          proc.off('exit', exited);
          resolve(m[1]);
        }
      };
      const exited = (code: number | null) => {
        clearTimeout(timer);
        reject(new Error(`${options.name} exited (${code}):\n${out}`));
      };
      proc.stdout.on('data', check);
      proc.once('exit', exited);
    });
    return { ...service, url };
  } catch (err) {
    await service.stop();
    throw err;
  }
}
