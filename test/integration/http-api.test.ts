// The hardened API on the real daemon: named tokens with scopes (Prometheus scrapes but cannot restate, a viewer
// reads but cannot close), the journal naming the token that closed, refusals counted in /metrics and logged, and
// the real `start` refusing to serve open metrics beyond loopback.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { startDaemon, type Daemon } from '../../src/main.js';
import { monthContaining, monthWindow, previousMonth } from '../../src/sla/month.js';
import { startDaemonProcess } from '../support/daemon-process.js';
import { startHttpTarget, type Target } from '../support/targets.js';
import { capturedLog } from '../support/captured-log.js';

const ENV = {
  UC_PROMETHEUS_TOKEN: 'prometheus-token-0123456789',
  UC_VIEWER_TOKEN: 'viewer-token-0123456789abcd',
  UC_FINANCE_TOKEN: 'finance-token-0123456789abc',
};

describe('the API with named tokens, on the real daemon', () => {
  let dir: string;
  let target: Target;
  let daemon: Daemon;
  const { logger, lines: logs } = capturedLog();

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'uc-http-api-'));
    target = await startHttpTarget();
    writeFileSync(
      join(dir, 'config.yaml'),
      `
storage: { kind: embedded, path: ${join(dir, 'store.db')} }
probing: { location: waw, interval: 1s, timeout: 500ms }
# Closable at once after its end: with the default 15 min delay the previous month could not be closed in the
# first quarter hour of a month.
sla: { closeDelay: 0s }
http:
  listen: 127.0.0.1
  port: 0
  protectMetrics: true
  tokens:
    - { name: prometheus, secretEnv: UC_PROMETHEUS_TOKEN, scopes: [metrics] }
    - { name: viewer, secretEnv: UC_VIEWER_TOKEN, scopes: [read] }
    - { name: finance-bot, secretEnv: UC_FINANCE_TOKEN, scopes: [read, close] }
reports: { dir: ${join(dir, 'reports')} }
customers:
  - id: acme
    name: ACME
    tier: platinum
    servers: [{ id: up-1, name: Up, checks: [{ kind: http, url: "${target.url}/ok" }] }]
`,
    );
    daemon = await startDaemon({ config: loadConfig(join(dir, 'config.yaml'), ENV), logger });
  });
  afterAll(async () => {
    await daemon?.stop();
    await target?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const call = (
    path: string,
    token: string | undefined,
    init: { method?: string; body?: unknown; acceptEncoding?: string } = {},
  ) =>
    fetch(`${daemon.address}${path}`, {
      method: init.method ?? 'GET',
      headers: {
        ...(token ? { authorization: `bearer ${token}` } : {}),
        // fetch asks for gzip by itself, and inflates: identity, to see the bytes the length counts.
        ...(init.acceptEncoding ? { 'accept-encoding': init.acceptEncoding } : {}),
        ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
    });
  const previous = previousMonth(monthContaining(Date.now(), 'Europe/Warsaw'));

  it("Prometheus's token scrapes /metrics and cannot restate a month; /metrics wants a token", async () => {
    expect((await call('/metrics', undefined)).status).toBe(401);
    expect((await call('/metrics', ENV.UC_VIEWER_TOKEN)).status).toBe(403);
    const scrape = await call('/metrics', ENV.UC_PROMETHEUS_TOKEN, { acceptEncoding: 'identity' });
    expect(scrape.status).toBe(200);
    expect(scrape.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    const body = Buffer.from(await scrape.arrayBuffer());
    expect(Number(scrape.headers.get('content-length'))).toBe(body.length);
    expect(body.toString()).toContain('uptime_credits_close_role 1');
    expect(body.toString().endsWith('\n')).toBe(true); // the last family's last line, whole
    const head = await call('/metrics', ENV.UC_PROMETHEUS_TOKEN, { method: 'HEAD', acceptEncoding: 'identity' });
    expect(head.status).toBe(200);
    expect(Number(head.headers.get('content-length'))).toBeGreaterThan(body.length / 2);
    const restate = await call(`/api/v1/months/${previous}/restate`, ENV.UC_PROMETHEUS_TOKEN, {
      method: 'POST',
      body: { reason: 'scraper trying' },
    });
    expect(restate.status).toBe(403);
    expect(await restate.json()).toEqual({
      error: { code: 'FORBIDDEN', message: 'this token does not have the close scope' },
    });
    expect((await call('/api/v1/servers', ENV.UC_PROMETHEUS_TOKEN)).status).toBe(403);
  });

  it('a read token reads and cannot close', async () => {
    expect((await call('/api/v1/months', ENV.UC_VIEWER_TOKEN)).status).toBe(200);
    expect((await call(`/api/v1/months/${previous}/close`, ENV.UC_VIEWER_TOKEN, { method: 'POST' })).status).toBe(403);
    expect((await call('/api/v1/incidents', ENV.UC_VIEWER_TOKEN, { method: 'POST', body: {} })).status).toBe(403);
  });

  it("the token's name is who closed, approved and recorded, in the revisions, the journal and the records", async () => {
    const held = await call(`/api/v1/months/${previous}/close`, ENV.UC_FINANCE_TOKEN, { method: 'POST' });
    expect(held.status).toBe(202); // nothing was monitored in the month before the daemon started
    const { draftHash } = (await held.json()) as { draftHash: string };
    const approved = await call(`/api/v1/months/${previous}/approve`, ENV.UC_FINANCE_TOKEN, {
      method: 'POST',
      body: { draftHash, reason: 'installed this month' },
    });
    expect(approved.status).toBe(200);

    const window = monthWindow(previous, 'Europe/Warsaw');
    const from = new Date(window.fromMs + 24 * 3_600_000).toISOString();
    const to = new Date(window.fromMs + 48 * 3_600_000).toISOString();
    const added = await call('/api/v1/incidents', ENV.UC_FINANCE_TOKEN, {
      method: 'POST',
      body: { server: 'up-1', kind: 'reported', from, to, reason: 'customer could not log in' },
    });
    expect(added.status).toBe(201);
    const body = (await added.json()) as {
      incident: { recordedBy: string };
      months: { status: string; revision: number }[];
    };
    expect(body.incident.recordedBy).toBe('finance-bot');
    expect(body.months).toEqual([expect.objectContaining({ status: 'issued', revision: 2 })]);

    const record = (await (await call(`/api/v1/months/${previous}`, ENV.UC_VIEWER_TOKEN)).json()) as {
      revisions: { revision: number; closedBy: string }[];
      journal: { revision: number; delta: string; closedBy: string }[];
    };
    expect(record.revisions.map((r) => [r.revision, r.closedBy])).toEqual([
      [1, 'finance-bot'],
      [2, 'finance-bot'],
    ]);
    expect(record.journal.map((row) => [row.revision, row.delta, row.closedBy])).toEqual([
      [2, '1800.00', 'finance-bot'],
    ]);
  });

  it('counts the refusals in /metrics and logs them without the token', async () => {
    await call('/api/v1/servers', 'not-a-real-token-0123456789');
    const text = await (await call('/metrics', ENV.UC_PROMETHEUS_TOKEN)).text();
    expect(text).toContain('uptime_credits_http_auth_failures_total{route_group="api",reason="scope"} 4\n');
    expect(text).toContain('uptime_credits_http_auth_failures_total{route_group="api",reason="invalid"} 1\n');
    expect(text).toContain('uptime_credits_http_auth_failures_total{route_group="monitoring",reason="missing"} 1\n');
    expect(text).toContain('uptime_credits_http_auth_failures_total{route_group="monitoring",reason="scope"} 1\n');
    const refused = logs.filter((line) => String(line.msg).startsWith('refused a request without a valid token'));
    expect(refused[0]).toMatchObject({
      level: 40,
      routeGroup: 'monitoring',
      failure: 'missing',
      path: '/metrics',
      ip: '127.0.0.1',
    });
    for (const secret of [...Object.values(ENV), 'not-a-real-token-0123456789'])
      expect(JSON.stringify(logs)).not.toContain(secret);
  });

  it('recomputes the month to date from the whole month on demand, with the close scope', async () => {
    const refused = await call('/api/v1/month-to-date/recompute', ENV.UC_VIEWER_TOKEN, { method: 'POST' });
    expect(refused.status).toBe(403);
    const before = Date.now();
    const recomputed = await call('/api/v1/month-to-date/recompute', ENV.UC_FINANCE_TOKEN, { method: 'POST' });
    expect(recomputed.status).toBe(200);
    const body = (await recomputed.json()) as { month: string; asOf: string; servers: number };
    expect(body).toEqual({ month: monthContaining(Date.now(), 'Europe/Warsaw'), asOf: expect.any(String), servers: 1 });
    expect(Date.parse(body.asOf)).toBeGreaterThanOrEqual(before);
  });
});

describe('open metrics beyond loopback', () => {
  it('the daemon refuses to start on 0.0.0.0 with protectMetrics: false unless publicMetrics: true says so', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'uc-open-metrics-'));
    try {
      const config = (http: string) => {
        writeFileSync(
          join(dir, 'config.yaml'),
          `storage: { kind: embedded, path: ${join(dir, 'store.db')} }\nreports: { dir: ${join(dir, 'reports')} }\nhttp: ${http}\n`,
        );
        return join(dir, 'config.yaml');
      };
      await expect(startDaemonProcess(config('{ listen: 0.0.0.0, port: 0 }'))).rejects.toThrow(
        /http\.protectMetrics: \/metrics names customers and PLN amounts; listening on 0\.0\.0\.0/,
      );
      const open = await startDaemonProcess(config('{ listen: 0.0.0.0, port: 0, publicMetrics: true }'));
      try {
        expect((await open.get('/metrics')).status).toBe(200);
      } finally {
        expect(await open.stop()).toBe(0);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
