/**
 * Request/answer over the IPC channel of the bench's child processes (servers and load
 * generator): the parent sends `{ id, ...command }`, the child answers `{ id, ...result }`.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';

export interface ProcessStats {
  /** User + system CPU since the process started, µs. */
  readonly cpuUs: number;
  readonly rss: number;
  readonly heapUsed: number;
  readonly heapTotal: number;
  readonly external: number;
  /** Peak resident set since start, bytes. */
  readonly maxRss: number;
}

/** The process's CPU and memory; after a full GC when `gc` (needs --expose-gc). */
export function processStats(gc = false): ProcessStats {
  if (gc) (globalThis as { gc?: () => void }).gc?.();
  const cpu = process.cpuUsage();
  const mem = process.memoryUsage();
  return {
    cpuUs: cpu.user + cpu.system,
    rss: mem.rss,
    heapUsed: mem.heapUsed,
    heapTotal: mem.heapTotal,
    external: mem.external,
    maxRss: process.resourceUsage().maxRSS * 1024,
  };
}

type Handler = (command: Record<string, unknown>) => unknown;

let session: Session | undefined;

/** V8's sampling profiler, every 100 µs, until `profile-stop` writes the profile to `file`. */
const profiling: Record<string, Handler> = {
  'profile-start': async () => {
    session = new Session();
    session.connect();
    await session.post('Profiler.enable');
    await session.post('Profiler.setSamplingInterval', { interval: 100 });
    await session.post('Profiler.start');
  },
  'profile-stop': async (c) => {
    if (!session) throw new Error('no profile running');
    const { profile } = await session.post('Profiler.stop');
    session.disconnect();
    session = undefined;
    writeFileSync(String(c.file), JSON.stringify(profile));
  },
  /**
   * V8's allocation sampling (one sample per 1 KiB allocated on average), counting objects
   * that garbage collection already freed: what a request allocates, not what it keeps.
   */
  'alloc-start': async () => {
    session = new Session();
    session.connect();
    await session.post('HeapProfiler.enable');
    await session.post('HeapProfiler.startSampling', {
      samplingInterval: 1024,
      includeObjectsCollectedByMajorGC: true,
      includeObjectsCollectedByMinorGC: true,
    } as { samplingInterval: number });
  },
  'alloc-stop': async (): Promise<AllocationFigures> => {
    if (!session) throw new Error('no allocation sampling running');
    const { profile } = await session.post('HeapProfiler.stopSampling');
    session.disconnect();
    session = undefined;
    const byFunction = new Map<string, number>();
    let bytes = 0;
    const walk = (node: typeof profile.head): void => {
      bytes += node.selfSize;
      const f = node.callFrame;
      const where = f.url
        ? `${f.url.replace(/^.*\/(dist|node_modules)\//, '')}:${f.lineNumber + 1}`
        : '';
      const key = `${f.functionName || '(anonymous)'}\t${where}`;
      if (node.selfSize) byFunction.set(key, (byFunction.get(key) ?? 0) + node.selfSize);
      for (const child of node.children) walk(child);
    };
    walk(profile.head);
    const top = [...byFunction]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 15)
      .map(([key, n]) => {
        const [name = '', where = ''] = key.split('\t');
        return { name, where, bytes: n };
      });
    return { bytes, top };
  },
};

/** Bytes allocated while sampling (an estimate), and the functions that allocated most. */
export interface AllocationFigures {
  readonly bytes: number;
  readonly top: readonly { name: string; where: string; bytes: number }[];
}

/** In a child: answers the parent's commands; `stats` and profiling are always understood. */
export function serveCommands(handlers: Record<string, Handler>): void {
  const all: Record<string, Handler> = {
    stats: (c) => processStats(c.gc === true),
    ...profiling,
    ...handlers,
  };
  process.on('message', (message: { id: number; type: string }) => {
    const handler = all[message.type];
    void Promise.resolve()
      .then(() => {
        if (!handler) throw new Error(`unknown command ${message.type}`);
        return handler(message);
      })
      .then(
        (result) => process.send?.({ id: message.id, result }),
        (err: unknown) => process.send?.({ id: message.id, error: String(err) }),
      );
  });
}

/** In the parent: a bench child process that answers commands. */
export class BenchChild {
  private next = 1;
  private readonly waiting = new Map<
    number,
    { resolve: (v: unknown) => void; reject: (e: Error) => void }
  >();

  private constructor(readonly proc: ChildProcess) {
    proc.on('message', (m: { id: number; result?: unknown; error?: string }) => {
      const w = this.waiting.get(m.id);
      this.waiting.delete(m.id);
      if (m.error !== undefined) w?.reject(new Error(m.error));
      else w?.resolve(m.result);
    });
    proc.once('exit', (code, signal) => {
      for (const w of this.waiting.values())
        w.reject(new Error(`child exited (${code ?? signal}) before answering`));
      this.waiting.clear();
    });
  }

  /** Forks `script` (compiled JS) with `--expose-gc` plus `execArgv`; stderr is passed through. */
  static start(script: string, args: string[] = [], execArgv: string[] = []): BenchChild {
    return new BenchChild(
      fork(script, args, {
        execArgv: ['--expose-gc', ...execArgv],
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      }),
    );
  }

  get pid(): number {
    return this.proc.pid ?? 0;
  }

  send<T>(type: string, command: Record<string, unknown> = {}): Promise<T> {
    const id = this.next++;
    return new Promise<T>((resolve, reject) => {
      this.waiting.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.proc.send({ ...command, id, type });
    });
  }

  stats(gc = false): Promise<ProcessStats> {
    return this.send<ProcessStats>('stats', { gc });
  }

  async stop(): Promise<void> {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return;
    const exited = new Promise((r) => this.proc.once('exit', r));
    this.proc.kill('SIGTERM');
    await exited;
  }
}
