// Bench child: one month close (computeCredits over the configured store) alone in a process, so its wall
// time and peak RSS are the close's own.
import { computeCredits } from '../../src/close/compute.js';
import { loadConfig } from '../../src/config/load.js';
import { createLogger } from '../../src/logging.js';
import { NO_OPERATOR_RECORDS } from '../../src/state/operator-records.js';
import { createObservationStore } from '../../src/store/create.js';
import { influxConnection } from '../../src/store/influx/connection.js';
import type { RunSource } from '../../src/store/store.js';
import { countedRunReader, type ReadCounts } from '../support/counted-reads.js';
import { fromParent, tellParent } from './children.js';

/** What the parent asks for. */
export interface CloseTask {
  configPath: string;
  month: string;
}

/** What one close took and found. */
export interface CloseResult {
  wallMs: number;
  /** CPU of this process only (the rest of the wall time is the store working, or waiting). */
  cpuMs: number;
  maxRssBytes: number;
  servers: number;
  creditAmountGrosze: number;
  serversWithCredit: number;
  downtimeMs: number;
  unmonitoredMs: number;
  /** On InfluxDB: the aggregate and the row-by-row queries (ms summed over reads in flight together). */
  influxReads?: ReadCounts;
}

const task = await fromParent<CloseTask>();
const config = loadConfig(task.configPath);
const store = await createObservationStore(config, createLogger('bench-close'));
// On InfluxDB the reads go through a reader whose queries are counted and timed here, outside the store.
const influx = config.storage.kind === 'influxdb' ? config.storage.influxdb : undefined;
const counted = influx && countedRunReader(influxConnection(influx));
const runs: RunSource = counted ? counted.reader : store;
const startedMs = performance.now();
const cpuBefore = process.cpuUsage();
const credits = await computeCredits(config, { store: runs, operatorRecords: NO_OPERATOR_RECORDS }, task.month);
const wallMs = performance.now() - startedMs;
const cpu = process.cpuUsage(cpuBefore);
const servers = credits.customers.flatMap((c) => c.servers);
const result: CloseResult = {
  wallMs,
  cpuMs: (cpu.user + cpu.system) / 1_000,
  maxRssBytes: process.resourceUsage().maxRSS * 1_024,
  servers: servers.length,
  creditAmountGrosze: credits.creditAmountGrosze,
  serversWithCredit: servers.filter((s) => s.creditAmountGrosze > 0).length,
  downtimeMs: servers.reduce((sum, s) => sum + s.downtimeMs, 0),
  unmonitoredMs: servers.reduce((sum, s) => sum + s.unmonitoredMs, 0),
};
if (counted) result.influxReads = { ...counted.counts };
await counted?.close();
await store.close();
await tellParent('result', result);
process.disconnect();
