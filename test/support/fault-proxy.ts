// A fault-injecting HTTP proxy in front of a real influxd: writes can hang, fail, be cut or be partly refused, worded
// exactly as InfluxDB 1.6.7 words them; /query and /ping always pass through.
import { createServer, STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { Agent, request, type Dispatcher } from 'undici';

export type FaultMode =
  | { kind: 'pass' }
  /** Reads the request and never answers; the socket is destroyed when the mode leaves hang or on close(). */
  | { kind: 'hang' }
  /** Answers without forwarding; the body defaults to {"error":"<status text>"} (400: {"error":"bad request"}). */
  | { kind: 'status'; status: number; body?: string; headers?: Record<string, string> }
  /** Forwards the other lines (one POST) and answers 400 naming the refused ones, as a 1.x partial write does. */
  | { kind: 'refuse-lines'; refuse: (line: string) => boolean }
  /** 413 when the request body (as sent, so compressed if gzip) exceeds `bytes`, as influxd's max-body-size. */
  | { kind: 'max-body'; bytes: number }
  /** Reads part of the request body, then destroys the socket: the client sees a reset. */
  | { kind: 'cut' };

export interface FaultProxy {
  url: string;
  setMode(mode: FaultMode): void;
  /** Faults apply to POST /write (and /api/v2/write) only; /query and /ping always pass through. */
  readonly stats: {
    writeRequests: number;
    byStatus: Map<number, number>;
    linesForwarded: number;
    linesRefused: number;
    cut: number;
    hung: number;
  };
  close(): Promise<void>;
}

// accept-encoding stays behind so influxd answers plain bodies that can be relayed as they are.
const REQUEST_HEADERS = ['authorization', 'content-type', 'content-encoding', 'accept'];
const RESPONSE_HEADERS = ['content-type', 'x-influxdb-version', 'x-influxdb-build', 'x-influxdb-error', 'retry-after'];

interface Upstream {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

/** A 1.x error answer: Go's JSON encoder ends the body with a newline, and the message is repeated in X-Influxdb-Error. */
function influxError(res: ServerResponse, status: number, message: string): void {
  // Go's net/http turns newlines in header values into spaces; node would throw on them.
  res.writeHead(status, { 'content-type': 'application/json', 'x-influxdb-error': message.replaceAll('\n', ' ') });
  res.end(`${JSON.stringify({ error: message })}\n`);
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.once('end', () => resolve(Buffer.concat(chunks)));
    req.once('error', reject);
  });
}

/** The line-protocol lines of a write body; influxd skips blank lines, so do we. */
function linesOf(body: Buffer, encoding: string | undefined): string[] {
  const text = (encoding === 'gzip' ? gunzipSync(body) : body).toString('utf8');
  return text.split('\n').filter((line) => line.trim() !== '');
}

