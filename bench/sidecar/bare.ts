/**
 * The baseline: a bare node:http server answering a constant, a copy of one real sidecar answer
 * (same status, headers and body), so the bench's ratio is what deciding costs on top of serving
 * the same bytes over HTTP.
 */
import { createServer, type OutgoingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serveCommands } from './ipc';

let status = 200;
let headers: OutgoingHttpHeaders = {};
let body = '';

const server = createServer((_req, res) => {
  res.writeHead(status, headers);
  res.end(body);
});
server.keepAliveTimeout = 65_000;

serveCommands({
  answer: (c) => {
    ({ status, headers, body } = c as unknown as {
      status: number;
      headers: OutgoingHttpHeaders;
      body: string;
    });
  },
  listen: () =>
    new Promise<string>((resolve) =>
      server.listen(0, '127.0.0.1', () => {
        resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
      }),
    ),
});
