/**
 * The load generator, in its own process: N keep-alive HTTP/1.1 connections on raw sockets.
 * Raw sockets, not node:http's client, because that client costs more CPU per request than the
 * server it would measure: on two cores it would be the bottleneck of the bare server.
 *
 * Closed loop (max throughput): each connection sends its next request when the answer is in.
 * Open loop (`rate`): requests are due at fixed intervals and go out on a free connection; the
 * latency is from writing the request to the answer's last byte, and requests that found every
 * connection busy are counted as `queued` (their wait is part of `fromDueUs`).
 */
import { connect, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { serveCommands } from './ipc';

export interface LoadRun {
  readonly port: number;
  readonly connections: number;
  readonly warmupMs: number;
  readonly durationMs: number;
  /** Requests per second (open loop); absent: closed loop. */
  readonly rate?: number;
}

export interface Latencies {
  readonly p50: number;
  readonly p99: number;
  readonly p999: number;
  readonly max: number;
  readonly mean: number;
}

export interface LoadResult {
  /** Answers received in the measured period (closed loop), or to requests due in it (open). */
  readonly requests: number;
  readonly seconds: number;
  readonly statuses: Record<string, number>;
  /** µs from writing the request to the answer's last byte. */
  readonly latencyUs: Latencies;
  /** Open loop: µs from the time the request was due (includes timer lateness and queueing). */
  readonly fromDueUs?: Latencies;
  readonly queued: number;
  /** Connections opened again after the server closed one (idle past its keep-alive timeout). */
  readonly reconnects: number;
  /** Requests still unanswered 60 s after the run (then given up, with their state on stderr). */
  readonly unanswered: number;
  /** The generator's own CPU in the measured period, as a share of one core. */
  readonly cpuShare: number;
}

const CRLF2 = Buffer.from('\r\n\r\n');

type OnAnswer = (conn: Connection, status: number, sentAt: number) => void;

/**
 * One keep-alive connection with at most one request in flight. A server closes connections
 * idle past its keep-alive timeout (5 s for node:http), or never used past its headers timeout:
 * the next request then goes out on a new connection, and a request the server closed
 * unanswered is sent again (its latency counts from the first send), so no request is lost and
 * no run waits for ever.
 */
class Connection {
  private buffer: Buffer | undefined;
  private sentAt = 0;
  private socket!: Socket;
  private connected = false;
  /** The request in flight, until its answer is complete. */
  private pending: Buffer | undefined;
  private closing = false;
  /** Connections opened again after the server closed one. */
  reconnects = 0;
  /** When the request in flight was due (open loop). */
  due = 0;

  private constructor(
    private readonly port: number,
    private readonly onAnswer: OnAnswer,
  ) {}

  static open(port: number, onAnswer: OnAnswer): Promise<Connection> {
    const conn = new Connection(port, onAnswer);
    return new Promise((resolve, reject) => {
      conn.connect(() => resolve(conn)).once('error', reject);
    });
  }

  send(request: Buffer): void {
    this.sentAt = performance.now();
    this.pending = request;
    if (this.connected) this.socket.write(request);
    else this.reopen();
  }

  /** For the diagnostic of a run that does not end. */
  state(): string {
    return `connected ${this.connected}, pending ${this.pending !== undefined}, socket ${
      this.socket.destroyed ? 'destroyed' : this.socket.readyState
    }, buffered ${this.buffer?.length ?? 0} B, reconnects ${this.reconnects}`;
  }

  close(): void {
    this.closing = true;
    this.socket.destroy();
  }

  private connect(ready: () => void): Socket {
    const socket = connect(this.port, '127.0.0.1', () => {
      this.connected = true;
      ready();
    });
    this.socket = socket;
    this.buffer = undefined;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.data(chunk));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      if (socket !== this.socket || this.closing) return;
      this.connected = false;
      if (this.pending) this.reopen();
    });
    return socket;
  }

  private reopen(): void {
    this.reconnects++;
    this.connect(() => {
      if (this.pending) this.socket.write(this.pending);
    });
  }

  private data(chunk: Buffer): void {
    const buf = this.buffer ? Buffer.concat([this.buffer, chunk]) : chunk;
    const end = buf.indexOf(CRLF2);
    if (end < 0) {
      this.buffer = buf;
      return;
    }
    const head = buf.toString('latin1', 0, end);
    const length = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? 0);
    if (buf.length < end + 4 + length) {
      this.buffer = buf;
      return;
    }
    this.buffer = undefined;
    const status = Number(head.slice(9, 12));
    // node:http sends a connection that has not sent a request within its headersTimeout a 408
    // and closes it (the sidecar's is 10 s; the open loop leaves most of its 64 connections
    // unused). That answers nothing: a request in flight is sent again when the close comes.
    if (!this.pending || status === 408) return;
    this.pending = undefined;
    this.onAnswer(this, status, this.sentAt);
  }
}