export async function startFaultProxy(upstreamUrl: string): Promise<FaultProxy> {
  const upstreamBase = upstreamUrl.replace(/\/$/, '');
  const agent = new Agent({ keepAliveTimeout: 10_000 });
  const hung = new Set<Socket>();
  const stats = {
    writeRequests: 0,
    byStatus: new Map<number, number>(),
    linesForwarded: 0,
    linesRefused: 0,
    cut: 0,
    hung: 0,
  };
  let mode: FaultMode = { kind: 'pass' };

  const forward = async (req: IncomingMessage, body: Buffer, plain = false): Promise<Upstream> => {
    const headers: Record<string, string> = {};
    for (const name of REQUEST_HEADERS) {
      const value = req.headers[name];
      // A rewritten (refuse-lines) body is sent as plain text, whatever the client's encoding was.
      if (typeof value === 'string' && !(plain && name === 'content-encoding')) headers[name] = value;
    }
    const response = await request(`${upstreamBase}${req.url ?? '/'}`, {
      dispatcher: agent,
      method: (req.method ?? 'GET') as Dispatcher.HttpMethod,
      headers,
      body: body.length > 0 ? body : null,
    });
    const relayed: Record<string, string> = {};
    for (const name of RESPONSE_HEADERS) {
      const value = response.headers[name];
      if (typeof value === 'string') relayed[name] = value;
    }
    return { status: response.statusCode, headers: relayed, body: Buffer.from(await response.body.arrayBuffer()) };
  };
  const relay = (res: ServerResponse, upstream: Upstream) => {
    res.writeHead(upstream.status, upstream.headers);
    res.end(upstream.body);
  };
  const passWrite = async (req: IncomingMessage, res: ServerResponse, body: Buffer) => {
    stats.linesForwarded += linesOf(body, req.headers['content-encoding']).length;
    relay(res, await forward(req, body));
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const isWrite = req.method === 'POST' && /^\/(api\/v2\/)?write(\?|$)/.test(req.url ?? '');
    if (!isWrite) return relay(res, await forward(req, await readBody(req)));

    // The mode is fixed when the request arrives, so a setMode during its body read does not split it.
    const fault = mode;
    stats.writeRequests++;
    res.once('finish', () => stats.byStatus.set(res.statusCode, (stats.byStatus.get(res.statusCode) ?? 0) + 1));
    switch (fault.kind) {
      case 'cut': {
        stats.cut++;
        const cut = () => req.socket.destroy();
        req.once('data', cut);
        req.once('end', cut); // an empty body has no data event
        return;
      }
      case 'hang': {
        stats.hung++;
        const socket = req.socket;
        hung.add(socket);
        socket.once('close', () => hung.delete(socket));
        req.resume(); // read the request so the client is left waiting for the answer, not to send
        return;
      }
    }
    const body = await readBody(req);
    switch (fault.kind) {
      case 'pass':
        return passWrite(req, res, body);
      case 'status': {
        const error = STATUS_CODES[fault.status]?.toLowerCase() ?? 'error';
        res.writeHead(fault.status, { 'content-type': 'application/json', ...fault.headers });
        res.end(fault.body ?? `${JSON.stringify({ error })}\n`);
        return;
      }
      case 'max-body':
        // influxd 1.x answers exactly this (max-body-size); below the limit the write goes through.
        if (body.length > fault.bytes) return influxError(res, 413, 'Request Entity Too Large');
        return passWrite(req, res, body);
      case 'refuse-lines': {
        const lines = linesOf(body, req.headers['content-encoding']);
        const refused = lines.filter((line) => fault.refuse(line));
        if (refused.length === 0) return passWrite(req, res, body);
        const kept = lines.filter((line) => !refused.includes(line));
        stats.linesRefused += refused.length;
        // 1.6.7's wording: one "unable to parse" per bad line, joined by newlines. When some lines are kept it is a
        // "partial write" ending in dropped=0 (parse failures are not counted as dropped); when none are, there is no prefix.
        const failures = refused.map((line) => `unable to parse '${line}': bad timestamp`).join('\n');
        if (kept.length === 0) return influxError(res, 400, failures);
        stats.linesForwarded += kept.length;
        const upstream = await forward(req, Buffer.from(kept.join('\n')), true);
        // An upstream failure (no database, auth) is what influxd would report first: relay it as is.
        if (upstream.status < 200 || upstream.status > 299) return relay(res, upstream);
        return influxError(res, 400, `partial write: ${failures} dropped=0`);
      }
    }
  };

  const server = createServer((req, res) => {
    // An unreachable upstream gives the client no HTTP answer at all, as influxd being down would.
    handle(req, res).catch(() => req.socket.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as { port: number };

  const releaseHung = () => {
    for (const socket of hung) socket.destroy();
    hung.clear();
  };
  return {
    url: `http://127.0.0.1:${port}`,
    stats,
    setMode(next) {
      mode = next;
      if (next.kind !== 'hang') releaseHung();
    },
    async close() {
      releaseHung();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
      // destroy rather than close: a test ending mid-request should not wait for influxd.
      await agent.destroy();
    },
  };
}
