// `uptime-credits start` stopped by SIGTERM while probes are in flight, in a child process on a real influxd: the
// probes finish, their observations go through the outbox to InfluxDB before the process exits 0, nothing waits.
// And stopped while an API close waits for evidence: the close ends at once, records nothing, and the process exits.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { monthContaining, previousMonth } from '../../src/sla/month.js';
import { SqliteCloseRecords } from '../../src/state/close-records.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDaemonProcess, type DaemonProcess } from '../support/daemon-process.js';
import { countInInflux, influxSuite } from '../support/influx-suite.js';
import { until } from '../support/until.js';

/** An HTTP target answering each request after `delayMs`. */
async function startSlowTarget(delayMs: number) {
  const counts = { received: 0, answered: 0 };
  let onRequest: (() => void) | undefined;
  const server = createServer((_request, response) => {
    counts.received++;
    onRequest?.();
    setTimeout(() => response.end('ok', () => counts.answered++), delayMs);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    counts,
    /** Runs `action` once, as a request arrives while at least `inFlight` requests (that one included) wait for their answer. */
    onceInFlight(inFlight: number, action: () => void) {
      onRequest = () => {
        if (counts.received - counts.answered < inFlight) return;
        onRequest = undefined;
        action();
      };
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const waitFor = (what: string, check: () => boolean | Promise<boolean>) => until(what, check, 20_000, 50);

describe('graceful shutdown of start', () => {
  const influx = influxSuite();
  let target: Awaited<ReturnType<typeof startSlowTarget>>;
  let dir: string;
  let daemon: DaemonProcess | undefined;
  beforeAll(async () => {
    target = await startSlowTarget(1_500);
    dir = mkdtempSync(join(tmpdir(), 'uc-shutdown-'));
  });
  afterAll(async () => {
    // A daemon that did not stop by itself (the test failed) is killed, not left running.
    if (daemon && daemon.child.exitCode === null && daemon.child.signalCode === null) await daemon.stop('SIGKILL');
    await target?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('SIGTERM mid-probe: the probes end, their observations reach InfluxDB, the outbox is empty, exit 0', async () => {
    const database = await influx.database('shutdown');
    const config = join(dir, 'config.yaml');
    // Three checks at 3 s (phases hashed: two of them are always within 1 s of each other), each answered after 1.5 s
    // (half the timeout: no timeout on a loaded machine), so two probes are in flight now and then. A batch of
    // one line per write, so that what the probes in flight bring at the stop is more than one send: only the store's
    // drain at close gets all of it to InfluxDB.
    const servers = [0, 1, 2]
      .map(
        (i) => `      - { id: slow-${i}, name: Slow ${i}, checks: [{ kind: http, url: "${target.url}/slow-${i}" }] }`,
      )
      .join('\n');
    writeFileSync(
      config,
      `storage: { kind: influxdb, path: ${join(dir, 'outbox.db')}, influxdb: { url: "${influx.influxd.url}", apiVersion: 1, database: ${database}, timeout: 2s, batchSize: 1 } }
state: { path: ${join(dir, 'state.db')} }
probing: { location: waw, interval: 3s, timeout: 3s }
http: { listen: 127.0.0.1, port: 0 }
reports: { dir: ${join(dir, 'reports')} }
customers:
  - id: acme
    name: ACME
    tier: gold
    servers:
${servers}
`,
    );
    const started = await startDaemonProcess(config);
    daemon = started;
    let exit: Promise<number | null> | undefined;
    await waitFor(
      'probes answered and stored',
      async () => target.counts.answered >= 3 && (await countInInflux(influx.influxd, database)) >= 3,
    );
    // SIGTERM as a probe's request arrives while another waits too: they are answered while the daemon stops.
    await new Promise<void>((resolve) =>
      target.onceInFlight(2, () => {
        exit = started.stop('SIGTERM');
        resolve();
      }),
    );
    expect(target.counts.received - target.counts.answered).toBeGreaterThanOrEqual(2);
    expect(await exit).toBe(0);

    // The probes in flight were waited for, not cut off, and every probe made is an observation in InfluxDB.
    expect(target.counts.answered).toBe(target.counts.received);
    const [series] = await influx.influxd.query(`SELECT "up" FROM "${database}"."autogen"."uptime_observation"`);
    const rows = series?.values ?? [];
    // Less any probe the daemon left out as its own trouble (a stalled process on a loaded machine), each logged.
    const discarded = started.logs.filter((line) =>
      String(line.msg).startsWith('a probe failed because of this process'),
    ).length;
    expect(rows.length).toBe(target.counts.received - discarded);
    expect(rows.filter((row) => row[1] !== 1)).toEqual([]);
    // Nothing left behind for the next start.
    const outbox = new Database(join(dir, 'outbox.db'), { readonly: true });
    try {
      expect(outbox.prepare('SELECT count(*) FROM influx_outbox_chunks').pluck().get()).toBe(0);
      expect(outbox.prepare('SELECT count(*) FROM influx_rejected').pluck().get()).toBe(0);
    } finally {
      outbox.close();
    }
    const messages = started.logs.map((line) => line.msg);
    expect(started.logs.find((line) => line.msg === 'stopping')).toMatchObject({ signal: 'SIGTERM' });
    expect(messages.indexOf('uptime-credits stopped')).toBeGreaterThan(messages.indexOf('stopping'));
    expect(started.logs.filter((line) => line.level >= 50)).toEqual([]);
  }, 60_000);

  it('SIGTERM while an API close waits for evidence: 503 STOPPING, nothing recorded, exit 0 without the wait', async () => {
    const database = await influx.database('stopclose');
    const config = join(dir, 'close-config.yaml');
    const token = 'stop-close-token-0123456789';
    // The agent "ghost" never writes a heartbeat, so a close waits the whole sla.evidenceWait (10 minutes) for it.
    writeFileSync(
      config,
      `timezone: UTC
storage: { kind: influxdb, path: ${join(dir, 'close-outbox.db')}, influxdb: { url: "${influx.influxd.url}", apiVersion: 1, database: ${database} } }
state: { path: ${join(dir, 'close-state.db')} }
roles: [close, api]
agents: [ghost]
sla: { evidenceWait: 10m }
http: { listen: 127.0.0.1, port: 0, token: "${token}" }
reports: { dir: ${join(dir, 'close-reports')} }
customers:
  - { id: acme, name: ACME, tier: gold, servers: [{ id: web-1, name: Web }] }
`,
    );
    const month = previousMonth(monthContaining(Date.now(), 'UTC'));
    const started = await startDaemonProcess(config);
    daemon = started;
    const answer = fetch(`${started.url}/api/v1/months/${month}/close`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}` },
    });
    await waitFor('the close to wait for evidence', () =>
      started.logs.some((line) => String(line.msg).startsWith(`closing ${month} waits up to 600 s for evidence`)),
    );
    const waitingLine = started.logs.find((line) => String(line.msg).startsWith(`closing ${month} waits`));
    expect(waitingLine?.msg).toContain('ghost');
    const exit = started.stop('SIGTERM');
    const response = await answer;
    expect(response.status).toBe(503);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('STOPPING');
    // Well within the 10-minute wait (the test's own timeout is 60 s), and cleanly.
    expect(await exit).toBe(0);
    expect(started.logs.filter((line) => line.level >= 50)).toEqual([]);
    // Nothing recorded: no hold, no revision. The next start closes the month as if it had never been asked.
    const records = SqliteCloseRecords.open(join(dir, 'close-state.db'));
    try {
      expect(records.month(month)).toBeUndefined();
      expect(records.revisions(month)).toEqual([]);
    } finally {
      records.close();
    }
  }, 60_000);
});
