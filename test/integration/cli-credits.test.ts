// End to end through the real CLI: import generated observations, then close the month.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROGRESS_ENV } from '../../src/commands/progress-line.js';
import { runCli } from '../support/cli.js';
import { observationLines } from '../support/observations.js';

const H = 3_600_000;
const MIN = 60_000;
// October 2026 in Warsaw: 2026-09-30T22:00Z to 2026-10-31T23:00Z, 745 h. Data from a day before to a day after.
const FROM = Date.parse('2026-09-29T22:00:00Z');
const TO = Date.parse('2026-11-01T23:00:00Z');
const at = (iso: string) => Date.parse(iso);

const CONFIG = (dir: string) => `
timezone: Europe/Warsaw
storage: { kind: embedded, path: ${join(dir, 'store.db')} }
reports: { dir: ${join(dir, 'reports')} }
probing: { location: waw, interval: 60s, timeout: 10s, confirmations: 3 }
customers:
  - id: pl-co
    name: "Zakład Łódź"
    tier: platinum
    language: pl
    servers:
      - { id: p1, name: "P1" }
      - { id: p2, name: "P2" }
  - id: en-co
    name: "English Co"
    tier: gold
    language: en
    servers:
      - { id: g1, name: "G1", since: "2026-10-15" }
  - id: silver-co
    name: "Silver Co"
    tier: silver
    servers:
      - { id: s1, name: "S1" }
maintenance:
  - { server: p2, from: "2026-10-10T03:00:00+02:00", to: "2026-10-10T04:00:00+02:00", reason: "Planned", announced: true }
`;

