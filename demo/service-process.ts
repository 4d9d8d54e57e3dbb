import { spawn, type ChildProcess } from 'node:child_process';

/**
 * Waits until a server started as a child process (Prometheus, Alertmanager) answers `GET
 * {url}/-/ready`; stops it and throws with its log if it exits first or does not get ready.
 */
export async function waitReady(
  name: string,
  url: string,
  proc: ChildProcess,
  log: () => string,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null) throw new Error(`${name} exited ${proc.exitCode}:\n${log()}`);
    const ready = await fetch(`${url}/-/ready`).then(
      (res) => res.ok,
      () => false, // not listening yet
    );
    if (ready) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  await stopProcess(proc);
  throw new Error(`${name} not ready after ${timeoutMs / 1000} s:\n${log()}`);
}

/** SIGTERM, then SIGKILL after 10 s; resolves once the process has exited. */
export async function stopProcess(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise((r) => proc.once('exit', r));
  proc.kill('SIGTERM');
  const timer = setTimeout(() => proc.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

/** A server running as a child process (Prometheus, Alertmanager). */
export interface ServiceProcess {
  readonly url: string;
  readonly proc: ChildProcess;
  /** The last ~100-200 KB of its stderr. */
  log: () => string;
  /** SIGTERM (SIGKILL after 10 s); resolves once it has exited. */
  stop: () => Promise<void>;
}

/**
 * Spawns `bin args`, keeps the tail of its stderr, and waits until `url` answers /-/ready;
 * stops it and throws with its log when it does not. `detached` gives it its own process group,
 * so that a Ctrl-C in the terminal reaches only the parent, which stops its children in order.
 */
export async function startService(
  name: string,
  bin: string,
  args: readonly string[],
  url: string,
  options: { detached?: boolean } = {},
): Promise<ServiceProcess> {
  const proc = spawn(bin, args, {
    stdio: ['ignore', 'ignore', 'pipe'],
    detached: options.detached ?? false,
  });
  let log = '';
  proc.stderr?.on('data', (d: Buffer) => {
    log += d.toString();
    if (log.length > 200_000) log = log.slice(-100_000);
  });
  const server = { url, proc, log: () => log, stop: () => stopProcess(proc) };
  try {
    await waitReady(name, url, proc, () => log);
  } catch (e) {
    await server.stop();
    throw e;
  }
  return server;
}
