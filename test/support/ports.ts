// Loopback ports for servers the tests and benchmarks start (influxd, prometheus, blackbox_exporter).
import { createServer } from 'node:net';

/** A loopback port free at the time of asking (bound to port 0, then released). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}
