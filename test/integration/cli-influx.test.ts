// The README recipe: point uptime-credits at a local InfluxDB, import a month, read the credits back from it.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cliWorkspace } from '../support/cli.js';
import { countInInflux, influxSuite } from '../support/influx-suite.js';
import { observationLines } from '../support/observations.js';

describe('month close from InfluxDB through the CLI', () => {
  const influx = influxSuite({ database: 'uptime' });
  const { dir, cli } = cliWorkspace(
    'uc-cli-influx-',
    (dir) => `
storage:
  kind: influxdb
  path: ${join(dir, 'outbox.db')}
  influxdb: { url: "${influx.influxd.url}", apiVersion: 1, database: uptime }
probing: { location: waw, interval: 60s }
customers:
  - id: acme
    name: ACME
    tier: platinum
    servers: [{ id: oci-101, name: Shop }]
`,
  );

  it('imports into InfluxDB and closes October from it, to the grosz', async () => {
    const file = join(dir, 'oct.ndjson');
    const lines = observationLines({
      server: 'oci-101',
      fromMs: Date.parse('2026-09-30T20:00:00Z'),
      toMs: Date.parse('2026-11-01T01:00:00Z'),
      everyMs: 60_000,
      down: [{ fromMs: Date.parse('2026-10-03T12:00:00Z'), toMs: Date.parse('2026-10-03T15:00:00Z') }],
    });
    writeFileSync(file, `${lines.join('\n')}\n`);
    const imported = await cli('import', file);
    expect(imported.stdout).toBe(
      `imported ${lines.length}, duplicates 0, conflicts 0, rejected 0; confirmed by InfluxDB: ${lines.length}, waiting in the outbox: 0\n`,
    );
    expect(await countInInflux(influx.influxd, 'uptime')).toBe(lines.length);
    // Other processes on this InfluxDB learn of it from a heartbeat: what it added, and from when to read again.
    const [beat] = await influx.influxd.query(
      'SELECT "forwarded_through_ms", "written" FROM "uptime"."autogen"."uptime_credits_agents" WHERE "agent" = \'import\'',
    );
    expect(beat?.values.map((row) => row.slice(1))).toEqual([[Date.parse('2026-09-30T20:00:00Z'), lines.length]]);

    const result = await cli('credits', '--month', '2026-10', '--json');
    expect(result.code).toBe(0);
    const server = JSON.parse(result.stdout).customers[0].servers[0];
    // 3 h down of 745 h: 99.5973 % -> platinum < 99.6 -> 25 % of 600.00.
    expect(server).toMatchObject({
      eligibleMs: 2_682_000_000,
      downtimeMs: 10_800_000,
      uptimePercent: '99.5973',
      creditAmount: '150.00',
    });
  }, 30_000);
});
