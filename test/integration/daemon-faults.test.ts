// The whole daemon under the faults of issue 13, in a child process against real loopback targets: a full disk
// under its store, InfluxDB answering 400 for seconds, and SIGKILL. Counted end to end: the probes the target
// saw against the observations stored.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FLUSH_EVERY_MS } from '../../src/scheduler/probe-loop.js';
import { EmbeddedObservationStore } from '../../src/store/embedded/embedded-store.js';
import { fleetConfigYaml, startDaemonProcess, startCountingTarget } from '../support/daemon-process.js';
import { startFaultProxy, type FaultProxy } from '../support/fault-proxy.js';
import { openInfluxStore } from '../support/influx-suite.js';
import { startInfluxd, type Influxd } from '../support/influxd.js';
import { mountSmallDisk } from '../support/small-disk.js';
import { until } from '../support/until.js';

const SERVERS = 40;
/** /readyz gives its reasons only to a caller with a token. */
const READY_TOKEN = 'daemon-faults-token-0123456789';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A check that throws (the daemon not answering yet) counts as not yet. */
const waitFor = (what: string, check: () => Promise<boolean>, timeoutMs = 30_000) =>
  until(what, () => check().catch(() => false), timeoutMs, 200);

describe('the daemon under faults', () => {
  let target: Awaited<ReturnType<typeof startCountingTarget>>;
  beforeAll(async () => {
    target = await startCountingTarget();
  });
  afterAll(async () => {
    await target?.close();
  });

  it('a full disk under the store: probing and health go on, no false downtime, one error a minute, recovery by itself', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'uc-diskfull-'));
    const disk = mountSmallDisk(6);
    try {
      writeFileSync(
        join(dir, 'config.yaml'),
        fleetConfigYaml(SERVERS, `{ kind: embedded, path: ${join(disk.path, 'store.db')} }`, dir, target.url),
      );
      const startRequests = target.count(); // before the spawn: the daemon probes before it listens
      const daemon = await startDaemonProcess(join(dir, 'config.yaml'), { UPTIME_CREDITS_TOKEN: READY_TOKEN });
      await waitFor('ready', async () => (await daemon.get('/readyz')).status === 200);
      await sleep(2_000);
      disk.fill(); // the store's next commit fails with SQLITE_FULL
      const fullFrom = target.count();
      await waitFor(
        'the local write problem to show',
        async () => (await daemon.metric('uptime_credits_store_local_write_ok')) === 0,
        10_000,
      );
      // Ten seconds full: every health request answers within its 2 s client timeout.
      const slowest: number[] = [];
      for (let i = 0; i < 20; i++) {
        const started = performance.now();
        expect((await daemon.get('/healthz', 2_000)).status).toBe(200);
        const ready = await daemon.get('/readyz', 2_000, READY_TOKEN);
        expect(ready.status).toBe(503);
        expect(ready.body).toContain('cannot store observations locally');
        await daemon.get('/metrics', 2_000);
        slowest.push(performance.now() - started);
        await sleep(500);
      }
      const fullProbes = target.count() - fullFrom;
      // Probing went on at its rate (40 checks a second) while nothing could be stored.
      expect(fullProbes).toBeGreaterThan(SERVERS * 8);
      expect(await daemon.metric('uptime_credits_observations_pending_write')).toBeGreaterThan(SERVERS * 5);
      disk.free();
      await waitFor(
        'recovery',
        async () =>
          (await daemon.get('/readyz')).status === 200 &&
          (await daemon.metric('uptime_credits_observations_pending_write')) < SERVERS * 2,
        40_000,
      );
      expect(await daemon.metric('uptime_credits_store_local_write_ok')).toBe(1);
      const discarded = await daemon.metric('uptime_credits_probes_discarded_total{reason="process-stalled"}');
      expect(await daemon.stop('SIGTERM')).toBe(0);
      const errors = daemon.logs.filter((l) => l.level >= 50);
      expect(errors.map((l) => l.msg)).toEqual([
        'writing observations to the store failed; they wait in memory and are retried',
      ]);
      const store = EmbeddedObservationStore.open(join(disk.path, 'store.db'));
      try {
        let stored = 0;
        for (let i = 0; i < SERVERS; i++) {
          const observations = await store.readObservations(`s${i}`, 0, Date.now() + 1);
          // No false downtime: every stored observation of these healthy servers is up.
          expect(observations.filter((o) => !o.up)).toEqual([]);
          stored += observations.length;
        }
        // Every probe the target answered is stored, bar those left out because the process stalled.
        expect(stored).toBe(target.count() - startRequests - discarded);
        console.log(
          `disk full: ${fullProbes} probes while full, ${stored} stored, ${discarded} left out as stalled, slowest health round ${Math.round(Math.max(...slowest))} ms`,
        );
      } finally {
        await store.close();
      }
    } finally {
      disk.unmount();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);

  describe('on InfluxDB behind a fault proxy', () => {
    let influxd: Influxd;
    let proxy: FaultProxy;
    beforeAll(async () => {
      influxd = await startInfluxd();
      proxy = await startFaultProxy(influxd.url);
    }, 60_000);
    afterAll(async () => {
      await proxy?.close();
      await influxd?.stop();
    });

    it('InfluxDB answering 400 for 5 s: /readyz says degraded, the metrics move, nothing is parked; SIGKILL loses at most the commit window', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'uc-daemon-influx-'));
      try {
        const influx = `{ url: "${proxy.url}", apiVersion: 1, database: uptime, timeout: 2s }`;
        writeFileSync(
          join(dir, 'config.yaml'),
          fleetConfigYaml(
            SERVERS,
            `{ kind: influxdb, path: ${join(dir, 'outbox.db')}, influxdb: ${influx} }`,
            dir,
            target.url,
          ),
        );
        const startRequests = target.count();
        let daemon = await startDaemonProcess(join(dir, 'config.yaml'), { UPTIME_CREDITS_TOKEN: READY_TOKEN });
        await waitFor('ready', async () => (await daemon.get('/readyz')).status === 200);
        proxy.setMode({ kind: 'status', status: 400 });
        await waitFor(
          'degraded',
          async () => JSON.parse((await daemon.get('/readyz')).body).status === 'degraded',
          10_000,
        );
        await sleep(5_000);
        const ready = await daemon.get('/readyz', 2_000, READY_TOKEN);
        expect(ready.status).toBe(200);
        expect(JSON.parse(ready.body)).toMatchObject({
          status: 'degraded',
          reasons: [
            expect.stringMatching(/unreachable: HTTP 400: bad request; \d+ observations wait in the local outbox/),
          ],
        });
        // The metrics tell the truth during the outage (no SLA refresh needed).
        expect(await daemon.metric('uptime_credits_outbox_backlog_observations')).toBeGreaterThan(SERVERS * 2); // read every 2 s
        expect(await daemon.metric('uptime_credits_outbox_oldest_waiting_age_seconds')).toBeGreaterThan(2);
        expect(await daemon.metric('uptime_credits_store_write_errors_total')).toBeGreaterThan(0);
        expect(await daemon.metric('uptime_credits_store_remote_up')).toBe(0);
        proxy.setMode({ kind: 'pass' });
        await waitFor(
          'the backlog to drain',
          async () =>
            (await daemon.metric('uptime_credits_outbox_backlog_observations')) < SERVERS &&
            JSON.parse((await daemon.get('/readyz')).body).status === 'ready',
          30_000,
        );
        expect(await daemon.metric('uptime_credits_outbox_parked_observations')).toBe(0);
        expect(await daemon.metric('uptime_credits_store_remote_up')).toBe(1);
        await sleep(1_500);
        // SIGKILL: what was probed but not yet committed is the only loss.
        await daemon.stop('SIGKILL');
        // A restart forwards what the killed process had committed; it is killed as well.
        daemon = await startDaemonProcess(join(dir, 'config.yaml'));
        await sleep(1_500);
        await daemon.stop('SIGKILL');
        const probed = target.count() - startRequests;
        const store = openInfluxStore({
          url: influxd.url,
          database: 'uptime',
          outboxPath: join(dir, 'outbox.db'),
          batchSize: 5_000,
        });
        try {
          expect(await store.drain(30_000)).toBe(true);
          expect(store.health().parked).toBe(0);
        } finally {
          await store.close();
        }
        const [ups] = await influxd.query('SELECT count("up") FROM "uptime".."uptime_observation" WHERE "up" = 1');
        const [downs] = await influxd.query('SELECT count("up") FROM "uptime".."uptime_observation" WHERE "up" = 0');
        expect(downs).toBeUndefined(); // no false downtime from the outage, the kill or the restart
        const stored = Number(ups?.values[0]?.[1] ?? 0);
        const lost = probed - stored;
        console.log(
          `SIGKILL drill: ${probed} probes, ${stored} stored, ${lost} lost (commit window ${FLUSH_EVERY_MS} ms, ${SERVERS} checks/s, two kills)`,
        );
        expect(lost).toBeGreaterThanOrEqual(0);
        // Two kills, each losing at most the commit window plus the probes in flight: far below a second's worth.
        expect(lost).toBeLessThanOrEqual(SERVERS);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }, 120_000);
  });
});
