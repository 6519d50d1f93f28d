// A close on InfluxDB waits for the outbox: a month imported while influxd was down (behind a backlog of over a
// million lines), closed right after influxd comes back, is published with the right total, or not at all with
// an exit code that says why.
import { createWriteStream, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { finished } from 'node:stream/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLOSE_EXIT } from '../../src/commands/close-output.js';
import { runCli } from '../support/cli.js';
import { startInfluxd, type Influxd } from '../support/influxd.js';
import { observationLines } from '../support/observations.js';

const at = (iso: string) => Date.parse(iso);
const FILLERS = 24; // 24 servers x 30 days of September at one probe a minute: 1,036,800 lines ahead of October

describe('month close on InfluxDB after an outage of influxd', () => {
  let influxd: Influxd;
  let dir: string;
  let config: string;

  beforeAll(async () => {
    influxd = await startInfluxd('uptime');
    dir = mkdtempSync(join(tmpdir(), 'uc-close-influx-'));
    config = join(dir, 'config.yaml');
    const fillers = Array.from(
      { length: FILLERS },
      (_, i) => `      - { id: f${i}, name: "Filler ${i}", until: "2026-10-01" }`,
    ).join('\n');
    writeFileSync(
      config,
      `
storage:
  kind: influxdb
  path: ${join(dir, 'outbox.db')}
  influxdb: { url: "${influxd.url}", apiVersion: 1, database: uptime }
reports: { dir: ${join(dir, 'reports')} }
probing: { location: waw, interval: 60s }
customers:
  - id: acme
    name: ACME
    tier: platinum
    servers: [{ id: oci-101, name: Shop }]
  - id: fill
    name: Fill
    tier: silver
    servers:
${fillers}
`,
    );
  });
  afterAll(async () => {
    await influxd?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('waits for the backlog, or holds the close with exit code 5; never publishes the missing data as available', async () => {
    await influxd.kill();
    const backlog = join(dir, 'september.ndjson');
    const out = createWriteStream(backlog);
    for (let i = 0; i < FILLERS; i++) {
      out.write(
        `${observationLines({ server: `f${i}`, fromMs: at('2026-08-31T22:00:00Z'), toMs: at('2026-09-30T22:00:00Z'), everyMs: 60_000 }).join('\n')}\n`,
      );
    }
    out.end();
    await finished(out);
    const october = join(dir, 'october.ndjson');
    // 4 h 12 min down of 745 h: 99.4362 % -> Platinum < 99.6 -> 25 % of 600.00 = 150.00.
    const octoberLines = observationLines({
      server: 'oci-101',
      fromMs: at('2026-09-30T20:00:00Z'),
      toMs: at('2026-11-01T02:00:00Z'),
      everyMs: 60_000,
      down: [{ fromMs: at('2026-10-03T12:00:00Z'), toMs: at('2026-10-03T16:12:00Z') }],
    });
    writeFileSync(october, `${octoberLines.join('\n')}\n`);
    expect((await runCli(['import', '-c', config, backlog])).code).toBe(0);
    expect((await runCli(['import', '-c', config, october])).code).toBe(0);

    await influxd.restart();
    // At once, with almost no patience: the month's lines are still behind the backlog. Nothing is published.
    const hurried = await runCli(['report', '-c', config, '--month', '2026-10', '--wait', '1s']);
    expect(hurried.code, hurried.stdout + hurried.stderr).toBe(CLOSE_EXIT.tryLater);
    expect(hurried.stdout).toMatch(
      /^nothing was published for 2026-10: incomplete evidence for .*: \d+ observations still waiting in influxdb/,
    );
    expect(existsSync(join(dir, 'reports', '2026-10', 'ledger.csv'))).toBe(false);
    expect(existsSync(join(dir, 'reports', 'journal.csv'))).toBe(false);

    // With the default patience the close waits for the outbox and publishes the right total.
    const closed = await runCli(['report', '-c', config, '--month', '2026-10', '--json']);
    expect(closed.code, closed.stdout + closed.stderr).toBe(CLOSE_EXIT.done);
    expect(JSON.parse(closed.stdout)).toMatchObject({ status: 'issued', revision: 1, totalGrosze: 15_000 });
    const [count] = await influxd.query('SELECT count("up") FROM "uptime_observation"');
    expect(count!.values[0]![1]).toBe(FILLERS * 30 * 1_440 + octoberLines.length); // every line arrived
  }, 300_000);
});