function latencies(values: number[]): Latencies {
  const sorted = Float64Array.from(values).sort();
  const rank = (q: number) => sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)] ?? NaN;
  let sum = 0;
  for (const v of sorted) sum += v;
  return {
    p50: rank(0.5),
    p99: rank(0.99),
    p999: rank(0.999),
    max: sorted[sorted.length - 1] ?? NaN,
    mean: sum / sorted.length,
  };
}

let requests: Buffer[] = [];

async function run(opts: LoadRun): Promise<LoadResult> {
  if (!requests.length) throw new Error('no request paths');
  let next = 0;
  const request = () => requests[next++ % requests.length] as Buffer;
  const statuses: Record<string, number> = {};
  const latency: number[] = [];
  const fromDue: number[] = [];
  const begin = performance.now() + 50;
  const measureFrom = begin + opts.warmupMs;
  const measureTo = measureFrom + opts.durationMs;
  let count = 0;
  let queued = 0;
  let cpuAtStart: NodeJS.CpuUsage | undefined;
  let done!: () => void;
  const finished = new Promise<void>((r) => (done = r));
  let inFlight = 0;
  /** Requests are still to be sent (cleared by the last tick, or the first late answer). */
  let sending = true;
  const idle: Connection[] = [];
  const backlog: number[] = [];

  const onAnswer = (conn: Connection, status: number, sentAt: number) => {
    const now = performance.now();
    inFlight--;
    const measured = opts.rate
      ? conn.due >= measureFrom && conn.due < measureTo
      : now >= measureFrom && now <= measureTo;
    if (measured) {
      count++;
      statuses[status] = (statuses[status] ?? 0) + 1;
      latency.push((now - sentAt) * 1000);
      if (opts.rate) fromDue.push((now - conn.due) * 1000);
    }
    if (opts.rate) {
      const due = backlog.shift();
      if (due === undefined) idle.push(conn);
      else send(conn, due);
    } else if (now < measureTo) send(conn, now);
    else sending = false;
    if (!sending && inFlight === 0) done();
  };
  const send = (conn: Connection, due: number) => {
    conn.due = due;
    inFlight++;
    conn.send(request());
  };

  const conns = await Promise.all(
    Array.from({ length: opts.connections }, () => Connection.open(opts.port, onAnswer)),
  );
  setTimeout(() => (cpuAtStart = process.cpuUsage()), Math.max(0, measureFrom - performance.now()));

  const wait = Math.max(0, begin - performance.now());
  if (opts.rate) {
    const interval = 1000 / opts.rate;
    let due = begin;
    idle.push(...conns);
    const tick = () => {
      const now = performance.now();
      for (; due <= now && due < measureTo; due += interval) {
        const conn = idle.pop();
        if (conn) send(conn, due);
        else {
          if (due >= measureFrom) queued++;
          backlog.push(due);
        }
      }
      if (due < measureTo) setTimeout(tick, Math.max(0, due - performance.now()));
      else {
        sending = false;
        if (inFlight === 0 && !backlog.length) done();
      }
    };
    setTimeout(tick, wait);
  } else {
    setTimeout(() => conns.forEach((c) => send(c, performance.now())), wait);
  }
  // A run that has not ended a minute after its last request was due: say what is pending
  // instead of waiting for ever (a bench should end with figures or a reason).
  const watchdog = setTimeout(
    () => {
      process.stderr.write(
        `load: ${inFlight} requests unanswered, ${backlog.length} queued, 60 s after the run:\n${conns
          .map((c, i) => `  ${i}: ${c.state()}`)
          .join('\n')}\n`,
      );
      done();
    },
    measureTo - performance.now() + 60_000,
  );
  await finished;
  clearTimeout(watchdog);
  // From the start of the measured period to the last answer (in-flight requests included).
  const used = process.cpuUsage(cpuAtStart);
  const cpuShare = (used.user + used.system) / ((performance.now() - measureFrom) * 1000);
  for (const c of conns) c.close();
  return {
    requests: count,
    seconds: opts.durationMs / 1000,
    statuses,
    latencyUs: latencies(latency),
    fromDueUs: opts.rate ? latencies(fromDue) : undefined,
    queued,
    reconnects: conns.reduce((n, c) => n + c.reconnects, 0),
    unanswered: inFlight + backlog.length,
    cpuShare,
  };
}

serveCommands({
  /** The request paths, cycled through in order. */
  paths: (c) => {
    requests = (c.paths as string[]).map((p) =>
      Buffer.from(`GET ${p} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`),
    );
  },
  run: (c) => run(c as unknown as LoadRun),
});
