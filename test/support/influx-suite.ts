// One influxd (and, if asked, a fault proxy in front of it) for a whole test file, and InfluxDB stores on it.
import { afterAll, beforeAll } from 'vitest';
import { createLogger, type Logger } from '../../src/logging.js';
import { influxConnection, type InfluxConnection } from '../../src/store/influx/connection.js';
import { OutboxedInfluxStore, type InfluxWriterOptions } from '../../src/store/influx/influx-store.js';
import { startFaultProxy, type FaultProxy } from './fault-proxy.js';
import { startInfluxd, type Influxd } from './influxd.js';

export interface InfluxSuite {
  /** The server, started before the file's first test and stopped after its last. */
  readonly influxd: Influxd;
  /** The fault proxy in front of it (with `proxy: true`), closed before influxd stops. */
  readonly proxy: FaultProxy;
  /** Creates a database of its own (`prefix` and a counter) and returns its name, so tests do not see each other's points. */
  database(prefix?: string): Promise<string>;
}

/** Registers beforeAll/afterAll hooks that run influxd (and a fault proxy) for the calling file or describe block. */
export function influxSuite(options: { database?: string; proxy?: boolean } = {}): InfluxSuite {
  let influxd: Influxd | undefined;
  let proxy: FaultProxy | undefined;
  let databases = 0;
  beforeAll(async () => {
    influxd = await startInfluxd(options.database);
    if (options.proxy) proxy = await startFaultProxy(influxd.url);
  }, 60_000);
  afterAll(async () => {
    await proxy?.close();
    await influxd?.stop();
  });
  const suite: InfluxSuite = {
    get influxd() {
      if (!influxd) throw new Error('influxd starts in beforeAll: use it inside a test or hook');
      return influxd;
    },
    get proxy() {
      if (!proxy)
        throw new Error(
          options.proxy
            ? 'the fault proxy starts in beforeAll: use it inside a test or hook'
            : 'influxSuite({ proxy: true }) starts a fault proxy',
        );
      return proxy;
    },
    async database(prefix = 'db') {
      const name = `${prefix}${++databases}`;
      await suite.influxd.query(`CREATE DATABASE "${name}"`);
      return name;
    },
  };
  return suite;
}

/** Where the tests' InfluxDB lives: `url` (influxd or a proxy), a database, API v1. */
export interface TestConnectionOptions {
  url: string;
  database: string;
  measurement?: string;
  batchSize?: number;
  timeoutMs?: number;
}

/** The connection the daemon would make for `options` (measurement uptime_observation, batches of 1,000, 5 s). */
export function testConnection(options: TestConnectionOptions): InfluxConnection {
  return influxConnection({
    url: options.url,
    apiVersion: 1,
    database: options.database,
    org: '',
    measurement: options.measurement ?? 'uptime_observation',
    batchSize: options.batchSize ?? 1_000,
    timeout: options.timeoutMs ?? 5_000,
  });
}

/** The InfluxDB store as the daemon opens it, with its outbox at `outboxPath`. */
export function openInfluxStore(
  options: TestConnectionOptions & {
    outboxPath: string;
    logger?: Logger;
    gapFloorMs?: number;
    forwarderBackoff?: InfluxWriterOptions['forwarderBackoff'];
  },
): OutboxedInfluxStore {
  const batchSize = options.batchSize ?? 1_000;
  const connection = testConnection({ ...options, batchSize });
  return OutboxedInfluxStore.open(options.outboxPath, connection, options.logger ?? createLogger(), {
    batchSize,
    gapFloorMs: options.gapFloorMs ?? 90_000,
    forwarderBackoff: options.forwarderBackoff,
  });
}

/** How many observations a database holds, counted by InfluxDB itself (not through the store). */
export async function countInInflux(
  influxd: Influxd,
  database: string,
  measurement = 'uptime_observation',
): Promise<number> {
  const [series] = await influxd.query(`SELECT count("up") FROM "${database}"."autogen"."${measurement}"`);
  return series ? Number(series.values[0]![1]) : 0;
}
