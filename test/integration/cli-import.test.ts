// `uptime-credits import` through the real CLI: every kind of bad line is named with its line number and
// reason, good lines around them are stored, and the stored rows are exactly the good lines. Odd files (a
// byte-order mark, a line of 64 MiB) and, against a real influxd, times InfluxDB cannot hold and InfluxDB down.
import { closeSync, existsSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROGRESS_ENV } from '../../src/commands/progress-line.js';
import { EmbeddedObservationStore } from '../../src/store/embedded/embedded-store.js';
import { runCli, runCliInTerminal, terminalAvailable } from '../support/cli.js';
import { startInfluxd, type Influxd } from '../support/influxd.js';
import { observationLines } from '../support/observations.js';

const MiB = 1_048_576;

/** The line `import` ends stderr with: how many lines, how big, how long (its times vary from run to run). */
const SUMMARY =
  /^import .+: [\d,]+ lines \([\d.]+ [kM]B\) read in [\d.]+ s, [\d,]+ lines\/s(; waited [\d.]+ s for InfluxDB)?$/;
/** The summary line of importing `file` of `lines` lines, as a pattern to build on. */
const summaryPattern = (file: string, lines: number) =>
  `import ${escapeRegExp(file)}: ${lines.toLocaleString('en-US')} lines \\([\\d.]+ [kM]B\\) read in [\\d.]+ s, [\\d,]+ lines/s`;
/** The summary line of importing `file` of `lines` lines, the whole line. */
const summaryOf = (file: string, lines: number) => new RegExp(`^${summaryPattern(file, lines)}$`);
/** What the command says on stderr, without the logger's JSON lines (the stores log at warn and above) or the summary. */
const messages = (stderr: string) =>
  stderr.split('\n').filter((line) => line !== '' && !line.startsWith('{') && !SUMMARY.test(line));

