// The fastify app as the daemon builds it (buildServer, app.inject): named tokens and their scopes, refusals counted,
// logged and slowed per address, the readiness reasons only for a token, 405 with Allow, the body limit checked after
// the token, the OpenAPI shapes, and the ops login with the same tokens and sessions that logging out ends.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { pino } from 'pino';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../../src/clock.js';
import { ComputationsClosedError } from '../../../src/close/month-computations.js';
import { parseConfig } from '../../../src/config/load.js';
import type { ApiToken } from '../../../src/http/auth.js';
import { BODY_LIMIT_BYTES, buildServer, type ServerDeps } from '../../../src/http/server.js';
import { createMetrics, type Metrics } from '../../../src/metrics/metrics.js';
import { checkReadiness } from '../../../src/readiness.js';
import { createProbeLoop, type ProbeLoop } from '../../../src/scheduler/probe-loop.js';
import { NO_AVAILABILITY } from '../../../src/sla/credits.js';
import type { WebDeps } from '../../../src/web/routes.js';
import { EmbeddedObservationStore } from '../../../src/store/embedded/embedded-store.js';
import { StoreUnavailableError } from '../../../src/store/store.js';
import { apiWithoutDaemon } from '../../support/api-deps.js';
import { capturedLog } from '../../support/captured-log.js';

const TOKENS: ApiToken[] = [
  { name: 'prometheus', scopes: ['metrics'], secret: 'prometheus-secret-0123456789' },
  { name: 'viewer', scopes: ['read'], secret: 'viewer-secret-0123456789abc' },
  { name: 'finance-bot', scopes: ['read', 'close'], secret: 'finance-secret-0123456789ab' },
];
const [PROMETHEUS, VIEWER, FINANCE] = TOKENS.map((t) => t.secret) as [string, string, string];

const unused = async (): Promise<never> => {
  throw new Error('not reached in these tests');
};

interface Built {
  app: FastifyInstance;
  metrics: Metrics;
  logs: Record<string, unknown>[];
}

/** buildServer with real metrics and a logger into `logs`; the API's parts behind are not reached here. */
async function build(
  options: Partial<
    Pick<ServerDeps, 'tokens' | 'protectMetrics' | 'checkReady' | 'trustProxy' | 'monthComputationsPerSecond'>
  > & {
    web?: boolean | Partial<WebDeps>;
    api?: Partial<ServerDeps['api']>;
  } = {},
): Promise<Built> {
  const { logger, lines: logs } = capturedLog();
  const metrics = createMetrics();
  const app = await buildServer({
    metrics,
    logger,
    tokens: options.tokens ?? TOKENS,
    protectMetrics: options.protectMetrics ?? false,
    ...(options.trustProxy === undefined ? {} : { trustProxy: options.trustProxy }),
    ...(options.monthComputationsPerSecond === undefined
      ? {}
      : { monthComputationsPerSecond: options.monthComputationsPerSecond }),
    checkReady: options.checkReady ?? (async () => ({ degraded: [] })),
    api: { ...apiWithoutDaemon('not reached in these tests'), ...options.api },
    ...(options.web
      ? {
          web: {
            timeZone: 'Europe/Warsaw',
            secureCookies: false,
            now: () => Date.now(),
            fleet: () => {
              throw new Error('not reached in these tests');
            },
            timeline: unused,
            months: () => [],
            monthFigures: () => undefined,
            reportsDir: tmpdir(),
            customers: [],
            ...(options.web === true ? {} : options.web),
          },
        }
      : {}),
  });
  return { app, metrics, logs };
}

const bearer = (token: string, scheme = 'Bearer') => ({ authorization: `${scheme} ${token}` });
const exposition = async (metrics: Metrics) => Buffer.concat((await metrics.exposition()).chunks).toString();
const failures = async (metrics: Metrics, group: string, reason: string) => {
  const line = (await exposition(metrics))
    .split('\n')
    .find((l) => l.startsWith(`uptime_credits_http_auth_failures_total{route_group="${group}",reason="${reason}"} `));
  return Number(line?.split(' ')[1]);
};

/** Logs in to the ops pages with `token`: the session cookie's value. */
async function opsSession(app: FastifyInstance, token: string): Promise<string> {
  const response = await app.inject({
    method: 'POST',
    url: '/ui/login',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: `token=${encodeURIComponent(token)}`,
  });
  return response.cookies.find((c) => c.name === 'uc_ops')!.value;
}

