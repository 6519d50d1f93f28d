// `uptime-credits outbox`: what waits, what InfluxDB refused and is parked, and --retry once the cause is fixed.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logging.js';
import { influxConnection } from '../../src/store/influx/connection.js';
import { OutboxedInfluxStore } from '../../src/store/influx/influx-store.js';
import { runCli } from '../support/cli.js';
import { startFaultProxy, type FaultProxy } from '../support/fault-proxy.js';
import { startInfluxd, type Influxd } from '../support/influxd.js';

describe('outbox command', () => {
  let influxd: Influxd;
  let proxy: FaultProxy;
  let dir: string;
  beforeAll(async () => {
    influxd = await startInfluxd('uptime');
    proxy = await startFaultProxy(influxd.url);
    dir = mkdtempSync(join(tmpdir(), 'uc-cli-outbox-'));
  }, 60_000);
  afterAll(async () => {
    await proxy?.close();
    await influxd?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('lists parked lines with InfluxDB reason, and --retry sends them once InfluxDB takes them', async () => {
    const config = join(dir, 'config.yaml');
    writeFileSync(
      config,
      `
timezone: UTC
storage:
  kind: influxdb
  path: ${join(dir, 'outbox.db')}
  influxdb: { url: "${proxy.url}", apiVersion: 1, database: uptime }
customers:
  - id: acme
    name: ACME
    tier: platinum
    servers: [{ id: oci-101, name: Shop }, { id: oci-102, name: Api }]
`,
    );
    const connection = influxConnection({ url: proxy.url, apiVersion: 1, database: 'uptime', org: '', measurement: 'uptime_observation', batchSize: 100, flushInterval: 1_000, timeout: 2_000 });
    const store = OutboxedInfluxStore.open(join(dir, 'outbox.db'), connection, createLogger(), 100);
    const t0 = Date.parse('2026-11-29T10:00:00Z');
    proxy.setMode({ kind: 'refuse-lines', refuse: (line) => line.includes('server=oci-102') });
    await store.write(Array.from({ length: 6 }, (_, i) => ({ timeMs: t0 + i * 60_000, server: i % 2 === 0 ? 'oci-101' : 'oci-102', location: 'waw', check: '', up: true })));
    expect(await store.drain(10_000)).toBe(true);
    await store.close();

    const shown = await runCli(['outbox', '-c', config]);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toContain('waiting: none');
    expect(shown.stdout).toContain('parked: 3 observations InfluxDB refused by name (send again with --retry once the cause is fixed)');
    expect(shown.stdout).toContain('unable to parse: bad timestamp');
    expect(shown.stdout).toContain('uptime_observation,check=-,location=waw,server=oci-102 gap_ms=-1i,up=1i 1795946460000');
    const json = JSON.parse((await runCli(['outbox', '-c', config, '--json'])).stdout) as { waiting: number; parked: number; parkedRows: unknown[] };
    expect(json).toMatchObject({ waiting: 0, parked: 3 });
    expect(json.parkedRows).toHaveLength(3);

    // Still refused: --retry says so and exits 4, the lines are parked again, nothing lost.
    const stillRefused = await runCli(['outbox', '-c', config, '--retry', '--wait', '10']);
    expect(stillRefused.code).toBe(4);
    expect(stillRefused.stdout).toContain('queued 3 parked observations again; the outbox is empty; parked now: 3');

    proxy.setMode({ kind: 'pass' });
    const retried = await runCli(['outbox', '-c', config, '--retry', '--wait', '10']);
    expect(retried).toMatchObject({ code: 0 });
    expect(retried.stdout).toContain('queued 3 parked observations again; the outbox is empty; parked now: 0\n');
    expect(retried.stdout).toContain('parked: none');
    const [series] = await influxd.query('SELECT count("up") FROM "uptime".."uptime_observation"');
    expect(Number(series!.values[0]![1])).toBe(6);
  }, 60_000);
});
