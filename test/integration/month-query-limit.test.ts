// Computing month queries are paced per client (http.monthComputationsPerSecond, default 1): a computation takes
// the client's turn, an answer cached for the data as it is is free, over the limit is 429 with Retry-After. The
// real daemon with the api role only, on a real embedded store: nothing writes unless the test does. (With the close
// role, its month-end job closes each month past its close time at the start, in the background, and its records move
// the data version the cache is keyed on: from 2026-12-01 that was November, during the first test's asks.)
import { createHash } from 'node:crypto';
import { get as httpGet, type IncomingHttpHeaders } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { createLogger } from '../../src/logging.js';
import { startDaemon, type Daemon } from '../../src/main.js';
import { monthWindow } from '../../src/sla/month.js';
import { EmbeddedObservationStore } from '../../src/store/embedded/embedded-store.js';
import { runCli } from '../support/cli.js';
import { observationsOf } from '../support/observations.js';

const ENV = { UC_ALICE_TOKEN: 'alice-secret-0123456789abcdef', UC_BOB_TOKEN: 'bob-secret-0123456789abcdefgh' };
const window = monthWindow('2026-10', 'UTC');
const DAY_MS = 86_400_000;

describe('the pace of computing month queries', () => {
  let dir: string;
  let daemon: Daemon;
  let writer: EmbeddedObservationStore;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'uc-month-limit-'));
    const storePath = join(dir, 'store.db');
    writeFileSync(
      join(dir, 'config.yaml'),
      `
roles: [api]
timezone: UTC
storage: { kind: embedded, path: ${storePath} }
http:
  listen: 127.0.0.1
  port: 0
  tokens:
    - { name: alice, secretEnv: UC_ALICE_TOKEN, scopes: [read] }
    - { name: bob, secretEnv: UC_BOB_TOKEN, scopes: [read] }
reports: { dir: ${join(dir, 'reports')} }
customers:
  - id: acme
    name: ACME
    tier: platinum
    servers:
      - { id: web-1, name: Web, checks: [{ name: http, kind: http, url: "http://127.0.0.1:9/" }] }
`,
    );
    writer = EmbeddedObservationStore.open(storePath);
    await writer.write(
      observationsOf({
        server: 'web-1',
        check: 'http',
        fromMs: window.fromMs,
        toMs: window.fromMs + DAY_MS,
        everyMs: 30_000,
      }),
    );
    daemon = await startDaemon({ config: loadConfig(join(dir, 'config.yaml'), ENV), logger: createLogger() });
  });
  afterAll(async () => {
    await daemon?.stop();
    await writer?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const ask = async (who: 'alice' | 'bob', path: string) => {
    const token = who === 'alice' ? ENV.UC_ALICE_TOKEN : ENV.UC_BOB_TOKEN;
    const response = await fetch(`${daemon.address}${path}`, { headers: { authorization: `Bearer ${token}` } });
    return { status: response.status, retryAfter: response.headers.get('retry-after'), body: await response.json() };
  };
  const counts = async () => {
    const text = await (await fetch(`${daemon.address}/metrics`)).text();
    const count = (answer: string) =>
      Number(
        text
          .split('\n')
          .find((l) => l.startsWith(`uptime_credits_http_month_queries_total{answer="${answer}"}`))
          ?.split(' ')[1],
      );
    return { cached: count('cached'), computed: count('computed'), limited: count('rate-limited') };
  };

  it('computes once per client turn, answers from the cache for free, and refuses the rest with 429', async () => {
    const first = await ask('alice', '/api/v1/credits?month=2026-10');
    expect(first.status).toBe(200);
    // The same question while the data stays as it is: the cached answer, as often as asked.
    for (let i = 0; i < 5; i++) expect(await ask('alice', '/api/v1/credits?month=2026-10')).toEqual(first);
    // Another month would compute: alice's turn is taken.
    const refused = await ask('alice', '/api/v1/credits?month=2026-09');
    expect(refused).toEqual({
      status: 429,
      retryAfter: '1',
      body: {
        error: { code: 'TOO_MANY_COMPUTATIONS', message: expect.stringContaining('monthComputationsPerSecond') },
      },
    });
    // The outages compute too, and share the turn.
    const outages = `/api/v1/outages?from=${new Date(window.fromMs).toISOString()}&to=${new Date(window.toMs).toISOString()}`;
    expect((await ask('alice', outages)).status).toBe(429);
    // Each client has its own turn.
    expect((await ask('bob', '/api/v1/credits?month=2026-09')).status).toBe(200);
    expect((await ask('bob', outages)).status).toBe(429);
    expect(await counts()).toEqual({ cached: 5, computed: 2, limited: 3 });

    // Another connection writes: alice's cached answer no longer holds, so asking again computes (after her turn).
    await writer.write(
      observationsOf({
        server: 'web-1',
        check: 'http',
        fromMs: window.fromMs + DAY_MS,
        toMs: window.fromMs + DAY_MS + 3_600_000,
        everyMs: 30_000,
        down: [{ fromMs: window.fromMs, toMs: window.toMs }],
      }),
    );
    await new Promise((resolve) => setTimeout(resolve, 1_000 * Number(refused.retryAfter)));
    const after = await ask('alice', '/api/v1/credits?month=2026-10');
    expect(after.status).toBe(200);
    expect(after.body).not.toEqual(first.body);
    expect(await counts()).toEqual({ cached: 5, computed: 3, limited: 3 });
    // The document the worker encodes is the one `credits --json` prints for the same data.
    const cli = await runCli(['credits', '--config', join(dir, 'config.yaml'), '--month', '2026-10', '--json'], {
      env: ENV,
    });
    expect(cli.code).toBe(0);
    expect(after.body).toEqual(JSON.parse(cli.stdout));
  });

  it('answers 304 without the document to a client that holds it (If-None-Match), by the SHA-256 of its bytes', async () => {
    const path = `${daemon.address}/api/v1/credits?month=2026-10`;
    const get = async (ifNoneMatch?: string) => {
      const response = await fetch(path, {
        headers: {
          authorization: `Bearer ${ENV.UC_BOB_TOKEN}`,
          // fetch asks for gzip unless told: the document as it is here (gzip has its own test below).
          'accept-encoding': 'identity',
          ...(ifNoneMatch === undefined ? {} : { 'if-none-match': ifNoneMatch }),
        },
      });
      const bytes = Buffer.from(await response.arrayBuffer());
      return {
        status: response.status,
        etag: response.headers.get('etag'),
        cacheControl: response.headers.get('cache-control'),
        bytes,
      };
    };
    await new Promise((resolve) => setTimeout(resolve, 1_000)); // bob's turn from the test above comes back
    const whole = await get();
    expect(whole.status).toBe(200);
    const tag = `"${createHash('sha256').update(whole.bytes).digest('base64url')}"`;
    expect(whole).toMatchObject({ etag: tag, cacheControl: 'private, no-cache' });

    const before = await counts();
    const held = await get(tag);
    expect(held).toEqual({ status: 304, etag: tag, cacheControl: 'private, no-cache', bytes: Buffer.alloc(0) });
    // The weak comparison If-None-Match uses, in a list, and "any".
    expect((await get(`"not-this-one", W/${tag}`)).status).toBe(304);
    expect((await get('*')).status).toBe(304);
    // Another tag, a malformed header, a tag only a prefix of this one's: the document.
    for (const other of ['"not-this-one"', 'garbage', `${tag.slice(0, -2)}"`]) {
      const answer = await get(other);
      expect(answer.status).toBe(200);
      expect(answer.bytes.equals(whole.bytes)).toBe(true);
    }
    // All answered from the cache: a 304 is as free as a 200.
    expect(await counts()).toEqual({ ...before, cached: before.cached + 6 });

    // New data outside October: the cache's version moves, the answer is computed again, and the same document keeps
    // its tag, so the client holding it still gets 304.
    const november = monthWindow('2026-11', 'UTC');
    await writer.write(
      observationsOf({
        server: 'web-1',
        check: 'http',
        fromMs: november.fromMs,
        toMs: november.fromMs + 60_000,
        everyMs: 30_000,
      }),
    );
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect((await get(tag)).status).toBe(304);
    expect(await counts()).toMatchObject({ computed: before.computed + 1 });

    // New data in October that changes the credits: the new document, with its own tag.
    await writer.write(
      observationsOf({
        server: 'web-1',
        check: 'http',
        fromMs: window.fromMs + 2 * DAY_MS,
        toMs: window.fromMs + 2 * DAY_MS + 3_600_000,
        everyMs: 30_000,
        down: [{ fromMs: window.fromMs, toMs: window.toMs }],
      }),
    );
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const changed = await get(tag);
    expect(changed.status).toBe(200);
    expect(changed.bytes.equals(whole.bytes)).toBe(false);
    expect(changed.etag).toBe(`"${createHash('sha256').update(changed.bytes).digest('base64url')}"`);
  });
  it('sends the document gzip-compressed to a client that accepts it, with its own tag, compressed once', async () => {
    const get = (headers: Record<string, string>) =>
      new Promise<{ status: number; headers: IncomingHttpHeaders; bytes: Buffer }>((resolve, reject) => {
        // node:http, which leaves the body as it came (fetch would inflate it).
        httpGet(
          `${daemon.address}/api/v1/credits?month=2026-10`,
          { headers: { authorization: `Bearer ${ENV.UC_ALICE_TOKEN}`, ...headers } },
          (response) => {
            const chunks: Buffer[] = [];
            response.on('data', (chunk: Buffer) => chunks.push(chunk));
            response.on('end', () =>
              resolve({ status: response.statusCode ?? 0, headers: response.headers, bytes: Buffer.concat(chunks) }),
            );
          },
        ).on('error', reject);
      });
    await new Promise((resolve) => setTimeout(resolve, 1_000)); // alice's turn comes back
    const plain = await get({});
    expect(plain.status).toBe(200);
    expect(plain.headers['content-encoding']).toBeUndefined();
    const hash = createHash('sha256').update(plain.bytes).digest('base64url');
    expect(plain.headers.etag).toBe(`"${hash}"`);
    expect(plain.headers.vary).toBe('accept-encoding');

    const before = await counts();
    const zipped = await get({ 'accept-encoding': 'gzip, deflate' });
    expect(zipped.status).toBe(200);
    expect(zipped.headers).toMatchObject({
      'content-encoding': 'gzip',
      'content-type': 'application/json; charset=utf-8',
      etag: `"${hash}-gzip"`,
      vary: 'accept-encoding',
    });
    expect(Number(zipped.headers['content-length'])).toBe(zipped.bytes.length);
    expect(gunzipSync(zipped.bytes).equals(plain.bytes)).toBe(true);
    expect(zipped.bytes.length).toBeLessThan(plain.bytes.length);
    // The same compressed bytes for the next client: compressed once per document.
    expect((await get({ 'accept-encoding': '*' })).bytes.equals(zipped.bytes)).toBe(true);

    // The gzip tag names the gzip representation; the plain one's tag does not.
    const held = await get({ 'accept-encoding': 'gzip', 'if-none-match': `"${hash}-gzip"` });
    expect(held).toMatchObject({ status: 304, bytes: Buffer.alloc(0) });
    expect(held.headers.etag).toBe(`"${hash}-gzip"`);
    expect((await get({ 'accept-encoding': 'gzip', 'if-none-match': `"${hash}"` })).status).toBe(200);
    expect((await get({ 'if-none-match': `"${hash}-gzip"` })).status).toBe(200);
    // Refused gzip: the document as it is.
    const refused = await get({ 'accept-encoding': 'gzip;q=0' });
    expect(refused.headers['content-encoding']).toBeUndefined();
    expect(refused.bytes.equals(plain.bytes)).toBe(true);
    // All from the cache: the coding changes nothing of what is computed.
    expect(await counts()).toEqual({ ...before, cached: before.cached + 6 });
  });
});