/** The credits route's answer when its month computation throws `error`, and what was logged meanwhile. */
async function creditsFailingWith(error: Error) {
  const built = await build({
    api: {
      credits: async () => {
        throw error;
      },
    },
  });
  try {
    const response = await built.app.inject({ url: '/api/v1/credits?month=2026-11', headers: bearer(VIEWER) });
    return { response, logs: built.logs };
  } finally {
    await built.app.close();
  }
}

/** The levels of the log lines with message `msg`. */
const levelsOf = (logs: readonly Record<string, unknown>[], msg: string) =>
  logs.filter((l) => l.msg === msg).map((l) => l.level);
const errorLines = (logs: readonly Record<string, unknown>[]) => logs.filter((l) => Number(l.level) >= 50);

describe('named tokens and scopes', () => {
  let built: Built;
  beforeAll(async () => {
    built = await build();
  });
  afterAll(() => built.app.close());

  it('lets a read token read, and refuses it a change with 403 FORBIDDEN before the body is read', async () => {
    expect((await built.app.inject({ url: '/api/v1/months', headers: bearer(VIEWER) })).statusCode).toBe(200);
    const close = await built.app.inject({
      method: 'POST',
      url: '/api/v1/months/2026-10/close',
      headers: bearer(VIEWER),
    });
    expect(close.statusCode).toBe(403);
    expect(close.json()).toEqual({ error: { code: 'FORBIDDEN', message: 'this token does not have the close scope' } });
    const restate = await built.app.inject({
      method: 'POST',
      url: '/api/v1/months/2026-10/restate',
      headers: bearer(PROMETHEUS),
      payload: { reason: 'x' },
    });
    expect(restate.statusCode).toBe(403);
    expect((await built.app.inject({ url: '/api/v1/months', headers: bearer(PROMETHEUS) })).statusCode).toBe(403);
    // Records change issued months: the close scope, like a restatement.
    expect(
      (await built.app.inject({ method: 'POST', url: '/api/v1/incidents', headers: bearer(VIEWER), payload: {} }))
        .statusCode,
    ).toBe(403);
    expect((await built.app.inject({ url: '/api/v1/incidents', headers: bearer(VIEWER) })).statusCode).toBe(200);
    expect(await failures(built.metrics, 'api', 'scope')).toBe(4);
  });

  it('takes the scheme in any case', async () => {
    for (const scheme of ['bearer', 'BEARER', 'Bearer']) {
      expect([
        scheme,
        (await built.app.inject({ url: '/api/v1/servers', headers: bearer(VIEWER, scheme) })).statusCode,
      ]).toEqual([scheme, 200]);
    }
    expect((await built.app.inject({ url: '/api/v1/servers', headers: bearer(VIEWER, 'Basic') })).statusCode).toBe(401);
  });

  it('counts and logs a refused token, at most one line a minute, never the token', async () => {
    const fresh = await build();
    for (let i = 0; i < 3; i++) {
      const refused = await fresh.app.inject({
        url: '/api/v1/servers',
        headers: bearer(`wrong-token-${i}-0123456789`),
        remoteAddress: '10.0.0.1',
      });
      expect(refused.statusCode).toBe(401);
      expect(refused.headers['www-authenticate']).toBe('Bearer');
    }
    expect(await failures(fresh.metrics, 'api', 'invalid')).toBe(3);
    const lines = fresh.logs.filter((l) => String(l.msg).startsWith('refused a request without a valid token'));
    expect(lines).toEqual([
      expect.objectContaining({
        level: 40,
        ip: '10.0.0.1',
        routeGroup: 'api',
        failure: 'invalid',
        path: '/api/v1/servers',
      }),
    ]);
    expect(JSON.stringify(fresh.logs)).not.toContain('wrong-token-');
    await fresh.app.close();
  });

  it('slows an address that presents wrong tokens: 429 with Retry-After; a right token still passes from it', async () => {
    const from = (remoteAddress: string, token: string) =>
      built.app.inject({ url: '/api/v1/servers', headers: bearer(token), remoteAddress });
    for (let i = 0; i < 10; i++) expect((await from('10.0.0.2', `guess-${i}-0123456789abcdef`)).statusCode).toBe(401);
    const slowed = await from('10.0.0.2', 'guess-10-0123456789abcdef');
    expect(slowed.statusCode).toBe(429);
    expect(slowed.json().error.code).toBe('TOO_MANY_AUTH_FAILURES');
    expect(Number(slowed.headers['retry-after'])).toBeGreaterThan(0);
    // Another client behind the same address (a proxy) with its valid token is not locked out.
    expect((await from('10.0.0.2', VIEWER)).statusCode).toBe(200);
    expect((await from('10.0.0.2', 'guess-11-0123456789abcdef')).statusCode).toBe(429);
    expect((await from('10.0.0.3', 'guess-12-0123456789abcdef')).statusCode).toBe(401);
    expect(await failures(built.metrics, 'api', 'throttled')).toBe(2);
  });

  it('behind a trusted proxy, counts wrong tokens per client (X-Forwarded-For), not per proxy', async () => {
    const proxied = await build({ trustProxy: ['10.9.9.9'] });
    const from = (client: string, token: string) =>
      proxied.app.inject({
        url: '/api/v1/servers',
        headers: { ...bearer(token), 'x-forwarded-for': client },
        remoteAddress: '10.9.9.9',
      });
    for (let i = 0; i < 10; i++)
      expect((await from('203.0.113.7', `guess-${i}-0123456789abcdef`)).statusCode).toBe(401);
    expect((await from('203.0.113.7', 'guess-10-0123456789abcdef')).statusCode).toBe(429);
    // Another client through the same proxy is a client of its own.
    expect((await from('203.0.113.8', 'guess-11-0123456789abcdef')).statusCode).toBe(401);
    await proxied.app.close();
  });

  it('answers 503 and says how to set one when no token is configured', async () => {
    const none = await build({ tokens: [] });
    const response = await none.app.inject({ url: '/api/v1/servers', headers: bearer(VIEWER) });
    expect(response.statusCode).toBe(503);
    expect(response.json().error).toMatchObject({
      code: 'API_TOKEN_NOT_CONFIGURED',
      message: expect.stringContaining('http.tokens'),
    });
    await none.app.close();
  });
});

