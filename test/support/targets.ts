// Real loopback targets for probes: well-behaved, failing and hostile HTTP endpoints, TCP and TLS listeners.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createSocket } from 'node:dgram';
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createTcpServer, type AddressInfo, type Socket } from 'node:net';
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
    case '/trickle': {
      // Headers at once, then one byte every 50 ms forever: no idle timeout fires, only the deadline ends it.
      response.writeHead(200, { 'content-type': 'text/plain' });
      const timer = setInterval(() => response.write('x'), 50);
      response.once('close', () => clearInterval(timer));
      return;
    }
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

/** An HTTP target with /ok, /error, /redirect, /slow-headers, /trickle and /endless. */
export function startHttpTarget(): Promise<Target> {
  return listen(createServer(route), 'http');
}

/** A self-signed certificate for localhost valid for `days` days, made with the openssl CLI. */
export function selfSignedCertificate(days: number): { key: string; cert: string } {
  const dir = mkdtempSync(join(tmpdir(), 'uc-cert-'));
  try {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
        '-days',
        String(days),
        '-subj',
        '/CN=localhost',
        '-addext',
        'subjectAltName=DNS:localhost,IP:127.0.0.1',
      ],
      { stdio: 'ignore' },
    );
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

/** A TCP listener that accepts connections and never says a word (no HTTP answer, no TLS handshake). */
export function startSilentTcpTarget(): Promise<Target> {
  const sockets = new Set<Socket>();
  const server = createTcpServer((socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      resolve({
        url: `tcp://127.0.0.1:${port}`,
        port,
        close: () =>
          new Promise<void>((done) => {
            for (const socket of sockets) socket.destroy();
            server.close(() => done());
          }),
      });
    });
  });
}

/**
 * A tiny DNS server on UDP loopback answering A queries from `records` (name -> IPv4 addresses); other names get
 * NXDOMAIN. With `silent` it reads queries and never answers.
 */
export function startDnsTarget(records: Record<string, string[]>, options: { silent?: boolean } = {}): Promise<Target> {
  const socket = createSocket('udp4');
  socket.on('message', (query, peer) => {
    if (options.silent || query.length < 12) return;
    // The question: labels from byte 12 up to a zero byte, then type and class (4 bytes).
    const labels: string[] = [];
    let offset = 12;
    while (offset < query.length && query[offset] !== 0) {
      const length = query[offset]!;
      labels.push(query.toString('latin1', offset + 1, offset + 1 + length));
      offset += 1 + length;
    }
    const questionEnd = offset + 5;
    const type = query.readUInt16BE(offset + 1);
    const addresses = type === 1 ? (records[labels.join('.').toLowerCase()] ?? []) : [];
    const known = labels.join('.').toLowerCase() in records;
    const header = Buffer.alloc(12);
    query.copy(header, 0, 0, 2); // the id
    header.writeUInt16BE(known ? 0x8180 : 0x8183, 2); // response, recursion desired+available; rcode 0 or NXDOMAIN
    header.writeUInt16BE(1, 4); // one question
    header.writeUInt16BE(addresses.length, 6);
    const answers = addresses.map((address) => {
      const answer = Buffer.alloc(16);
      answer.writeUInt16BE(0xc00c, 0); // name: pointer to the question
      answer.writeUInt16BE(1, 2); // type A
      answer.writeUInt16BE(1, 4); // class IN
      answer.writeUInt32BE(60, 6); // TTL
      answer.writeUInt16BE(4, 10);
      for (const [i, part] of address.split('.').entries()) answer.writeUInt8(Number(part), 12 + i);
      return answer;
    });
    socket.send(Buffer.concat([header, query.subarray(12, questionEnd), ...answers]), peer.port, peer.address);
  });
  return new Promise((resolve) => {
    socket.bind(0, '127.0.0.1', () => {
      const { port } = socket.address();
      resolve({
        url: `dns://127.0.0.1:${port}`,
        port,
        close: () => new Promise<void>((done) => socket.close(() => done())),
      });
    });
  });
}
