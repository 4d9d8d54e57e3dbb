import http from 'node:http';
import https from 'node:https';

/** An HTTP answer of the sidecar: its status and its body parsed as JSON (undefined if not JSON). */
export interface SidecarAnswer {
  readonly status: number;
  readonly body: unknown;
}

/** Answers above this size are not the sidecar's: they are cut off. */
const MAX_ANSWER_BYTES = 64 * 1024;

/**
 * POSTs JSON to the budget sidecar over keep-alive connections. node:http rather than fetch: the
 * reservation is on every LLM call's path, and a pooled socket with no per-call dispatcher setup
 * costs least. Rejects on network errors, timeouts and oversized answers.
 */
export class SidecarClient {
  private readonly agent: http.Agent;
  private readonly request: typeof http.request;
  private readonly url: URL;
  private readonly basePath: string;
  private readonly headers: Record<string, string>;

  constructor(
    url: string,
    private readonly timeoutMs: number,
    token?: string,
  ) {
    this.url = new URL(url);
    const secure = this.url.protocol === 'https:';
    this.request = secure ? https.request : http.request;
    this.agent = new (secure ? https.Agent : http.Agent)({ keepAlive: true });
    // A sidecar behind a path prefix (http://gateway/budget) keeps it.
    this.basePath = this.url.pathname.replace(/\/+$/, '');
    this.headers = { 'content-type': 'application/json', accept: 'application/json' };
    if (token) this.headers.authorization = `Bearer ${token}`;
  }

  /** The sidecar's base URL, for messages. */
  get origin(): string {
    return this.url.origin + this.basePath;
  }

  post(path: string, payload: object): Promise<SidecarAnswer> {
    const data = JSON.stringify(payload);
    return new Promise((resolve, reject) => {
      const req = this.request(
        {
          agent: this.agent,
          protocol: this.url.protocol,
          hostname: this.url.hostname,
          port: this.url.port,
          path: this.basePath + path,
          method: 'POST',
          headers: { ...this.headers, 'content-length': String(Buffer.byteLength(data)) },
        },
        (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (chunk: Buffer) => {
            size += chunk.length;
            if (size > MAX_ANSWER_BYTES) req.destroy(new Error('answer larger than 64 KiB'));
            else chunks.push(chunk);
          });
          res.on('end', () => {
            clearTimeout(timer);
            resolve({ status: res.statusCode ?? 0, body: parseJson(Buffer.concat(chunks)) });
          });
          res.on('error', fail);
        },
      );
      const fail = (err: Error): void => {
        clearTimeout(timer);
        reject(err);
      };
      const timer = setTimeout(
        () => req.destroy(new Error(`no answer within ${this.timeoutMs} ms`)),
        this.timeoutMs,
      );
      req.on('error', fail);
      req.end(data);
    });
  }
}

function parseJson(raw: Buffer): unknown {
  try {
    return JSON.parse(raw.toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
}