describe('the body limit, checked after the token', () => {
  let built: Built;
  beforeAll(async () => {
    built = await build();
  });
  afterAll(() => built.app.close());
  const big = JSON.stringify({
    server: 's1',
    kind: 'reported',
    from: '2026-10-01T00:00:00Z',
    to: '2026-10-01T01:00:00Z',
    reason: 'x'.repeat(BODY_LIMIT_BYTES),
  });

  it('answers 401 to an unauthenticated large body, 413 PAYLOAD_TOO_LARGE to an authenticated one', async () => {
    const post = (headers: Record<string, string>) =>
      built.app.inject({
        method: 'POST',
        url: '/api/v1/incidents',
        headers: { 'content-type': 'application/json', ...headers },
        payload: big,
      });
    expect((await post({})).statusCode).toBe(401);
    const tooLarge = await post(bearer(FINANCE));
    expect(tooLarge.statusCode).toBe(413);
    expect(tooLarge.json().error.code).toBe('PAYLOAD_TOO_LARGE');
  });
});

describe('405 for a method a route does not take', () => {
  let built: Built;
  beforeAll(async () => {
    built = await build({ web: true });
  });
  afterAll(() => built.app.close());

  it.each([
    ['DELETE', '/api/v1/months', 'GET, HEAD'],
    ['PUT', '/api/v1/incidents', 'GET, HEAD, POST'],
    ['GET', '/api/v1/months/2026-10/close', 'POST'],
    ['POST', '/metrics', 'GET, HEAD'],
  ])('%s %s: 405 with Allow: %s', async (method, url, allow) => {
    const response = await built.app.inject({ method: method as 'DELETE', url });
    expect(response.statusCode).toBe(405);
    expect(response.headers.allow).toBe(allow);
    expect(response.json().error.code).toBe('METHOD_NOT_ALLOWED');
  });

  it('still answers 404 for a path no route has', async () => {
    expect((await built.app.inject({ method: 'DELETE', url: '/api/v1/nothing' })).statusCode).toBe(404);
  });
});

