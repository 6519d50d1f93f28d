// Bench child: the HTTP targets every probe hits, on several loopback ports, answering 200 "ok" on any path.
// Runs in its own process so the prober's (or the peer's) CPU figures do not include serving the targets.
// With the argument `close` every answer closes its connection, so every probe must connect anew, as
// blackbox_exporter's do anyway: the fair comparison of the cost of a probe from scratch.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fromParent, tellParent, yieldCpuIfAsked } from './children.js';

yieldCpuIfAsked();

/** What the target server tells the parent once it listens. */
export interface TargetReady {
  ports: number[];
}

const portCount = Number(process.argv[2] ?? 16);
const closeEachConnection = process.argv[3] === 'close';
const servers: Server[] = [];
let requests = 0;
for (let i = 0; i < portCount; i++) {
  const server = createServer((_request, response) => {
    requests++;
    response.writeHead(200, {
      'content-type': 'text/plain',
      'content-length': '2',
      ...(closeEachConnection ? { connection: 'close' } : {}),
    });
    response.end('ok');
  });
  servers.push(server);
}
const ports = await Promise.all(
  servers.map(
    (server) =>
      new Promise<number>((resolve) =>
        server.listen(0, '127.0.0.1', 4_096, () => resolve((server.address() as AddressInfo).port)),
      ),
  ),
);
await tellParent('ready', { ports } satisfies TargetReady);
// The parent asks for the request count when it is done, then ends the process.
await fromParent<'count'>();
await tellParent('result', { requests });
for (const server of servers) server.closeAllConnections();
await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
process.disconnect();
