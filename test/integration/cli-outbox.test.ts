// `uptime-credits outbox`: what waits, what InfluxDB refused and is parked, and --retry once the cause is fixed.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cliWorkspace } from '../support/cli.js';
import { countInInflux, influxSuite, openInfluxStore } from '../support/influx-suite.js';

describe('outbox command', () => {
  const influx = influxSuite({ database: 'uptime', proxy: true });
  const { dir, cli } = cliWorkspace(
    'uc-cli-outbox-',
    (dir) => `
timezone: UTC
storage:
  kind: influxdb
  path: ${join(dir, 'outbox.db')}
  influxdb: { url: "${influx.proxy.url}", apiVersion: 1, database: uptime }
customers:
  - id: acme
    name: ACME
    tier: platinum
    servers: [{ id: oci-101, name: Shop }, { id: oci-102, name: Api }]
`,
  );

  it('lists parked lines with InfluxDB reason, and --retry sends them once InfluxDB takes them', async () => {
    const store = openInfluxStore({
      url: influx.proxy.url,
      database: 'uptime',
      outboxPath: join(dir, 'outbox.db'),
      batchSize: 100,
      timeoutMs: 2_000,
    });
    const t0 = Date.parse('2026-11-29T10:00:00Z');
    influx.proxy.setMode({ kind: 'refuse-lines', refuse: (line) => line.includes('server=oci-102') });
    await store.write(
      Array.from({ length: 6 }, (_, i) => ({
        timeMs: t0 + i * 60_000,
        server: i % 2 === 0 ? 'oci-101' : 'oci-102',
        location: 'waw',
        check: '',
        up: true,
      })),
    );
    expect(await store.drain(10_000)).toBe(true);
    await store.close();

    const shown = await cli('outbox');
    expect(shown.code).toBe(0);
    expect(shown.stdout).toContain('waiting: none');
    expect(shown.stdout).toContain(
      'parked: 3 observations InfluxDB refused by name (send again with --retry once the cause is fixed)',
    );
    expect(shown.stdout).toContain('unable to parse: bad timestamp');
    expect(shown.stdout).toContain(
      'uptime_observation,check=-,location=waw,server=oci-102 gap_mark_ms=9007199254740991i,up=1i 1795946460000',
    );
    const json = JSON.parse((await cli('outbox', '--json')).stdout) as {
      waiting: number;
      parked: number;
      parkedRows: unknown[];
    };
    expect(json).toMatchObject({ waiting: 0, parked: 3 });
    expect(json.parkedRows).toHaveLength(3);

    // Still refused: --retry says so and exits 4, the lines are parked again, nothing lost.
    const stillRefused = await cli('outbox', '--retry', '--wait', '10');
    expect(stillRefused.code).toBe(4);
    expect(stillRefused.stdout).toContain('queued 3 parked observations again; the outbox is empty; parked now: 3');

    influx.proxy.setMode({ kind: 'pass' });
    const retried = await cli('outbox', '--retry', '--wait', '10');
    expect(retried).toMatchObject({ code: 0 });
    expect(retried.stdout).toContain('queued 3 parked observations again; the outbox is empty; parked now: 0\n');
    expect(retried.stdout).toContain('parked: none');
    expect(await countInInflux(influx.influxd, 'uptime')).toBe(6);
  }, 60_000);
});