describe('/readyz', () => {
  let dir: string;
  let store: EmbeddedObservationStore;
  let loop: ProbeLoop;
  let built: Built;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'uc-readyz-'));
    store = EmbeddedObservationStore.open(join(dir, 'store.db'));
    const config = parseConfig('customers: []\n', join(dir, 'config.yaml'), {});
    loop = createProbeLoop({ config, store, logger: pino({ level: 'silent' }) });
    built = await build({ checkReady: () => checkReadiness(store, loop, systemClock) });
  });
  afterAll(async () => {
    await built.app.close();
    await loop.stop();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('gives the status to anyone and the reason only with a token, with the same status codes', async () => {
    loop.start();
    expect((await built.app.inject({ url: '/readyz' })).json()).toEqual({ status: 'ready' });
    await loop.stop(); // a daemon that no longer probes is not ready
    const anonymous = await built.app.inject({ url: '/readyz' });
    expect(anonymous.statusCode).toBe(503);
    expect(anonymous.json()).toEqual({ status: 'not ready' });
    const withToken = await built.app.inject({ url: '/readyz', headers: bearer(PROMETHEUS) });
    expect(withToken.statusCode).toBe(503);
    expect(withToken.json()).toEqual({ status: 'not ready', reason: 'probe loop is not running' });
    const wrong = await built.app.inject({
      url: '/readyz',
      headers: bearer('not-a-token-0123456789'),
      remoteAddress: '10.0.0.4',
    });
    expect([wrong.statusCode, wrong.json()]).toEqual([503, { status: 'not ready' }]);
    expect(await failures(built.metrics, 'monitoring', 'invalid')).toBe(1);
  });
});

describe('protectMetrics', () => {
  it('/metrics needs a token with the metrics scope; the health routes stay open for probes without one', async () => {
    const built = await build({ protectMetrics: true });
    expect((await built.app.inject({ url: '/metrics' })).statusCode).toBe(401);
    expect((await built.app.inject({ url: '/metrics', headers: bearer(VIEWER) })).statusCode).toBe(403);
    const scrape = await built.app.inject({ url: '/metrics', headers: bearer(PROMETHEUS, 'bearer') });
    expect(scrape.statusCode).toBe(200);
    expect(scrape.body).toContain(
      'uptime_credits_http_auth_failures_total{route_group="monitoring",reason="missing"} 1',
    );
    expect(scrape.body).toContain('uptime_credits_http_auth_failures_total{route_group="monitoring",reason="scope"} 1');
    expect((await built.app.inject({ url: '/healthz' })).json()).toEqual({ status: 'ok' });
    expect((await built.app.inject({ url: '/readyz' })).json()).toEqual({ status: 'ready' });
    await built.app.close();
  });

  it('without it /metrics is open', async () => {
    const built = await build();
    expect((await built.app.inject({ url: '/metrics' })).statusCode).toBe(200);
    await built.app.close();
  });

  it('sends /metrics gzip-compressed when Accept-Encoding takes gzip, else as text; either way the same series', async () => {
    const built = await build();
    for (const server of ['a', 'b', 'zażółć'])
      built.metrics.recordOutcome({
        customer: 'acme',
        server,
        check: 'web',
        kind: 'http',
        location: 'waw',
        timeMs: 0,
        lagMs: 0,
        up: true,
        latencyMs: 12,
        httpStatus: 200,
      });
    const scrape = (acceptEncoding?: string) =>
      built.app.inject({
        url: '/metrics',
        ...(acceptEncoding ? { headers: { 'accept-encoding': acceptEncoding } } : {}),
      });
    const plain = await scrape();
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.headers.vary).toBe('accept-encoding');
    const perServer = (text: string) => text.split('\n').filter((line) => line.startsWith('probe_'));
    expect(perServer(plain.body)).toContain(
      'probe_success{customer="acme",server="zażółć",check="web",location="waw"} 1',
    );
    for (const header of ['gzip', 'x-gzip', 'br;q=1, gzip;q=0.5', '*']) {
      const gzipped = await scrape(header);
      expect(gzipped.headers['content-encoding'], header).toBe('gzip');
      expect(Number(gzipped.headers['content-length'])).toBe(gzipped.rawPayload.length);
      expect(perServer(gunzipSync(gzipped.rawPayload).toString('utf8'))).toEqual(perServer(plain.body));
    }
    for (const header of ['identity', 'gzip;q=0', 'br'])
      expect((await scrape(header)).headers['content-encoding'], header).toBeUndefined();
    await built.app.close();
  });
});

