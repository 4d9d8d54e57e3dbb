import type { ChildProcess } from 'node:child_process';

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
