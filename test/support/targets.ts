// Real loopback targets for probes: well-behaved, failing and hostile HTTP endpoints, TCP and TLS listeners.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

function route(request: IncomingMessage, response: ServerResponse): void {
  switch (request.url) {
    case '/ok':
      response.end('all systems ok');
      return;
    case '/error':
      response.statusCode = 500;
      response.end('broken');
      return;
    case '/redirect':
      response.statusCode = 302;
      response.setHeader('location', '/ok');
      response.end();
      return;
    case '/slow-headers':
      return; // never answers: the probe's deadline must end it
    case '/endless': {
      response.writeHead(200, { 'content-type': 'text/plain' });
      const chunk = Buffer.alloc(64 * 1024, 'x');
      const pump = () => {
        while (!response.destroyed && response.write(chunk));
        if (!response.destroyed) response.once('drain', pump);
      };
      pump();
      return;
    }
    default:
      response.statusCode = 404;
      response.end('not found');
  }
}

export interface Target {
  url: string;
  port: number;
  close(): Promise<void>;
}

const listen = (server: Server, scheme: string): Promise<Target> =>
  new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      resolve({
        url: `${scheme}://127.0.0.1:${port}`,
        port,
        close: () =>
          new Promise<void>((done) => {
            server.closeAllConnections();
            server.close(() => done());
          }),
      });
    });
  });

/** An HTTP target with /ok, /error, /redirect, /slow-headers and /endless. */
export function startHttpTarget(): Promise<Target> {
  return listen(createServer(route), 'http');
}

/** A self-signed certificate for localhost valid for `days` days, made with the openssl CLI. */
export function selfSignedCertificate(days: number): { key: string; cert: string } {
  const dir = mkdtempSync(join(tmpdir(), 'uc-cert-'));
  try {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', String(days), '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1'], { stdio: 'ignore' });
    return { key: readFileSync(join(dir, 'key.pem'), 'utf8'), cert: readFileSync(join(dir, 'cert.pem'), 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** An HTTPS target with a self-signed certificate valid for `days` days. */
export function startHttpsTarget(days = 30): Promise<Target> {
  return listen(createHttpsServer(selfSignedCertificate(days), route), 'https');
}

/** A port on which nothing listens (bound, then released). */
export async function closedPort(): Promise<number> {
  const target = await startHttpTarget();
  await target.close();
  return target.port;
}
