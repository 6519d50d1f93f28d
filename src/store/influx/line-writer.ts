// One HTTP write of line protocol to InfluxDB, and the verdict on its answer. Our own writer rather than the
// client library's WriteApi: that one drops lines when its buffer overflows or on close, and never retries a 400
// (../shared/influxdb-notes.md). Here nothing is dropped: the outbox holds every line until a verdict says so.
import { Agent, request } from 'undici';
import { writePath, type InfluxConnection } from './connection.js';
import { writeVerdict, type WriteVerdict } from './write-verdict.js';

export interface LineWriter {
  write(lines: readonly string[]): Promise<WriteVerdict>;
  /**
   * Writes lines already joined by line breaks; `lines` splits them again only when the answer must name some.
   * A writer without it is given `write(lines())`.
   */
  writeJoined?(body: Buffer, lines: () => readonly string[]): Promise<WriteVerdict>;
  close(): Promise<void>;
}

/**
 * Errors of a request that never reached a server: nothing listens there (InfluxDB stopped or restarting), or no
 * way to the host. A timeout of a request that connected is not one: that server is there, only slow.
 */
const NOT_CONNECTED = new Set([
  'ECONNREFUSED',
  'UND_ERR_CONNECT_TIMEOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/** POSTs batches to the write endpoint of `connection`'s InfluxDB generation. */
export function createLineWriter(connection: InfluxConnection): LineWriter {
  // Several requests may be in flight (the forwarder sends batches side by side): one connection each, kept alive.
  const agent = new Agent({ keepAliveTimeout: 10_000, connect: { timeout: connection.timeoutMs } });
  const url = `${connection.url}${writePath(connection)}`;
  const headers: Record<string, string> = { 'content-type': 'text/plain; charset=utf-8' };
  if (connection.authorization) headers.authorization = connection.authorization;
  const post = async (body: string | Buffer, lines: () => readonly string[]): Promise<WriteVerdict> => {
    try {
      const response = await request(url, {
        method: 'POST',
        headers,
        body,
        dispatcher: agent,
        headersTimeout: connection.timeoutMs,
        bodyTimeout: connection.timeoutMs,
      });
      const text = await response.body.text();
      const retryAfter = response.headers['retry-after'];
      const ok = response.statusCode >= 200 && response.statusCode < 300; // the lines are needed only to name some
      return writeVerdict(
        response.statusCode,
        text,
        ok ? [] : lines(),
        Array.isArray(retryAfter) ? retryAfter[0] : retryAfter,
      );
    } catch (error) {
      const e = error as NodeJS.ErrnoException;
      const verdict: WriteVerdict = { kind: 'retry', reason: `${e.code ?? e.name}: ${e.message}` };
      if (e.code !== undefined && NOT_CONNECTED.has(e.code)) verdict.notConnected = true;
      return verdict;
    }
  };
  return {
    write: (lines) => post(lines.join('\n'), () => lines),
    writeJoined: post,
    close: () => agent.close(),
  };
}
