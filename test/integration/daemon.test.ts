// The real daemon on loopback: probes real targets, serves health and a promtool-clean /metrics.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { createLogger } from '../../src/logging.js';
import { startDaemon, type Daemon } from '../../src/main.js';
import { monthContaining, monthWindow, previousMonth } from '../../src/sla/month.js';
import { EmbeddedObservationStore } from '../../src/store/embedded/embedded-store.js';
import { clockStartingAt } from '../support/fake-clock.js';
import { observationsOf } from '../support/observations.js';
import { promtoolProblems } from '../support/promtool.js';
import { closedPort, startHttpTarget, type Target } from '../support/targets.js';

const execFileAsync = promisify(execFile);

async function waitFor<T>(what: string, attempt: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await attempt();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const TOKEN = 'test-token-0123456789abcdef';
// The daemon's clock: mid-month, so the month just ended is closable whatever the date of the run (with the
// default closeDelay of 15 min, a run in the first minutes of the 1st could not close it).
const STARTED_AT = Date.parse('2026-11-16T10:00:00Z');
// Observations of the day before the start, from 09:00 to 11:00 every second: up-1 down 10:00-10:10.
const EARLIER = {
  fromMs: Date.parse('2026-11-15T09:00:00Z'),
  toMs: Date.parse('2026-11-15T11:00:00Z'),
  outage: { fromMs: Date.parse('2026-11-15T10:00:00Z'), toMs: Date.parse('2026-11-15T10:10:00Z') },
};

describe('daemon', () => {
  let dir: string;
  let target: Target;
  let daemon: Daemon;
  let dbPath: string;
  const clock = clockStartingAt(STARTED_AT);

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'uc-daemon-'));
    target = await startHttpTarget();
    const downPort = await closedPort();
    dbPath = join(dir, 'store.db');
    writeFileSync(
      join(dir, 'config.yaml'),
      `
storage: { kind: embedded, path: ${dbPath} }
probing: { location: waw, interval: 1s, timeout: 500ms }
# The probe loop writes every second, so every month query computes: the tests ask faster than 1 a second.
http: { listen: 127.0.0.1, port: 0, token: "${TOKEN}", monthComputationsPerSecond: 1000 }
reports: { dir: ${join(dir, 'reports')} }
sla: { closeDelay: 15m }
customers:
  - id: acme
    name: ACME
    tier: platinum
    servers:
      - { id: up-1, name: Up, checks: [{ kind: http, url: "${target.url}/ok" }] }
      - { id: down-1, name: Down, checks: [{ kind: tcp, host: 127.0.0.1, port: ${downPort} }] }
`,
    );
    const earlier = EmbeddedObservationStore.open(dbPath);
    await earlier.write(
      observationsOf({
        server: 'up-1',
        location: 'waw',
        check: 'http',
        fromMs: EARLIER.fromMs,
        toMs: EARLIER.toMs,
        everyMs: 1_000,
        down: [EARLIER.outage],
      }),
    );
    await earlier.close();
    daemon = await startDaemon({ config: loadConfig(join(dir, 'config.yaml')), logger: createLogger(), clock });
  });
  afterAll(async () => {
    await daemon?.stop();
    await target?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers /healthz and /readyz', async () => {
    expect(await (await fetch(`${daemon.address}/healthz`)).json()).toEqual({ status: 'ok' });
    const ready = await fetch(`${daemon.address}/readyz`);
    expect(ready.status).toBe(200);
  });

  it('serves live probe and SLA series that promtool accepts', async () => {
    const text = await waitFor('both probes in /metrics', async () => {
      const body = await (await fetch(`${daemon.address}/metrics`)).text();
      const probed =
        body.includes('probe_success{customer="acme",server="up-1"') &&
        body.includes('probe_success{customer="acme",server="down-1"');
      // A sample, not the family's HELP line: the first refresh runs in the compute worker, after it has started.
      return probed && body.includes('uptime_credits_sla_uptime_ratio{') ? body : undefined;
    });
    expect(text).toContain('probe_success{customer="acme",server="up-1",check="http",location="waw"} 1');
    expect(text).toContain('probe_success{customer="acme",server="down-1",check="tcp",location="waw"} 0');
    expect(text).toContain('probe_http_status_code{customer="acme",server="up-1",check="http",location="waw"} 200');
    expect(text).toMatch(
      /uptime_credits_sla_downtime_budget_seconds\{customer="acme",server="up-1",below="99.8",credit_percent="10"\} \d/,
    );
    // What the alert rules read: this instance closes months, probes two checks, and says each server's tier.
    expect(text).toContain('uptime_credits_close_role 1\n');
    expect(text).toContain('uptime_credits_checks_configured 2\n');
    expect(text).toContain('uptime_credits_server_tier_info{customer="acme",server="up-1",tier="platinum"} 1\n');
    expect(text).toMatch(/uptime_credits_server_down\{customer="acme",server="up-1"\} 0\n/);
    expect(text).toContain('process_cpu_seconds_total');
    expect(promtoolProblems(text)).toBe('');
  });

  it('sends /metrics gzip-compressed to a client that asks, as Prometheus does, with the same series (curl)', async () => {
    // curl in a process of its own (the daemon answers from this one), the headers written before the body.
    const scrape = async (...options: string[]) => {
      const { stdout } = await execFileAsync(
        'curl',
        ['--silent', '--show-error', '--fail', '--dump-header', '-', ...options, `${daemon.address}/metrics`],
        { maxBuffer: 64 * 1_048_576 },
      );
      const end = stdout.indexOf('\r\n\r\n');
      return { headers: stdout.slice(0, end).toLowerCase(), body: stdout.slice(end + 4) };
    };
    const gzipped = await scrape('--compressed');
    const plain = await scrape();
    expect(gzipped.headers).toContain('content-encoding: gzip');
    expect(gzipped.headers).toContain('vary: accept-encoding');
    expect(plain.headers).not.toContain('content-encoding');
    expect(promtoolProblems(gzipped.body)).toBe('');
    // The same series in the same order (values move between the two scrapes: latencies, process figures).
    const series = (text: string) => text.split('\n').map((line) => line.replace(/ [^ ]+$/, ''));
    expect(series(gzipped.body)).toEqual(series(plain.body));
    expect(gzipped.body).toContain(
      'uptime_credits_server_tier_info{customer="acme",server="up-1",tier="platinum"} 1\n',
    );
  });

  const api = (path: string, init: RequestInit = {}, token: string | null = TOKEN) =>
    fetch(`${daemon.address}${path}`, {
      ...init,
      headers: {
        ...(init.headers as Record<string, string> | undefined),
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
    });

  it('guards /api/ with the bearer token', async () => {
    const without = await api('/api/v1/servers', {}, null);
    expect(without.status).toBe(401);
    expect(await without.json()).toEqual({
      error: { code: 'UNAUTHORIZED', message: 'a valid bearer token is required' },
    });
    expect((await api('/api/v1/servers', {}, 'wrong-token-0123456789')).status).toBe(401);
    expect((await fetch(`${daemon.address}/metrics`)).status).toBe(200); // open unless protectMetrics
  });

  it('lists servers with their current state and month to date', async () => {
    const body = await waitFor('server states', async () => {
      const json = (await (await api('/api/v1/servers')).json()) as {
        servers: { id: string; state: string; monthToDate: unknown }[];
      };
      return json.servers.length === 2 && json.servers.every((s) => s.state !== 'unknown' && s.monthToDate)
        ? json
        : undefined;
    });
    expect(body.servers.map((s) => [s.id, s.state])).toEqual([
      ['up-1', 'up'],
      ['down-1', 'down'],
    ]);
    const one = await (await api('/api/v1/servers/down-1')).json();
    expect(one).toMatchObject({
      id: 'down-1',
      customer: 'acme',
      tier: 'platinum',
      checks: [{ name: 'tcp', up: false, error: 'refused' }],
    });
    expect((await api('/api/v1/servers/nope')).status).toBe(404);
  });

  it('rejects bad input with a JSON error, and serves its OpenAPI document', async () => {
    const bad = await api('/api/v1/credits?month=2026-13');
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { code: string } }).error.code).toBe('BAD_REQUEST');
    const outages = await api('/api/v1/outages?from=2026-10-02T00:00:00Z&to=2026-10-01T00:00:00Z');
    expect(outages.status).toBe(400);
    const openapi = (await (await fetch(`${daemon.address}/openapi.json`)).json()) as {
      paths: Record<string, unknown>;
    };
    expect(Object.keys(openapi.paths)).toEqual(
      expect.arrayContaining(['/api/v1/servers', '/api/v1/credits', '/api/v1/months/{month}/close', '/api/v1/outages']),
    );
  });

  it('lists the confirmed outages of a time range from the stored observations', async () => {
    const outages = async (query: string) => {
      const response = await api(`/api/v1/outages?${query}`);
      expect(response.status).toBe(200);
      return response.json();
    };
    const day = 'from=2026-11-15T00:00:00Z&to=2026-11-16T00:00:00Z';
    // 600 failed probes in a row from 10:00:00, the next success at 10:10:00.
    const outage = {
      server: 'up-1',
      from: '2026-11-15T10:00:00.000Z',
      to: '2026-11-15T10:10:00.000Z',
      durationMs: 600_000,
    };
    expect(await outages(day)).toEqual({ outages: [outage] });
    expect(await outages(`${day}&server=up-1`)).toEqual({ outages: [outage] });
    expect(await outages(`${day}&server=down-1`)).toEqual({ outages: [] });
    // Cut at the range's edges; an hour without observations is not an outage.
    expect(await outages('from=2026-11-15T10:05:00Z&to=2026-11-15T10:08:00Z')).toEqual({
      outages: [{ ...outage, from: '2026-11-15T10:05:00.000Z', to: '2026-11-15T10:08:00.000Z', durationMs: 180_000 }],
    });
    expect(await outages('from=2026-11-15T11:00:00Z&to=2026-11-15T12:00:00Z')).toEqual({ outages: [] });
    expect((await api(`/api/v1/outages?${day}&server=nope`)).status).toBe(404);
  });

  it('closes months through the API as the month closer does: no evidence is held for review, then approved once', async () => {
    const current = monthContaining(clock.now(), 'Europe/Warsaw');
    const previous = previousMonth(current);
    // The store's first observation is from this run: the month just ended had nobody watching, so the start did
    // not close it (no report on no evidence).
    expect(await (await api('/api/v1/months')).json()).toEqual({ months: [] });
    expect(existsSync(join(dir, 'reports', previous))).toBe(false);

    // Closing it on demand holds it for review: nothing was monitored.
    const held = await api(`/api/v1/months/${previous}/close`, { method: 'POST' });
    expect(held.status).toBe(202);
    const review = (await held.json()) as { status: string; draftHash: string; draftDir: string };
    expect(review).toMatchObject({
      status: 'needs-review',
      draftDir: join(dir, 'reports', previous, 'draft', `review-${review.draftHash.slice(0, 12)}`),
    });
    expect(existsSync(join(dir, 'reports', previous, 'ledger.csv'))).toBe(false);
    const metricsHeld = await (await fetch(`${daemon.address}/metrics`)).text();
    expect(metricsHeld).toContain(`uptime_credits_close_month_state{month="${previous}",state="needs-review"} 1`);
    expect(metricsHeld).toContain('uptime_credits_close_problems_total{kind="needs-review"} 1');
    expect(metricsHeld).toMatch(
      new RegExp(`uptime_credits_close_under_monitored_ratio\\{month="${previous}",customer="acme",server="up-1"\\} 0`),
    );

    const json = (body: unknown) => ({
      method: 'POST',
      body: JSON.stringify(body),
      headers: { 'content-type': 'application/json' },
    });
    const post = (path: string, body: unknown) =>
      fetch(`${daemon.address}${path}`, {
        ...json(body),
        headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
      });
    expect((await post(`/api/v1/months/${previous}/approve`, { draftHash: review.draftHash })).status).toBe(400); // a reason is required
    const unknown = await post(`/api/v1/months/${previous}/approve`, { draftHash: 'f'.repeat(64), reason: 'x' });
    expect(unknown.status).toBe(400);
    expect(((await unknown.json()) as { error: { message: string } }).error.message).toContain('no held draft');
    const approved = await post(`/api/v1/months/${previous}/approve`, {
      draftHash: review.draftHash,
      reason: 'the daemon was installed on this date',
    });
    expect(approved.status).toBe(200);
    expect(await approved.json()).toMatchObject({ status: 'issued', revision: 1, kind: 'approval', total: '0.00' });
    expect(existsSync(join(dir, 'reports', previous, 'manifest.json'))).toBe(true);
    expect(await (await api(`/api/v1/months/${previous}/close`, { method: 'POST' })).json()).toEqual({
      status: 'unchanged',
      month: previous,
      revision: 1,
    });
    const restated = await post(`/api/v1/months/${previous}/restate`, { reason: 'nothing new' });
    expect(await restated.json()).toEqual({ status: 'unchanged', month: previous, revision: 1 });
    const record = (await (await api(`/api/v1/months/${previous}`)).json()) as {
      status: { state: string };
      revisions: { revision: number; closedBy: string }[];
    };
    expect(record.status.state).toBe('closed');
    expect(record.revisions.map((r) => [r.revision, r.closedBy])).toEqual([[1, 'api']]);
    const metricsClosed = await (await fetch(`${daemon.address}/metrics`)).text();
    expect(metricsClosed).toContain(`uptime_credits_close_month_state{month="${previous}",state="closed"} 1`);
    expect(metricsClosed).not.toContain('uptime_credits_close_under_monitored_ratio{');
    expect(promtoolProblems(metricsClosed)).toBe('');

    // The month in progress cannot be closed; a draft of it can be rendered.
    const early = await api(`/api/v1/months/${current}/close`, { method: 'POST' });
    expect(early.status).toBe(409);
    expect(((await early.json()) as { error: { code: string } }).error.code).toBe('MONTH_NOT_ENDED');
    const draft = await post(`/api/v1/months/${current}/draft`, {});
    expect(draft.status).toBe(200);
    expect(await draft.json()).toMatchObject({
      status: 'draft',
      month: current,
      dir: join(dir, 'reports', current, 'draft'),
    });
    expect(existsSync(join(dir, 'reports', current, 'manifest.json'))).toBe(false);
    const credits = await (await api('/api/v1/credits?month=2026-10')).json();
    expect(credits).toMatchObject({
      month: '2026-10',
      timeZone: 'Europe/Warsaw',
      monthMs: 745 * 3_600_000,
      creditAmount: '0.00',
    });
  });

  it('records incidents and maintenance through the API; a change to the closed month restates it', async () => {
    const previous = previousMonth(monthContaining(clock.now(), 'Europe/Warsaw'));
    const window = monthWindow(previous, 'Europe/Warsaw');
    const post = (path: string, body: unknown) =>
      api(path, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
    const from = new Date(window.fromMs + 24 * 3_600_000).toISOString();
    const to = new Date(window.fromMs + 48 * 3_600_000).toISOString();

    expect((await post('/api/v1/incidents', { server: 'nope', kind: 'reported', from, to, reason: 'x' })).status).toBe(
      400,
    );
    expect((await post('/api/v1/incidents', { server: 'up-1', kind: 'outage', from, to, reason: 'x' })).status).toBe(
      400,
    );
    expect(
      (
        await api(
          '/api/v1/incidents',
          { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } },
          null,
        )
      ).status,
    ).toBe(401);

    // 24 h reported down in a month of 28-31 days: below 99.0 % -> Platinum 300 % of 600.00 = 1800.00.
    const added = await post('/api/v1/incidents', {
      server: 'up-1',
      kind: 'reported',
      from,
      to,
      reason: 'customer could not log in',
      ticket: 'T-9',
    });
    expect(added.status).toBe(201);
    const body = (await added.json()) as {
      incident: { id: number; ticket: string; recordedBy: string; withdrawn: null };
      months: { month: string; action: string; status: string; revision: number; total: string }[];
    };
    expect(body.incident).toMatchObject({
      server: 'up-1',
      kind: 'reported',
      from,
      to,
      ticket: 'T-9',
      recordedBy: 'api',
      withdrawn: null,
    });
    expect(body.months).toEqual([
      expect.objectContaining({ month: previous, action: 'restate', status: 'issued', revision: 2, total: '1800.00' }),
    ]);
    const credits = (await (await api(`/api/v1/credits?month=${previous}`)).json()) as {
      creditAmount: string;
      customers: { servers: { id: string; incidents?: { ticket: string; effectMs: number }[] }[] }[];
    };
    expect(credits.creditAmount).toBe('1800.00');
    expect(credits.customers[0]!.servers.find((s) => s.id === 'up-1')!.incidents).toEqual([
      expect.objectContaining({ ticket: 'T-9', effectMs: 24 * 3_600_000 }),
    ]);
    expect(
      ((await (await api(`/api/v1/incidents?from=${from}&server=up-1`)).json()) as { incidents: unknown[] }).incidents,
    ).toHaveLength(1);
    expect(
      ((await (await api('/api/v1/incidents?server=down-1')).json()) as { incidents: unknown[] }).incidents,
    ).toHaveLength(0);

    // Withdrawing lowers an issued credit: the restatement waits for approval; nothing is deleted.
    const withdrawn = await post(`/api/v1/incidents/${body.incident.id}/withdraw`, {
      reason: 'entered for the wrong server',
    });
    expect(withdrawn.status).toBe(200);
    const w = (await withdrawn.json()) as {
      incident: { withdrawn: { by: string; reason: string } };
      months: { status: string; draftHash: string }[];
    };
    expect(w.incident.withdrawn).toMatchObject({ by: 'api', reason: 'entered for the wrong server' });
    expect(w.months[0]).toMatchObject({ status: 'needs-review' });
    expect((await post(`/api/v1/incidents/${body.incident.id}/withdraw`, { reason: 'again' })).status).toBe(409);
    expect((await post('/api/v1/incidents/999/withdraw', { reason: 'x' })).status).toBe(404);
    const approval = await post(`/api/v1/months/${previous}/approve`, {
      draftHash: w.months[0]!.draftHash,
      reason: 'checked',
    });
    expect(approval.status, await approval.clone().text()).toBe(200);
    const record = (await (await api(`/api/v1/months/${previous}`)).json()) as {
      journal: { revision: number; delta: string; reason: string }[];
    };
    expect(record.journal.map((row) => [row.revision, row.delta])).toEqual([
      [2, '1800.00'],
      [3, '-1800.00'],
    ]);
    expect(record.journal[1]!.reason).toContain(`incident ${body.incident.id} withdrawn`);

    // Maintenance announced ten minutes ago, running now: the SLA view says so, and the alert rules mute the server.
    const nowMs = clock.now();
    const announced = await post('/api/v1/maintenance', {
      server: 'down-1',
      from: new Date(nowMs - 5 * 60_000).toISOString(),
      to: new Date(nowMs + 3_600_000).toISOString(),
      reason: 'switch replacement',
      announcedAt: new Date(nowMs - 10 * 60_000).toISOString(),
    });
    expect(announced.status).toBe(201);
    const m = (await announced.json()) as { maintenance: { id: number; late: boolean; cancelled: null } };
    expect(m.maintenance).toMatchObject({ server: 'down-1', late: false, cancelled: null });
    const muted = 'uptime_credits_server_maintenance_active{customer="acme",server="down-1"} 1';
    await waitFor('the maintenance in the SLA view', async () =>
      (await (await fetch(`${daemon.address}/metrics`)).text()).includes(muted) ? true : undefined,
    );
    const cancelled = await post(`/api/v1/maintenance/${m.maintenance.id}/cancel`, { reason: 'postponed' });
    expect(
      ((await cancelled.json()) as { maintenance: { cancelled: { reason: string } } }).maintenance.cancelled,
    ).toMatchObject({ reason: 'postponed' });
    const unmuted = 'uptime_credits_server_maintenance_active{customer="acme",server="down-1"} 0';
    await waitFor('the cancelled maintenance gone from the SLA view', async () =>
      (await (await fetch(`${daemon.address}/metrics`)).text()).includes(unmuted) ? true : undefined,
    );
    expect(((await (await api('/api/v1/maintenance')).json()) as { maintenance: unknown[] }).maintenance).toHaveLength(
      1,
    );
    const openapi = (await (await fetch(`${daemon.address}/openapi.json`)).json()) as {
      paths: Record<string, unknown>;
    };
    expect(Object.keys(openapi.paths)).toEqual(
      expect.arrayContaining([
        '/api/v1/incidents',
        '/api/v1/incidents/{id}/withdraw',
        '/api/v1/maintenance',
        '/api/v1/maintenance/{id}/cancel',
      ]),
    );
  }, 60_000);

  it('stores every probe as an observation', async () => {
    await daemon.stop();
    const store = EmbeddedObservationStore.open(dbPath);
    try {
      // Probed by this daemon: from its start on (up-1's earlier observations were written by the test).
      const up = await store.readObservations('up-1', STARTED_AT, clock.now() + 1);
      const down = await store.readObservations('down-1', 0, clock.now() + 1);
      expect(up.length).toBeGreaterThan(0);
      expect(down.length).toBeGreaterThan(0);
      expect(up.filter((o) => !(o.up && o.location === 'waw' && o.check === 'http'))).toEqual([]);
      expect(
        down.filter((o) => !(!o.up && o.location === 'waw' && o.check === 'tcp' && o.error === 'refused')),
      ).toEqual([]);
      expect(down[0]!.timeMs).toBeGreaterThanOrEqual(STARTED_AT);
    } finally {
      await store.close();
    }
  });
});
