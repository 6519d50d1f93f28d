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

interface Captured {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

describe('InfluxDB write requests', () => {
  const captured: Captured[] = [];
  let url: string;
  let status = 204;
  const server = createServer((request, response) => {
    let body = '';
    request.on('data', (c) => (body += c));
    request.on('end', () => {
      if (!request.url!.startsWith('/query')) captured.push({ method: request.method!, url: request.url!, headers: request.headers, body });
      // The store asks /query whether an old observation's key is already held: nothing is.
      if (request.url!.startsWith('/query')) return void response.setHeader('content-type', 'application/json').end('{"results":[{"statement_id":0}]}');
      response.statusCode = status;
      response.end(status === 400 ? JSON.stringify({ error: `partial write: unable to parse '${body}': bad timestamp dropped=0` }) : '');
    });
  });
  beforeAll(async () => {
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  async function writeOne(config: Record<string, unknown>) {
    captured.length = 0;
    const dir = mkdtempSync(join(tmpdir(), 'uc-v2-'));
    const connection = influxConnection({ url, org: '', measurement: 'uptime_observation', batchSize: 100, flushInterval: 1_000, timeout: 2_000, apiVersion: 2, ...config } as never, { INFLUX_TOKEN: 'from-env' });
    const store = OutboxedInfluxStore.open(join(dir, 'o.db'), connection, createLogger(), 100);
    await store.write([{ timeMs: Date.parse('2026-10-03T12:00:00Z'), server: 'oci-101', location: 'waw', check: '', up: false, latencyMs: 10_000, error: 'timeout' }]);
    await store.drain(5_000);
    const backlog = await store.backlog();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
    return backlog;
  }

  it('v2 (1.8+, 2.x, Cloud): /api/v2/write with org, bucket, ms precision and a token', async () => {
    expect(await writeOne({ apiVersion: 2, token: 'secret-token', org: 'acme', bucket: 'uptime' })).toBe(0);
    const request = captured[0]!;
    expect(request.method).toBe('POST');
    expect(request.url).toBe('/api/v2/write?org=acme&bucket=uptime&precision=ms');
    expect(request.headers.authorization).toBe('Token secret-token');
    expect(request.body).toBe('uptime_observation,check=-,location=waw,server=oci-101 error="timeout",gap_ms=-1i,latency_ms=10000i,up=0i 1791028800000');
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
    status = 400;
    try {
      expect(await writeOne({ apiVersion: 1, database: 'uptime' })).toBe(0);
    } finally {
      status = 204;
    }
  });
});
