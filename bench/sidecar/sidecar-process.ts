/**
 * The sidecar under test, in its own process: the real `Sidecar` (refresh loop, HTTP API,
 * metrics) started as the CLI starts it, plus commands for the bench: the timing of every
 * refresh (and, from ipc.ts, CPU, memory and CPU profiles).
 *
 *   node --expose-gc dist/bench/sidecar/sidecar-process.js CONFIG
 */
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { loadBudgetConfig } from '../../src/sidecar/config/load';
import type { DecisionRequest } from '../../src/sidecar/decide/decision';
import { Sidecar } from '../../src/sidecar/sidecar';
import { serveCommands } from './ipc';

/** One `Sidecar.refresh()`, as the refresh loop ran it. */
export interface RefreshRecord {
  readonly wallMs: number;
  /** CPU of the whole process meanwhile (the refresh, and any requests served during it). */
  readonly cpuMs: number;
  /** Longest event-loop delay during the refresh: how long requests could wait behind it. */
  readonly stallMs: number;
  readonly ready: boolean;
  /** Date.now() at the end. */
  readonly endedAt: number;
}

const sidecar = new Sidecar(loadBudgetConfig(process.argv[2] ?? ''));
const refreshes: RefreshRecord[] = [];
let waiters: (() => void)[] = [];

function wakeAll(): void {
  for (const wake of waiters) wake();
  waiters = [];
}

async function until(done: () => boolean): Promise<void> {
  while (!done()) await new Promise<void>((wake) => waiters.push(wake));
}

// Times the loop's own refreshes: the loop calls this.refresh(), so the wrapper sees each one.
const refresh = sidecar.refresh.bind(sidecar);
// On only during refreshes: its 1 ms timer would tax the requests the bench measures.
const delay = monitorEventLoopDelay({ resolution: 1 });
sidecar.refresh = async (now?: number) => {
  delay.reset();
  delay.enable();
  const cpu = process.cpuUsage();
  const t0 = performance.now();
  await refresh(now);
  const used = process.cpuUsage(cpu);
  delay.disable();
  refreshes.push({
    wallMs: performance.now() - t0,
    cpuMs: (used.user + used.system) / 1000,
    stallMs: delay.max / 1e6,
    ready: sidecar.ready,
    endedAt: Date.now(),
  });
  wakeAll();
};

serveCommands({
  start: () => sidecar.start('127.0.0.1', 0),
  /** Waits until `count` refreshes have completed; answers every record so far. */
  refreshes: async (c) => {
    await until(() => refreshes.length >= Number(c.count ?? 0));
    return refreshes;
  },
  /** One more refresh now (the loop's next is an hour away: they never overlap). */
  refresh: async () => {
    await sidecar.refresh();
    return refreshes[refreshes.length - 1];
  },
  /** `Sidecar.decide()` alone, in a loop over the requests of `paths`: ns per decision. */
  decide: (c) => {
    const requests: DecisionRequest[] = (c.paths as string[]).map((path) => {
      const q = new URLSearchParams(path.slice(path.indexOf('?') + 1));
      return {
        user: q.get('user') ?? undefined,
        feature: q.get('feature') ?? undefined,
        plan: q.get('plan') ?? undefined,
      };
    });
    const rounds = Number(c.rounds);
    let allowed = 0;
    const started = process.hrtime.bigint();
    for (let r = 0; r < rounds; r++)
      for (const request of requests) if (sidecar.decide(request, Date.now()).allowed) allowed++;
    const ns = Number(process.hrtime.bigint() - started);
    return {
      nsPerDecision: ns / (rounds * requests.length),
      allowedShare: allowed / (rounds * requests.length),
    };
  },
});
