// What one month-to-date refresh pass reads from InfluxDB, without and with the incremental run source: a real
// influxd holding SERVERS servers probed every 30 s for DAYS days of the month, then passes 15 s apart while new
// observations arrive, each pass counted (queries, rows, query time). A measurement, not a test:
//   npx tsx test/bench/month-to-date-reads.ts [servers=200] [days=5] [passes=8]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { computeMonthToDateCredits, monthReadRange, runLookbackMs } from '../../src/close/compute.js';
import { loadConfig } from '../../src/config/load.js';
import { createLogger } from '../../src/logging.js';
import { NO_OPERATOR_RECORDS } from '../../src/state/operator-records.js';
import { monthWindow } from '../../src/sla/month.js';
import { createObservationStore } from '../../src/store/create.js';
import { influxConnection } from '../../src/store/influx/connection.js';
import { IncrementalRunSource } from '../../src/store/incremental-runs.js';
import { countedRunReader, type ReadCounts } from '../support/counted-reads.js';
import { startInfluxd } from '../support/influxd.js';
import { writeFleetConfig } from './fleet.js';
import { monthObservations } from './month-data.js';

const MONTH = '2026-01';
const [servers = 200, days = 5, passes = 8] = process.argv.slice(2).map(Number);
const PASS_MS = 15_000;

const dir = mkdtempSync(join(tmpdir(), 'uc-mtd-reads-'));
const influxd = await startInfluxd('bench');
try {
  const configPath = writeFleetConfig({
    dir,
    servers,
    targetUrl: () => 'http://127.0.0.1:9/',
    storage: {
      kind: 'influxdb',
      path: join(dir, 'outbox.db'),
      influxdb: { url: influxd.url, apiVersion: 1, database: influxd.database },
    },
    probing: { interval: '30s' },
  });
  const config = loadConfig(configPath);
  const window = monthWindow(MONTH, config.timeZone);
  const store = await createObservationStore(config, createLogger('bench'));
  const fromMs = monthReadRange(config, MONTH).fromMs;
  let writtenToMs = window.fromMs + days * 86_400_000;
  let lines = 0;
  for (const chunk of monthObservations(servers, fromMs, writtenToMs)) {
    await store.write(chunk);
    lines += chunk.length;
  }
  if (!(await store.drain(600_000))) throw new Error('the outbox did not drain');
  console.log(`${servers} servers, ${days} days at 30 s: ${lines} observations in influxd`);

  const influx = config.storage.influxdb;
  if (!influx) throw new Error('the fleet is configured without InfluxDB');
  const full = countedRunReader(influxConnection(influx));
  const inner = countedRunReader(influxConnection(influx));
  let nowMs = writtenToMs;
  const incremental = new IncrementalRunSource({
    inner: inner.reader,
    settledThroughMs: async () => nowMs,
    cachedFromMs: () => fromMs,
    marginMs: runLookbackMs(config),
  });
  const snapshot = (c: ReadCounts) => ({ ...c });
  const delta = (after: ReadCounts, before: ReadCounts) =>
    `${after.aggregateQueries - before.aggregateQueries + after.rawQueries - before.rawQueries} queries ` +
    `(${after.aggregateQueries - before.aggregateQueries} aggregate), ` +
    `${after.aggregateRows - before.aggregateRows} series-hours + ${after.rawRows - before.rawRows} rows, ` +
    `${Math.round(after.aggregateMs - before.aggregateMs + after.rawMs - before.rawMs)} ms of queries`;
  for (let pass = 0; pass < passes; pass++) {
    // The next 15 s of probes arrive, as a running fleet writes them.
    for (const chunk of monthObservations(servers, writtenToMs, nowMs)) await store.write(chunk);
    if (!(await store.drain(60_000))) throw new Error('the outbox did not drain');
    writtenToMs = nowMs;
    const fullBefore = snapshot(full.counts);
    const wholeMonth = await computeMonthToDateCredits(
      config,
      { store: full.reader, operatorRecords: NO_OPERATOR_RECORDS },
      MONTH,
      nowMs,
    );
    const incrementalBefore = snapshot(inner.counts);
    const fromCache = await computeMonthToDateCredits(
      config,
      { store: incremental, operatorRecords: NO_OPERATOR_RECORDS },
      MONTH,
      nowMs,
    );
    const same = JSON.stringify([...fromCache.availability]) === JSON.stringify([...wholeMonth.availability]);
    console.log(
      `pass ${pass}: full: ${delta(full.counts, fullBefore)}; incremental: ${delta(inner.counts, incrementalBefore)}; equal: ${same}`,
    );
    nowMs += PASS_MS;
  }
  await full.close();
  await inner.close();
  await store.close();
} finally {
  await influxd.stop();
  rmSync(dir, { recursive: true, force: true });
}