describe('the OpenAPI document', () => {
  it('shows the answers: a response schema for 200 and the error envelope with its codes for each refusal', async () => {
    const built = await build();
    const doc = (await built.app.inject({ url: '/openapi.json' })).json() as {
      paths: Record<
        string,
        Record<
          string,
          {
            responses: Record<
              string,
              { description: string; content: Record<string, { schema: { properties: Record<string, unknown> } }> }
            >;
          }
        >
      >;
    };
    const months = doc.paths['/api/v1/months']!.get!.responses;
    expect(Object.keys(months['200']!.content['application/json']!.schema.properties)).toEqual(['months']);
    expect(Object.keys(months).sort()).toEqual(['200', '400', '401', '403', '429', '500', '503']);
    const unauthorized = months['401']!;
    expect(unauthorized.description).toContain('UNAUTHORIZED');
    expect(unauthorized.content['application/json']!.schema.properties).toHaveProperty('error');
    const close = doc.paths['/api/v1/months/{month}/close']!.post!.responses;
    expect(Object.keys(close).sort()).toEqual([
      '200',
      '202',
      '400',
      '401',
      '403',
      '409',
      '413',
      '415',
      '429',
      '500',
      '503',
    ]);
    expect(close['409']!.description).toContain('MONTH_CLOSED_DIFFERS');
    expect(
      Object.keys(
        doc.paths['/api/v1/incidents']!.post!.responses['201']!.content['application/json']!.schema.properties,
      ),
    ).toEqual(['incident', 'months']);
    await built.app.close();
  });
});

describe('the ops login', () => {
  let built: Built;
  beforeAll(async () => {
    built = await build({ web: true });
  });
  afterAll(() => built.app.close());
  const login = (token: string, remoteAddress = '127.0.0.1') =>
    built.app.inject({
      method: 'POST',
      url: '/ui/login',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: `token=${encodeURIComponent(token)}`,
      remoteAddress,
    });
  const sessionCookie = (response: Awaited<ReturnType<typeof login>>) =>
    response.cookies.find((c) => c.name === 'uc_ops')!.value;

  it('takes a token with the read scope, refuses one without it, and logging out ends the session for good', async () => {
    const metricsOnly = await login(PROMETHEUS);
    expect(metricsOnly.statusCode).toBe(403);
    expect(metricsOnly.body).toContain('read scope');
    const loggedIn = await login(VIEWER);
    expect(loggedIn.statusCode).toBe(303);
    const session = sessionCookie(loggedIn);
    const months = () => built.app.inject({ url: '/ui/months', cookies: { uc_ops: session } });
    expect((await months()).statusCode).toBe(200);
    expect(
      (await built.app.inject({ method: 'POST', url: '/ui/logout', cookies: { uc_ops: session } })).statusCode,
    ).toBe(303);
    // The same cookie, kept by someone, no longer opens a page.
    const after = await months();
    expect([after.statusCode, after.headers.location]).toEqual([303, '/ui/login']);
    expect((await built.app.inject({ url: '/ui/months', cookies: { uc_ops: 'made-up-session-id' } })).statusCode).toBe(
      303,
    );
  });

  it('counts failed logins and slows an address that fails too often', async () => {
    for (let i = 0; i < 10; i++) expect((await login(`wrong-${i}-0123456789abcdef`, '10.0.1.1')).statusCode).toBe(401);
    const slowed = await login('wrong-10-0123456789abcdef', '10.0.1.1');
    expect(slowed.statusCode).toBe(429);
    expect(slowed.body).toContain('Too many failed attempts');
    expect(await failures(built.metrics, 'ops', 'invalid')).toBe(10);
    expect(await failures(built.metrics, 'ops', 'throttled')).toBe(1);
    expect((await login(VIEWER, '10.0.1.1')).statusCode).toBe(303);
    expect((await login(VIEWER, '10.0.1.2')).statusCode).toBe(303);
  });
});