// Each line with the stderr reason it must get; null = a good line. Line numbers are the 1-based positions.
const LINES: [string, string | null][] = [
  [
    '{"time":"2026-10-03T12:00:00Z","server":"p1","location":"waw","up":false,"error":"timeout","latencyMs":10000}',
    null,
  ],
  ['{"time":1791028860000,"server":"p1","location":"waw","up":true,"latencyMs":12,"check":"web"}', null],
  ['{"time":"2026-10-03T14:01:00+02:00","server":"p1","up":true}', null],
  ['', null],
  ['not json', 'not valid JSON'],
  ['[1,2]', 'not a JSON object'],
  ['{"server":"p1","up":true}', 'time: is required'],
  [
    '{"time":"2026-10-03T12:00:00","server":"p1","up":true}',
    'time: "2026-10-03T12:00:00" is not an ISO-8601 time with Z or an offset, nor epoch milliseconds',
  ],
  [
    '{"time":"2026-02-30T12:00:00Z","server":"p1","up":true}',
    'time: "2026-02-30T12:00:00Z" is not an ISO-8601 time with Z or an offset, nor epoch milliseconds',
  ],
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
    expect(result.stderr.trimEnd().split('\n')).toEqual([
      ...expected,
      expect.stringMatching(summaryOf(file, LINES.length)),
    ]);
    expect(result.stdout).toBe(`imported 4, duplicates 0, conflicts 0, rejected ${expected.length}\n`);
    expect(result.code).toBe(2);

    // The store file was created with its folder; the good lines are there as written.
    const store = EmbeddedObservationStore.open(join(dir, 'data', 'store.db'));
    try {
      expect(await store.readObservations('p1', 0, Date.parse('2027-01-01T00:00:00Z'))).toEqual([
        {
          timeMs: Date.parse('2026-10-03T12:00:00Z'),
          server: 'p1',
          location: 'waw',
          check: '',
          up: false,
          latencyMs: 10_000,
          error: 'timeout',
        },
        { timeMs: Date.parse('2026-10-03T12:01:00Z'), server: 'p1', location: 'waw', check: '', up: true },
        {
          timeMs: Date.parse('2026-10-03T12:01:00Z'),
          server: 'p1',
          location: 'waw',
          check: 'web',
          up: true,
          latencyMs: 12,
        },
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
    expect(result).toMatchObject({ code: 0, stdout: 'imported 0, duplicates 2, conflicts 0, rejected 0\n' });
    // Not a terminal: no progress drawn, only the summary line.
    expect(result.stderr).toMatch(new RegExp(`^${summaryPattern(good, 2)}\n$`));
    const missing = await runCli(['import', '--config', config, join(dir, 'nope.ndjson')]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe(`uptime-credits: ${join(dir, 'nope.ndjson')}: no such file\n`);
    // Nothing was created for it: the store of another config path stays absent.
    const elsewhere = join(dir, 'other.yaml');
    writeFileSync(elsewhere, `storage: { path: ${join(dir, 'other', 'store.db')} }\ncustomers: []\n`);
    expect((await runCli(['import', '--config', elsewhere, join(dir, 'nope.ndjson')])).code).toBe(1);
    expect(existsSync(join(dir, 'other'))).toBe(false);
  });

  /** A config of its own (its own store file), so these cases do not see each other's observations. */
  const embeddedConfig = (name: string) => {
    const path = join(dir, `${name}.yaml`);
    writeFileSync(
      path,
      `storage: { path: ${join(dir, name, 'store.db')} }\nprobing: { location: waw }\ncustomers:\n  - { id: c, name: C, tier: gold, servers: [{ id: p1, name: P1 }] }\n`,
    );
    return path;
  };
  const good = (time: string, extra = '') => `{"time":"${time}","server":"p1","up":true${extra}}`;
  /** A JSON line of exactly `bytes` bytes (ASCII), padded with spaces inside the object. */
  const padded = (line: string, bytes: number) => `${line.slice(0, -1)}${' '.repeat(bytes - line.length)}}`;

  it('drops a UTF-8 byte-order mark at the start of the file', async () => {
    const bom = join(dir, 'bom.ndjson');
    writeFileSync(bom, `\uFEFF${good('2026-10-04T00:00:00Z')}\r\n${good('2026-10-04T00:01:00Z')}\r\n`);
    const result = await runCli(['import', bom, '--config', embeddedConfig('bom')]);
    expect(result).toMatchObject({ code: 0, stdout: 'imported 2, duplicates 0, conflicts 0, rejected 0\n' });
    expect(messages(result.stderr)).toEqual([]);
  });

  it('skips a line over 1 MiB without holding it in memory, keeps one of exactly 1 MiB, and exits 2', async () => {
    const path = join(dir, 'long.ndjson');
    const huge = good('2026-10-04T00:01:00Z', ',"error":"');
    const fd = openSync(path, 'w');
    try {
      writeSync(fd, `${good('2026-10-04T00:00:00Z')}\n`);
      writeSync(fd, huge); // line 2: 64 MiB inside one JSON string
      const block = Buffer.alloc(MiB, 'a');
      for (let i = 0; i < 64; i++) writeSync(fd, block);
      writeSync(fd, '"}\n');
      writeSync(fd, `${padded(good('2026-10-04T00:02:00Z'), MiB)}\r\n`); // line 3: the limit, CRLF not counted
      writeSync(fd, `${padded(good('2026-10-04T00:03:00Z'), MiB + 1)}\n`); // line 4: one byte over it
      writeSync(fd, good('2026-10-04T00:04:00Z')); // line 5, no line break after it
    } finally {
      closeSync(fd);
    }
    // A heap of 64 MB: the CLI needs about 30 MB of it, a reader holding the 64 MiB line as a string dies here.
    const result = await runCli(['import', path, '--config', embeddedConfig('long')], {
      env: { NODE_OPTIONS: '--max-old-space-size=64' },
    });
    expect(result.stderr.split('\n').filter(Boolean)).toEqual([
      `${path}:2: line is ${huge.length + 64 * MiB + 2} bytes, longer than the limit of 1 MiB (1048576 bytes); skipped`,
      `${path}:4: line is 1048577 bytes, longer than the limit of 1 MiB (1048576 bytes); skipped`,
      expect.stringMatching(summaryOf(path, 5)),
    ]);
    expect(result.stdout).toBe('imported 3, duplicates 0, conflicts 0, rejected 2\n');
    expect(result.code).toBe(2);
  });

  it('counts a line with a stored key and another outcome as a conflict, names up to 10, and exits 2', async () => {
    const config = embeddedConfig('conflicts');
    const at = (i: number) => new Date(Date.parse('2026-10-05T00:00:00Z') + i * 60_000).toISOString();
    const first = join(dir, 'first.ndjson');
    writeFileSync(first, Array.from({ length: 12 }, (_, i) => good(at(i))).join('\n'));
    expect((await runCli(['import', first, '--config', config])).stdout).toBe(
      'imported 12, duplicates 0, conflicts 0, rejected 0\n',
    );

    // Lines 1-12 say down where up is stored; line 13 repeats a stored one; line 14 is new.
    const second = join(dir, 'second.ndjson');
    const down = (i: number) => `{"time":"${at(i)}","server":"p1","up":false,"error":"timeout"}`;
    writeFileSync(second, [...Array.from({ length: 12 }, (_, i) => down(i)), good(at(0)), good(at(12))].join('\n'));
    const result = await runCli(['import', second, '--config', config]);
    expect(result.stdout).toBe('imported 1, duplicates 1, conflicts 12, rejected 0\n');
    expect(messages(result.stderr)).toEqual([
      'uptime-credits: 12 lines have the key (server, location, check, time) of a stored observation but another outcome; the stored values stay',
      ...Array.from(
        { length: 10 },
        (_, i) =>
          `${second}:${i + 1}: conflicts with the stored observation of p1 at waw, ${at(i)}: stored {"up":true}, this line {"up":false,"error":"timeout"}; the stored one stays`,
      ),
      'uptime-credits: 2 more conflicting lines not named here',
    ]);
    expect(result.code).toBe(2);
  });

  it('--wait is harmless without InfluxDB, and a file given as its value is a clear error', async () => {
    const config = embeddedConfig('wait');
    const file = join(dir, 'wait.ndjson');
    writeFileSync(file, `${good('2026-10-06T00:00:00Z')}\n`);
    expect(await runCli(['import', file, '--config', config, '--wait', '1'])).toMatchObject({
      code: 0,
      stdout: 'imported 1, duplicates 0, conflicts 0, rejected 0\n',
    });
    const swallowed = await runCli(['import', '--config', config, '--wait', file]);
    expect(swallowed.code).toBe(1);
    expect(swallowed.stderr).toContain(
      `"${file}" is not a number of seconds nor a duration such as 30s, 5m (put the file before --wait)`,
    );
  });

  /** Lines of `count` observations a minute apart, and one bad line after the first. */
  const progressFile = (name: string, count: number) => {
    const path = join(dir, name);
    const lines = Array.from({ length: count }, (_, i) =>
      good(new Date(Date.parse('2026-10-07T00:00:00Z') + i * 60_000).toISOString()),
    );
    lines.splice(1, 0, 'not json');
    writeFileSync(path, `${lines.join('\n')}\n`);
    return path;
  };
  const FRAME = (path: string) =>
    new RegExp(`\r${escapeRegExp(`import ${path}: `)}[\\d,]+ lines, [\\d,]+ lines/s, \\d+ % of [\\d.]+ kB\x1b\\[K`);

  it(`${PROGRESS_ENV}=1 draws the progress on stderr without a terminal, clears it for notes, ends with the summary`, async () => {
    const path = progressFile('progress.ndjson', 3_000);
    const result = await runCli(['import', path, '--config', embeddedConfig('progress')], {
      env: { [PROGRESS_ENV]: '1' },
    });
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('imported 3000, duplicates 0, conflicts 0, rejected 1\n');
    expect(result.stderr).toMatch(new RegExp(`^${FRAME(path).source}`));
    expect(result.stderr).toContain(`\r\x1b[K${path}:2: not valid JSON\n`);
    // The summary on a line of its own: after the note, or after clearing a progress line drawn again since.
    expect(result.stderr).toMatch(new RegExp(`(\n|\r\x1b\\[K)${summaryPattern(path, 3_001)}\n$`));
    // What remains once the terminal has overwritten the progress: the note, then the summary.
    // ESC [ K: the terminal's "erase to the end of the line", as regular-expression source.
    const erase = '\\u001b\\[K';
    const shown = result.stderr.replace(new RegExp(`\\r[^\\r\\n]*${erase}`, 'g'), '');
    expect(shown.split('\n').filter(Boolean)).toEqual([
      `${path}:2: not valid JSON`,
      expect.stringMatching(summaryOf(path, 3_001)),
    ]);
  });

  it.skipIf(!terminalAvailable)('draws the progress on a terminal by itself', async () => {
    const path = progressFile('terminal.ndjson', 2_000);
    const result = await runCliInTerminal(['import', path, '--config', embeddedConfig('terminal')]);
    expect(result.code).toBe(2);
    expect(result.output).toMatch(FRAME(path));
    expect(result.output).toContain('imported 2000, duplicates 0, conflicts 0, rejected 1\n');
    expect(result.output).toMatch(new RegExp(`\n${summaryPattern(path, 2_001)}\n$`));
  });
});

describe('uptime-credits import into InfluxDB', () => {
  let influxd: Influxd;
  let dir: string;
  beforeAll(async () => {
    influxd = await startInfluxd('uptime');
    dir = mkdtempSync(join(tmpdir(), 'uc-import-influx-'));
  });
  afterAll(async () => {
    await influxd?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** A config in InfluxDB mode with a database and outbox of its own. */
  const influxConfig = async (name: string) => {
    await influxd.query(`CREATE DATABASE "${name}"`);
    const path = join(dir, `${name}.yaml`);
    writeFileSync(
      path,
      `storage:
  kind: influxdb
  path: ${join(dir, `${name}-outbox.db`)}
  influxdb: { url: "${influxd.url}", apiVersion: 1, database: ${name} }
probing: { location: waw, interval: 60s }
customers:
  - { id: c, name: C, tier: gold, servers: [{ id: p1, name: P1 }] }
`,
    );
    return { path, outbox: join(dir, `${name}-outbox.db`) };
  };
  const count = async (database: string) => {
    const [series] = await influxd.query(`SELECT count("up") FROM "${database}"."autogen"."uptime_observation"`);
    return series ? Number(series.values[0]![1]) : 0;
  };

  it('refuses times InfluxDB cannot hold, naming its range, and stores the times at its edges', async () => {
    const config = await influxConfig('bounds');
    const file = join(dir, 'bounds.ndjson');
    const OUTSIDE = 'is outside the times InfluxDB can store (1677-09-21T00:12:43.146Z to 2262-04-11T23:47:16.854Z)';
    const lines: [string, string | null][] = [
      ['{"time":"2026-10-03T12:00:00Z","server":"p1","up":true}', null],
      ['{"time":9223372036854,"server":"p1","up":true}', null],
      ['{"time":9223372036855,"server":"p1","up":true}', `time: 9223372036855 ${OUTSIDE}`],
      ['{"time":"1677-09-21T00:12:43.146Z","server":"p1","up":true}', null],
      ['{"time":"1677-09-21T00:12:43.145Z","server":"p1","up":true}', `time: "1677-09-21T00:12:43.145Z" ${OUTSIDE}`],
      ['{"time":"1600-01-01T00:00:00Z","server":"p1","up":false}', `time: "1600-01-01T00:00:00Z" ${OUTSIDE}`],
    ];
    writeFileSync(file, lines.map(([line]) => line).join('\n'));
    const result = await runCli(['import', file, '--config', config.path]);
    expect(messages(result.stderr)).toEqual(
      lines.flatMap(([, reason], i) => (reason ? [`${file}:${i + 1}: ${reason}`] : [])),
    );
    expect(result.stdout).toBe(
      'imported 3, duplicates 0, conflicts 0, rejected 3; confirmed by InfluxDB: 3, waiting in the outbox: 0\n',
    );
    expect(result.code).toBe(2);
    const [series] = await influxd.query(
      'SELECT "up" FROM "bounds"."autogen"."uptime_observation" WHERE time >= -9223372036854ms AND time <= 9223372036854ms',
    );
    expect(series!.values.map((row) => row[0])).toEqual([
      -9_223_372_036_854,
      Date.parse('2026-10-03T12:00:00Z'),
      9_223_372_036_854,
    ]);
  });

  it('names a line that contradicts an observation InfluxDB holds, and keeps the stored one', async () => {
    const config = await influxConfig('conflicts');
    const first = join(dir, 'conflicts-1.ndjson');
    writeFileSync(first, '{"time":"2026-10-03T12:00:00Z","server":"p1","up":true,"latencyMs":12}\n');
    expect((await runCli(['import', first, '--config', config.path])).stdout).toBe(
      'imported 1, duplicates 0, conflicts 0, rejected 0; confirmed by InfluxDB: 1, waiting in the outbox: 0\n',
    );
    const second = join(dir, 'conflicts-2.ndjson');
    writeFileSync(
      second,
      '{"time":"2026-10-03T12:01:00Z","server":"p1","up":true}\n{"time":"2026-10-03T12:00:00Z","server":"p1","up":false,"error":"timeout"}\n',
    );
    const result = await runCli(['import', second, '--config', config.path]);
    expect(result.stdout).toBe(
      'imported 1, duplicates 0, conflicts 1, rejected 0; confirmed by InfluxDB: 1, waiting in the outbox: 0\n',
    );
    expect(messages(result.stderr)).toEqual([
      'uptime-credits: 1 line has the key (server, location, check, time) of a stored observation but another outcome; the stored values stay',
      `${second}:2: conflicts with the stored observation of p1 at waw, 2026-10-03T12:00:00.000Z: stored {"up":true,"latencyMs":12}, this line {"up":false,"error":"timeout"}; the stored one stays`,
    ]);
    expect(result.code).toBe(2);
    const [series] = await influxd.query('SELECT "up" FROM "conflicts"."autogen"."uptime_observation"');
    expect(series!.values).toEqual([
      [Date.parse('2026-10-03T12:00:00Z'), 1],
      [Date.parse('2026-10-03T12:01:00Z'), 1],
    ]);
  });

  it(`${PROGRESS_ENV}=1 shows how many lines InfluxDB confirmed, and the summary how long it waited for it`, async () => {
    const config = await influxConfig('progress');
    const file = join(dir, 'progress.ndjson');
    const lines = observationLines({
      server: 'p1',
      fromMs: Date.parse('2026-10-04T12:00:00Z'),
      toMs: Date.parse('2026-10-04T13:00:00Z'),
      everyMs: 60_000,
    });
    writeFileSync(file, `${lines.join('\n')}\n`);
    const result = await runCli(['import', file, '--config', config.path], { env: { [PROGRESS_ENV]: '1' } });
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(
      'imported 60, duplicates 0, conflicts 0, rejected 0; confirmed by InfluxDB: 60, waiting in the outbox: 0\n',
    );
    const firstFrame = `\r${escapeRegExp(`import ${file}: 0 lines, 0 lines/s, 0 % of `)}[\\d.]+ kB; confirmed by InfluxDB 0\x1b\\[K`;
    expect(result.stderr).toMatch(new RegExp(`^${firstFrame}`));
    expect(result.stderr).toMatch(
      new RegExp(`\r\x1b\\[K${summaryPattern(file, 60)}; waited [\\d.]+ s for InfluxDB\n$`),
    );
  });

  it('with InfluxDB down says how many wait in the outbox; --wait exits 4 when time runs out, 0 once all is confirmed', async () => {
    const config = await influxConfig('down');
    const file = join(dir, 'down.ndjson');
    const lines = observationLines({
      server: 'p1',
      fromMs: Date.parse('2026-10-03T12:00:00Z'),
      toMs: Date.parse('2026-10-03T14:00:00Z'),
      everyMs: 60_000,
    });
    writeFileSync(file, `${lines.join('\n')}\n`);
    const notConfirmed = (n: number, waited: string) =>
      `uptime-credits: InfluxDB has not confirmed ${n} observations from 2026-10-03T12:00:00.000Z to 2026-10-03T13:59:00.000Z ${waited}`;

    await influxd.kill();
    const queued = await runCli(['import', file, '--config', config.path]);
    expect(queued.stdout).toBe(
      'imported 120, duplicates 0, conflicts 0, rejected 0; confirmed by InfluxDB: 0, waiting in the outbox: 120\n',
    );
    expect(messages(queued.stderr)).toHaveLength(1);
    expect(messages(queued.stderr)[0]).toMatch(
      new RegExp(
        `^${escapeRegExp(notConfirmed(120, 'yet'))}.*; they stay in the outbox ${escapeRegExp(config.outbox)}, and the daemon`,
      ),
    );
    expect(queued.code).toBe(0);

    // The same file again: its lines are duplicates of those waiting, and still wait.
    const timedOut = await runCli(['import', file, '--config', config.path, '--wait', '2']);
    expect(timedOut.stdout).toBe(
      'imported 0, duplicates 120, conflicts 0, rejected 0; confirmed by InfluxDB: 0, waiting in the outbox: 120\n',
    );
    expect(messages(timedOut.stderr)[0]).toMatch(new RegExp(`^${escapeRegExp(notConfirmed(120, 'within 2 s'))}`));
    expect(timedOut.code).toBe(4);

    await influxd.restart();
    const forwarded = await runCli(['import', file, '--config', config.path, '--wait']);
    expect(forwarded).toMatchObject({
      code: 0,
      stdout:
        'imported 0, duplicates 120, conflicts 0, rejected 0; confirmed by InfluxDB: 120, waiting in the outbox: 0\n',
    });
    expect(messages(forwarded.stderr)).toEqual([]);
    expect(await count('down')).toBe(120);
  }, 120_000);
});

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