describe('uptime-credits import + credits on a generated month', () => {
  let dir: string;
  let file: string;
  let config: string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'uc-cli-'));
    config = join(dir, 'config.yaml');
    writeFileSync(config, CONFIG(dir));
    const every = MIN;
    const lines = [
      // p1: down 3 h on Oct 3, 12:00-15:00 UTC.
      ...observationLines({
        server: 'p1',
        fromMs: FROM,
        toMs: TO,
        everyMs: every,
        down: [{ fromMs: at('2026-10-03T12:00:00Z'), toMs: at('2026-10-03T15:00:00Z') }],
      }),
      // p2: down 4 h on Oct 10, 00:00-04:00 UTC; maintenance 01:00-02:00 UTC takes 1 h out.
      ...observationLines({
        server: 'p2',
        fromMs: FROM,
        toMs: TO,
        everyMs: every,
        down: [{ fromMs: at('2026-10-10T00:00:00Z'), toMs: at('2026-10-10T04:00:00Z') }],
      }),
      // g1: covered from Oct 15 local midnight; down 2 h on Oct 20; a down stretch before coverage does not count.
      ...observationLines({
        server: 'g1',
        fromMs: FROM,
        toMs: TO,
        everyMs: every,
        down: [
          { fromMs: at('2026-10-20T08:00:00Z'), toMs: at('2026-10-20T10:00:00Z') },
          { fromMs: at('2026-10-05T00:00:00Z'), toMs: at('2026-10-06T00:00:00Z') },
        ],
      }),
      // s1: 10 h without any observation (unmonitored, not down) and 2 lone failures (unconfirmed).
      ...observationLines({
        server: 's1',
        fromMs: FROM,
        toMs: TO,
        everyMs: every,
        silent: [{ fromMs: at('2026-10-07T00:00:00Z'), toMs: at('2026-10-07T10:00:00Z') }],
        down: [{ fromMs: at('2026-10-08T00:00:00Z'), toMs: at('2026-10-08T00:02:00Z') }],
      }),
    ];
    lines.splice(100, 0, '{"time":"2026-10-01T00:00:00Z","server":"p9","up":true}', 'not json');
    file = join(dir, 'observations.ndjson');
    writeFileSync(file, `${lines.join('\n')}\n`);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('imports good lines, reports bad ones with their line numbers, and stores nothing twice', async () => {
    const first = await runCli(['import', '--config', config, file]);
    expect(first.stderr).toContain(`${file}:101: server: "p9" is not a configured server`);
    expect(first.stderr).toContain(`${file}:102: not valid JSON`);
    expect(first.code).toBe(2);
    const total = (TO - FROM) / MIN;
    const stored = 4 * total - 600; // s1 is silent for 10 h = 600 probes
    expect(first.stdout).toBe(`imported ${stored}, duplicates 0, conflicts 0, rejected 2\n`);
    const second = await runCli(['--config', config, 'import', file]);
    expect(second.stdout).toBe(`imported 0, duplicates ${stored}, conflicts 0, rejected 2\n`);
  });

  it('prints the credits sla-terms.md prescribes, to the grosz', async () => {
    const result = await runCli(['credits', '--config', config, '--month', '2026-10', '--json']);
    // Not a terminal: no progress, only the summary of where the time went.
    expect(result.stderr).toMatch(
      /^credits: finished in [\d.]+ s: reading observations 4 in [\d.]+ s; computing credits [\d.]+ s\n$/,
    );
    expect(result.code).toBe(0);
    const json = JSON.parse(result.stdout);
    expect(json).toMatchObject({ month: '2026-10', timeZone: 'Europe/Warsaw', monthMs: 745 * H });
    const servers = Object.fromEntries(
      json.customers.flatMap((c: { servers: { id: string }[] }) => c.servers.map((s) => [s.id, s])),
    );

    // p1: 3 h down of 745 h -> 99.5973 % -> platinum < 99.6 -> 25 % of 600.00 = 150.00.
    expect(servers.p1).toMatchObject({
      eligibleMs: 745 * H,
      downtimeMs: 3 * H,
      unmonitoredMs: 0,
      uptimePercent: '99.5973',
      creditPercent: '25.00',
      creditBase: '600.00',
      creditAmount: '150.00',
    });
    expect(servers.p1.outages).toEqual([
      { from: '2026-10-03T12:00:00.000Z', to: '2026-10-03T15:00:00.000Z', durationMs: 3 * H },
    ]);
    // p2: 4 h down minus 1 h maintenance = 3 h of 744 h -> 99.5967 % -> 25 % of 600.00 = 150.00, outage split.
    expect(servers.p2).toMatchObject({
      eligibleMs: 744 * H,
      maintenanceMs: H,
      downtimeMs: 3 * H,
      uptimePercent: '99.5967',
      creditAmount: '150.00',
    });
    expect(servers.p2.outages.map((o: { from: string; to: string }) => [o.from, o.to])).toEqual([
      ['2026-10-10T00:00:00.000Z', '2026-10-10T01:00:00.000Z'],
      ['2026-10-10T02:00:00.000Z', '2026-10-10T04:00:00.000Z'],
    ]);
    // g1: covered Oct 15 00:00 local to Nov 1 00:00 local = 17 days + the DST hour = 409 h.
    // Fee 300.00 x 409 / 745 = 164.6979... -> 164.70. 2 h down -> 407/409 = 99.5110 % -> gold < 99.6 -> 10 % -> 16.47.
    expect(servers.g1).toMatchObject({
      coveredMs: 409 * H,
      eligibleMs: 409 * H,
      downtimeMs: 2 * H,
      uptimePercent: '99.5110',
      creditPercent: '10.00',
      creditBase: '164.70',
      creditAmount: '16.47',
    });
    // s1: the last probe before the gap is at 23:59 and stays fresh 180 s, until 00:02; the next comes at 10:00.
    // So 10 h - 120 s is unmonitored, not down; and 2 failures are not the 3 that confirm an outage.
    expect(servers.s1).toMatchObject({
      downtimeMs: 0,
      unmonitoredMs: 10 * H - 120_000,
      uptimePercent: '100.0000',
      creditAmount: '0.00',
    });

    expect(json.customers.map((c: { id: string; creditAmount: string }) => [c.id, c.creditAmount])).toEqual([
      ['pl-co', '300.00'],
      ['en-co', '16.47'],
      ['silver-co', '0.00'],
    ]);
    expect(json.creditAmount).toBe('316.47');
  });

  it('prints a readable table without --json', async () => {
    const result = await runCli(['credits', '--config', config, '--month', '2026-10']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(
      /pl-co\s+platinum\s+p1\s+745\.00\s+180\.0\s+0\.0\s+100\.00\s+99\.5973\s+25\.00\s+600\.00\s+150\.00/,
    );
    expect(result.stdout).toContain('total: 316.47 PLN');
  });

  it(`with ${PROGRESS_ENV}=1, credits --json and report --json show their phases on stderr; stdout stays JSON`, async () => {
    const env = { [PROGRESS_ENV]: '1' };
    const credits = await runCli(['credits', '--config', config, '--month', '2026-10', '--json'], { env });
    expect(credits.code).toBe(0);
    expect(JSON.parse(credits.stdout)).toMatchObject({ month: '2026-10', creditAmount: '316.47' });
    // ERASE: the terminal's "erase to the end of the line" (ESC [ K) as regular-expression source.
    const ERASE = '\\u001b\\[K';
    expect(credits.stderr).toMatch(new RegExp(`^\\rcredits: starting, [\\d.]+ s${ERASE}`));
    expect(credits.stderr).toMatch(
      new RegExp(
        `\\r${ERASE}credits: finished in [\\d.]+ s: reading observations 4 in [\\d.]+ s; computing credits [\\d.]+ s\\n$`,
      ),
    );

    const draft = await runCli(['report', '--config', config, '--month', '2026-10', '--draft', '--json'], { env });
    expect(draft.code).toBe(0);
    expect(JSON.parse(draft.stdout)).toMatchObject({ status: 'draft', month: '2026-10' });
    expect(draft.stderr).toMatch(new RegExp(`^\\rreport: starting, [\\d.]+ s${ERASE}`));
    const phases = new RegExp(
      `\\r${ERASE}report: finished in [\\d.]+ s: reading observations 4 in [\\d.]+ s; computing credits [\\d.]+ s; rendering PDFs 3 in [\\d.]+ s\\n$`,
    );
    expect(draft.stderr).toMatch(phases);
  });

  it('report closes the month once; a second run finds it unchanged', async () => {
    const out = join(dir, 'reports');
    const first = await runCli(['report', '--config', config, '--month', '2026-10']);
    expect(first.code).toBe(0);
    expect(first.stdout).toBe(
      `closed 2026-10: revision 1 in ${join(out, '2026-10')}\n  total 316.47 PLN (net); 3 journal row(s) appended\n`,
    );
    expect(first.stderr).toMatch(
      /^report: finished in [\d.]+ s: waiting for evidence [\d.]+ s; reading observations 4 in [\d.]+ s; computing credits [\d.]+ s; rendering PDFs 3 in [\d.]+ s\n$/,
    );
    const second = await runCli(['report', '--config', config, '--month', '2026-10']);
    expect(second.code).toBe(0);
    expect(second.stdout).toBe(
      'unchanged: 2026-10 revision 1 stands (the figures are the same); nothing was written\n',
    );
    const ledger = JSON.parse(readFileSync(join(out, '2026-10', 'ledger.json'), 'utf8'));
    expect(ledger.summary.totalAmount).toBe('316.47');
  });

  it('a bad month or a bad config exits non-zero with the reason on stderr', async () => {
    const badMonth = await runCli(['credits', '--config', config, '--month', '2026-13']);
    expect(badMonth.code).not.toBe(0);
    expect(badMonth.stderr).toContain('"2026-13" is not a month in the form YYYY-MM');
    const badConfig = join(dir, 'bad.yaml');
    writeFileSync(badConfig, 'probing: { interval: fast }\n');
    const result = await runCli(['credits', '--config', badConfig, '--month', '2026-10']);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain(`invalid configuration ${badConfig}:`);
    expect(result.stderr).toContain('probing.interval: "fast" is not a duration');
    expect(result.stdout).toBe('');
  });
});
