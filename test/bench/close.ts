// Month close: a generated month written through our writers into the real influxd and into the embedded
// store, then computeCredits for that month in a child process (wall time, peak RSS) on each.
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/load.js';
import { createLogger } from '../../src/logging.js';
import { monthWindow } from '../../src/sla/month.js';
import { createObservationStore } from '../../src/store/create.js';
import { OutboxedInfluxStore } from '../../src/store/influx/influx-store.js';
import type { ObservationStore } from '../../src/store/store.js';
import { startInfluxd } from '../support/influxd.js';
import { forkChild } from './children.js';
import type { CloseResult, CloseTask } from './close-child.js';
import { sleep, type FigureLog } from './figures.js';
import { writeFleetConfig } from './fleet.js';
import { monthObservations } from './month-data.js';

const MONTH = '2026-01';
/** Observations per server in one generated hour (one chunk). */
const PER_SERVER_HOUR = 120;

export interface CloseBenchOptions {
  dir: string;
  servers: number;
  /** 'influx' and/or 'embedded'. */
  stores: ReadonlySet<string>;
  nodeFlags(name: string): string[];
}

/** Writes the month through `store`, waiting for the outbox when it runs ahead; returns lines written. */
async function ingest(store: ObservationStore, servers: number, fromMs: number, toMs: number): Promise<number> {
  let lines = 0;
  let hours = 0;
  const totalHours = Math.ceil((toMs - fromMs) / 3_600_000);
  // The outbox may run two chunks ahead of InfluxDB before the generator waits (bounds the outbox file). The
  // backlog is a count(*) over the outbox, O(backlog) per call, so it is asked rarely and kept small.
  const maxBacklog = Math.max(20_000, 2 * servers * PER_SERVER_HOUR);
  for (const chunk of monthObservations(servers, fromMs, toMs)) {
    await store.write(chunk);
    lines += chunk.length;
    if (store instanceof OutboxedInfluxStore) while ((await store.backlog()) > maxBacklog) await sleep(100);
    if (++hours % 100 === 0) console.error(`# ${store.description}: ${hours}/${totalHours} hours of the month written`);
  }
  if (store instanceof OutboxedInfluxStore && !(await store.drain(600_000)))
    throw new Error('the outbox did not drain into influxd within 10 minutes');
  return lines;
}

async function closeIn(configPath: string, flags: string[]): Promise<CloseResult> {
  const child = forkChild<never, CloseResult>('close-child', [], flags);
  child.send({ configPath, month: MONTH } satisfies CloseTask);
  return child.result;
}

function logClose(log: FigureLog, at: string, r: CloseResult): void {
  log.add(`${at}.wall`, r.wallMs / 1_000, 's');
  log.add(`${at}.cpu_of_close_process`, r.cpuMs / 1_000, 's');
  log.add(`${at}.max_rss`, r.maxRssBytes / 1_048_576, 'MiB');
  log.add(`${at}.servers_with_credit`, r.serversWithCredit, 'servers');
  log.add(`${at}.credit_total`, r.creditAmountGrosze / 100, 'PLN');
  log.add(`${at}.downtime_total`, r.downtimeMs / 60_000, 'min');
  log.add(`${at}.unmonitored_total`, r.unmonitoredMs / 60_000, 'min');
  if (r.influxReads) {
    log.add(`${at}.aggregate_queries`, r.influxReads.aggregateQueries, 'queries');
    log.add(`${at}.aggregate_query_time`, r.influxReads.aggregateMs / 1_000, 's');
    log.add(`${at}.aggregate_rows`, r.influxReads.aggregateRows, 'series-hours');
    log.add(`${at}.raw_queries`, r.influxReads.rawQueries, 'queries');
    log.add(`${at}.raw_query_time`, r.influxReads.rawMs / 1_000, 's');
    log.add(`${at}.raw_rows`, r.influxReads.rawRows, 'rows');
  }
}

/** Runs the month-close benchmark on both stores and logs its figures. */
export async function benchClose(options: CloseBenchOptions, log: FigureLog): Promise<void> {
  const logger = createLogger('bench-close');
  const influxd = options.stores.has('influx') ? await startInfluxd('bench') : undefined;
  try {
    const fleet = (fileName: string, storage: Record<string, unknown>) =>
      // The data is 30 s apart, so the configured interval is 30 s (staleAfter defaults to 3 intervals).
      writeFleetConfig({
        dir: options.dir,
        servers: options.servers,
        targetUrl: () => 'http://127.0.0.1:9/',
        storage,
        fileName,
        probing: { interval: '30s' },
      });
    const influxConfigPath = fleet('close-influx.yaml', {
      kind: 'influxdb',
      path: join(options.dir, 'outbox.db'),
      influxdb: { url: influxd?.url ?? 'http://127.0.0.1:9', apiVersion: 1, database: influxd?.database ?? 'unused' },
    });
    const embeddedPath = join(options.dir, 'embedded.db');
    const embeddedConfigPath = fleet('close-embedded.yaml', { kind: 'embedded', path: embeddedPath });
    const config = loadConfig(influxConfigPath);
    const window = monthWindow(MONTH, config.timeZone);
    log.add('close.servers', options.servers, 'servers');

    if (options.stores.has('influx')) {
      const influxStore = await createObservationStore(config, logger);
      const startedMs = performance.now();
      const lines = await ingest(influxStore, options.servers, window.fromMs, window.toMs);
      const influxIngestMs = performance.now() - startedMs;
      await influxStore.close();
      log.add('close.observations', lines, 'observations');
      log.add('close.influx.ingest', lines / (influxIngestMs / 1_000), 'lines/s');
      logClose(log, 'close.influx', await closeIn(influxConfigPath, options.nodeFlags('close-influx')));
    }
    if (options.stores.has('embedded')) {
      const embeddedStore = await createObservationStore(loadConfig(embeddedConfigPath), logger);
      const startedMs = performance.now();
      const lines = await ingest(embeddedStore, options.servers, window.fromMs, window.toMs);
      const embeddedIngestMs = performance.now() - startedMs;
      await embeddedStore.close();
      if (!options.stores.has('influx')) log.add('close.observations', lines, 'observations');
      log.add('close.embedded.ingest', lines / (embeddedIngestMs / 1_000), 'rows/s');
      log.add('close.embedded.file', statSync(embeddedPath).size / 1_048_576, 'MiB');
      logClose(log, 'close.embedded', await closeIn(embeddedConfigPath, options.nodeFlags('close-embedded')));
    }
  } finally {
    await influxd?.stop();
  }
}
