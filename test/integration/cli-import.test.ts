// `uptime-credits import` through the real CLI: every kind of bad line is named with its line number and
// reason, good lines around them are stored, and the stored rows are exactly the good lines.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmbeddedObservationStore } from '../../src/store/embedded/embedded-store.js';
import { runCli } from '../support/cli.js';

// Each line with the stderr reason it must get; null = a good line. Line numbers are the 1-based positions.
const LINES: [string, string | null][] = [
  ['{"time":"2026-10-03T12:00:00Z","server":"p1","location":"waw","up":false,"error":"timeout","latencyMs":10000}', null],
  ['{"time":1791028860000,"server":"p1","location":"waw","up":true,"latencyMs":12,"check":"web"}', null],
  ['{"time":"2026-10-03T14:01:00+02:00","server":"p1","up":true}', null],
  ['', null],
  ['not json', 'not valid JSON'],
  ['[1,2]', 'not a JSON object'],
  ['{"server":"p1","up":true}', 'time: is required'],
  ['{"time":"2026-10-03T12:00:00","server":"p1","up":true}', 'time: "2026-10-03T12:00:00" is not an ISO-8601 time with Z or an offset, nor epoch milliseconds'],
  ['{"time":"2026-02-30T12:00:00Z","server":"p1","up":true}', 'time: "2026-02-30T12:00:00Z" is not an ISO-8601 time with Z or an offset, nor epoch milliseconds'],
  ['{"time":1.5,"server":"p1","up":true}', 'time: must be an ISO-8601 time with Z or an offset, or epoch milliseconds'],
  ['{"time":8640000000000001,"server":"p1","up":true}', 'time: must be at most 8640000000000000'],
  ['{"time":1791028860000,"server":"p1","up":"yes"}', 'up: must be true or false'],
  ['{"time":1791028860000,"server":"p1","up":true,"latencyMs":-1}', 'latencyMs: must be at least 0'],
  ['{"time":1791028860000,"server":"p1","up":true,"colour":"red"}', 'colour: unknown field'],
  ['{"time":1791028860000,"server":"p9","up":true}', 'server: "p9" is not a configured server'],
  ['{"time":"2026-10-03T12:03:00.250Z","server":"p1","location":"fra","up":false}\r', null],
];

describe('uptime-credits import', () => {
  let dir: string;
  let config: string;
  let file: string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'uc-import-'));
    config = join(dir, 'config.yaml');
    writeFileSync(
      config,
      `storage: { path: ${join(dir, 'data', 'store.db')} }
probing: { location: waw }
customers:
  - { id: c, name: C, tier: gold, servers: [{ id: p1, name: P1 }] }
`,
    );
    file = join(dir, 'obs.ndjson');
    writeFileSync(file, LINES.map(([line]) => line).join('\n'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('names every bad line with its number and reason, keeps the good ones, and exits 2', async () => {
    const result = await runCli(['import', file, '--config', config]);
    const expected = LINES.flatMap(([, reason], i) => (reason ? [`${file}:${i + 1}: ${reason}`] : []));
    expect(result.stderr.trimEnd().split('\n')).toEqual(expected);
    expect(result.stdout).toBe(`imported 4, duplicates 0, rejected ${expected.length}\n`);
    expect(result.code).toBe(2);

    // The store file was created with its folder; the good lines are there as written.
    const store = EmbeddedObservationStore.open(join(dir, 'data', 'store.db'));
    try {
      expect(await store.readObservations('p1', 0, Date.parse('2027-01-01T00:00:00Z'))).toEqual([
        { timeMs: Date.parse('2026-10-03T12:00:00Z'), server: 'p1', location: 'waw', check: '', up: false, latencyMs: 10_000, error: 'timeout' },
        { timeMs: Date.parse('2026-10-03T12:01:00Z'), server: 'p1', location: 'waw', check: '', up: true },
        { timeMs: Date.parse('2026-10-03T12:01:00Z'), server: 'p1', location: 'waw', check: 'web', up: true, latencyMs: 12 },
        { timeMs: Date.parse('2026-10-03T12:03:00.250Z'), server: 'p1', location: 'fra', check: '', up: false },
      ]);
    } finally {
      await store.close();
    }
  });

  it('a file with only good lines exits 0; a missing file exits 1 and says which', async () => {
    const good = join(dir, 'good.ndjson');
    writeFileSync(good, `${LINES[0]![0]}\n${LINES[2]![0]}\n`);
    const result = await runCli(['--config', config, 'import', good]);
    expect(result).toMatchObject({ code: 0, stdout: 'imported 0, duplicates 2, rejected 0\n', stderr: '' });
    const missing = await runCli(['import', '--config', config, join(dir, 'nope.ndjson')]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe(`uptime-credits: ${join(dir, 'nope.ndjson')}: no such file\n`);
    // Nothing was created for it: the store of another config path stays absent.
    const elsewhere = join(dir, 'other.yaml');
    writeFileSync(elsewhere, `storage: { path: ${join(dir, 'other', 'store.db')} }\ncustomers: []\n`);
    expect((await runCli(['import', '--config', elsewhere, join(dir, 'nope.ndjson')])).code).toBe(1);
    expect(existsSync(join(dir, 'other'))).toBe(false);
  });
});
