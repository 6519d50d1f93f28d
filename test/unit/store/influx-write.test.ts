// The request each InfluxDB generation receives, captured by a loopback HTTP server.
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { influxConnection } from '../../../src/store/influx/connection.js';
import { OutboxedInfluxStore } from '../../../src/store/influx/influx-store.js';
import { createLogger } from '../../../src/logging.js';
import type { Observation } from '../../../src/sla/types.js';

interface Captured {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
  /** The status this server answered. */
  status: number;
}

const AT = Date.parse('2026-10-03T12:00:00Z');
const observation = (server: string, timeMs = AT): Observation => ({
  timeMs,
  server,
  location: 'waw',
  check: '',
  up: false,
  latencyMs: 10_000,
  error: 'timeout',
});

describe('InfluxDB write requests', () => {
  const captured: Captured[] = [];
  let url: string;
  const server = createServer((request, response) => {
    let body = '';
    request.on('data', (c) => (body += c));
    request.on('end', () => {
      // The store asks /query whether an old observation's key is already held: nothing is.
      if (request.url!.startsWith('/query'))
        return void response.setHeader('content-type', 'application/json').end('{"results":[{"statement_id":0}]}');
      // Lines of the server "bad" are refused by name, as InfluxDB 1.x words a partial write; the others are taken.
      const refused = body.split('\n').filter((line) => line.includes('server=bad'));
      const status = refused.length > 0 ? 400 : 204;
      captured.push({ method: request.method!, url: request.url!, headers: request.headers, body, status });
      response.statusCode = status;
      response.end(
        status === 400
          ? JSON.stringify({
              error: `partial write: ${refused.map((line) => `unable to parse '${line}': bad timestamp`).join('\n')} dropped=0`,
            })
          : '',
      );
    });
  });
  beforeAll(async () => {
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  /** Opens a store on `config`, runs `use` with it, and returns its backlog and parked lines after draining. */
  async function withStore(config: Record<string, unknown>, use: (store: OutboxedInfluxStore) => Promise<void>) {
    captured.length = 0;
    const dir = mkdtempSync(join(tmpdir(), 'uc-v2-'));
    const connection = influxConnection(
      {
        url,
        org: '',
        measurement: 'uptime_observation',
        batchSize: 100,
        timeout: 2_000,
        apiVersion: 2,
        ...config,
      } as never,
      { INFLUX_TOKEN: 'from-env' },
    );
    const store = OutboxedInfluxStore.open(join(dir, 'o.db'), connection, createLogger(), {
      batchSize: 100,
      gapFloorMs: 90_000,
    });
    try {
      await use(store);
      await store.drain(5_000);
      return {
        backlog: await store.backlog(),
        parked: store.queue.parkedRows(10).map((row) => ({ line: row.line, reason: row.reason })),
        health: store.health(),
      };
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }
  const writeOne = async (config: Record<string, unknown>) =>
    (await withStore(config, async (store) => void (await store.write([observation('oci-101')])))).backlog;

  it('v2 (1.8+, 2.x, Cloud): /api/v2/write with org, bucket, ms precision and a token', async () => {
    expect(await writeOne({ apiVersion: 2, token: 'secret-token', org: 'acme', bucket: 'uptime' })).toBe(0);
    const request = captured[0]!;
    expect(request.method).toBe('POST');
    expect(request.url).toBe('/api/v2/write?org=acme&bucket=uptime&precision=ms');
    expect(request.headers.authorization).toBe('Token secret-token');
    expect(request.body).toBe(
      'uptime_observation,check=-,location=waw,server=oci-101 error="timeout",gap_mark_ms=9007199254740991i,latency_ms=10000i,up=0i 1791028800000',
    );
  });

  it('v2 with user and password on 1.8+: "Token user:pass"; token from the environment', async () => {
    await writeOne({ apiVersion: 2, username: 'u', password: 'p', bucket: 'db/rp' });
    expect(captured[0]!.url).toBe('/api/v2/write?org=&bucket=db%2Frp&precision=ms');
    expect(captured[0]!.headers.authorization).toBe('Token u:p');
    await writeOne({ apiVersion: 3, tokenEnv: 'INFLUX_TOKEN', database: 'uptime' });
    expect(captured[0]!.url).toBe('/api/v2/write?org=&bucket=uptime&precision=ms');
    expect(captured[0]!.headers.authorization).toBe('Token from-env');
  });

  it('v1 (before 1.8): /write?db=&rp= with Basic auth', async () => {
    await writeOne({ apiVersion: 1, database: 'uptime', retentionPolicy: 'autogen', username: 'u', password: 'p' });
    expect(captured[0]!.url).toBe('/write?db=uptime&precision=ms&rp=autogen');
    expect(captured[0]!.headers.authorization).toBe(`Basic ${Buffer.from('u:p').toString('base64')}`);
  });

  it('a line InfluxDB refuses by name (400 naming it) is parked and does not block the queue', async () => {
    const bad =
      'uptime_observation,check=-,location=waw,server=bad error="timeout",gap_mark_ms=9007199254740991i,latency_ms=10000i,up=0i 1791028800000';
    const good = (server: string, timeMs: number) =>
      `uptime_observation,check=-,location=waw,server=${server} error="timeout",gap_mark_ms=9007199254740991i,latency_ms=10000i,up=0i ${timeMs}`;
    const after = await withStore({ apiVersion: 1, database: 'uptime' }, async (store) => {
      // A good line queued behind the bad one in the same batch, and one written after the bad one was parked.
      await store.write([observation('bad'), observation('oci-101')]);
      expect(await store.drain(5_000)).toBe(true);
      await store.write([observation('oci-102', AT + 60_000)]);
    });
    expect(after.backlog).toBe(0);
    expect(after.parked).toEqual([{ line: bad, reason: 'unable to parse: bad timestamp' }]);
    expect(after.health).toMatchObject({ waiting: 0, parked: 1 });
    // Both good lines reached InfluxDB in a write it took (204); the bad one was sent once and never again.
    const taken = captured.filter((c) => c.status === 204).flatMap((c) => c.body.split('\n'));
    expect(taken).toEqual([good('oci-101', AT), good('oci-102', AT + 60_000)]);
    expect(captured.flatMap((c) => c.body.split('\n')).filter((line) => line === bad)).toHaveLength(1);
  });
});