describe('server pages: a timeline is a month computation, paced like the API', () => {
  const window = { fromMs: Date.UTC(2026, 9, 31, 23), toMs: Date.UTC(2026, 10, 30, 23) };
  const monthMs = window.toMs - window.fromMs;
  const availability = { ...NO_AVAILABILITY, coveredMs: monthMs, eligibleMs: monthMs };
  const server = {
    id: 's1',
    name: 'Shop',
    customerId: 'acme',
    customerName: 'ACME',
    tier: 'gold',
    state: 'up' as const,
  };
  // What the computations hold: an answer is cached until the data changes (the test says when it does).
  let computedTimelines = 0;
  let cachedAnswer = false;
  let built: Built;
  beforeAll(async () => {
    built = await build({
      monthComputationsPerSecond: 0.001, // one computation per client in the test's lifetime
      web: {
        fleet: () => ({ month: '2026-11', servers: [server] }),
        async timeline(_serverId, _month, { cachedOnly }) {
          if (cachedOnly && !cachedAnswer) return undefined;
          if (!cachedOnly) computedTimelines++;
          cachedAnswer = true;
          return { window, covered: window, rows: [{ availability }] };
        },
      },
    });
  });
  afterAll(() => built.app.close());
  const logIn = (token: string) => opsSession(built.app, token);
  const view = (session: string) => built.app.inject({ url: '/ui/servers/s1', cookies: { uc_ops: session } });
  const answers = async () =>
    (await exposition(built.metrics))
      .split('\n')
      .filter((l) => l.startsWith('uptime_credits_http_month_queries_total{'))
      .sort();

  it('computes once per turn, answers a cached timeline for free, and says when to come back', async () => {
    const viewer = await logIn(VIEWER);
    const first = await view(viewer);
    expect(first.statusCode).toBe(200);
    expect(first.body).toContain('<svg');
    expect(computedTimelines).toBe(1);
    // The data has not changed: the same page again is the cached answer, not a computation.
    expect((await view(viewer)).statusCode).toBe(200);
    expect(computedTimelines).toBe(1);
    // The data changed: another computation would be needed, and this token has had its turn.
    cachedAnswer = false;
    const refused = await view(viewer);
    expect(refused.statusCode).toBe(429);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(900);
    expect(refused.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(refused.body).toContain('Try again in');
    expect(computedTimelines).toBe(1);
    // Another token is another client, with its own turn (a second session of the same token is not).
    expect((await view(await logIn(VIEWER))).statusCode).toBe(429);
    expect((await view(await logIn(FINANCE))).statusCode).toBe(200);
    expect(computedTimelines).toBe(2);
    expect(await answers()).toEqual([
      'uptime_credits_http_month_queries_total{answer="cached"} 1',
      'uptime_credits_http_month_queries_total{answer="computed"} 2',
      'uptime_credits_http_month_queries_total{answer="rate-limited"} 2',
    ]);
  });
});

describe('a month query while the store is down', () => {
  it('answers 503 STORE_UNAVAILABLE with Retry-After, logged as a warning, not as a failed request', async () => {
    // As the compute worker reports it, and wrapped once more by a caller: the cause is what counts.
    const { response, logs } = await creditsFailingWith(
      new Error('reading October', { cause: new StoreUnavailableError('connect ECONNREFUSED 127.0.0.1:8086') }),
    );
    expect(response.statusCode).toBe(503);
    expect(response.headers['retry-after']).toBe('30');
    expect(response.json().error).toEqual({
      code: 'STORE_UNAVAILABLE',
      message: 'the observation store did not answer: connect ECONNREFUSED 127.0.0.1:8086',
    });
    expect(levelsOf(logs, 'a month query could not read the store')).toEqual([40]);
    expect(errorLines(logs)).toEqual([]);
  });

  it('a server page answers 503 in its language with Retry-After, logged as a warning', async () => {
    const built = await build({
      web: {
        fleet: () => ({
          month: '2026-11',
          servers: [
            { id: 's1', name: 'Shop', customerId: 'acme', customerName: 'ACME', tier: 'gold', state: 'up' as const },
          ],
        }),
        async timeline() {
          throw new StoreUnavailableError('connect ECONNREFUSED 127.0.0.1:8086');
        },
      },
    });
    try {
      const page = await built.app.inject({
        url: '/ui/servers/s1',
        headers: { 'accept-language': 'pl' },
        cookies: { uc_ops: await opsSession(built.app, VIEWER) },
      });
      expect(page.statusCode).toBe(503);
      expect(page.headers['retry-after']).toBe('30');
      expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(page.body).toContain('a ich baza teraz nie odpowiada. Spróbuj ponownie za 30 s.');
      expect(levelsOf(built.logs, 'a server page could not read the store')).toEqual([40]);
      expect(errorLines(built.logs)).toEqual([]);
    } finally {
      await built.app.close();
    }
  });

  it('still answers 500 INTERNAL, logged as an error, for any other failure', async () => {
    const { response, logs } = await creditsFailingWith(new Error('InfluxDB /query answered 400: error parsing query'));
    expect(response.statusCode).toBe(500);
    expect(levelsOf(logs, 'request failed')).toEqual([50]);
  });
});

describe('a request cut short by the stop', () => {
  it('answers 503 STOPPING and logs it at info, not as a failed request', async () => {
    const { response, logs } = await creditsFailingWith(new ComputationsClosedError());
    expect(response.statusCode).toBe(503);
    expect(response.json().error.code).toBe('STOPPING');
    expect(levelsOf(logs, 'request cut short by the stop')).toEqual([30]);
    expect(errorLines(logs)).toEqual([]);
  });
});
