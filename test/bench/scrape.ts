// Scrape: /metrics over HTTP on loopback, served by the daemon's own fastify app and metrics, carrying the
// series of N servers (one HTTP check each, plus the month-to-date SLA view the daemon keeps per server).
import type { AddressInfo } from 'node:net';
import { request } from 'undici';
import { loadConfig } from '../../src/config/load.js';
import { buildServer } from '../../src/http/server.js';
import { createLogger } from '../../src/logging.js';
import { createMetrics } from '../../src/metrics/metrics.js';
import { creditBracket } from '../../src/sla/brackets.js';
import { percentOfGrosze } from '../../src/sla/money.js';
import type { ServerAvailability } from '../../src/sla/types.js';
import { percentile, type FigureLog } from './figures.js';
import { writeFleetConfig } from './fleet.js';

const WARMUP_SCRAPES = 3;
const TIMED_SCRAPES = 40;
const DAY_MS = 86_400_000;

export interface ScrapeBenchOptions {
  dir: string;
  servers: number;
}

const notInBench = async (): Promise<never> => {
  throw new Error('the scrape benchmark serves /metrics only');
};

/** Fills the metrics of N servers, then times scrapes of /metrics and logs the figures. */
export async function benchScrape(options: ScrapeBenchOptions, log: FigureLog): Promise<void> {
  const configPath = writeFleetConfig({
    dir: options.dir,
    servers: options.servers,
    targetUrl: (i) => `http://127.0.0.1:9/t/${i}`,
    storage: { kind: 'embedded', path: `${options.dir}/scrape.db` },
    fileName: 'scrape.yaml',
  });
  const config = loadConfig(configPath);
  const metrics = createMetrics();
  const nowMs = Date.UTC(2026, 0, 20);
  let i = 0;
  for (const customer of config.customers) {
    for (const server of customer.servers) {
      const up = i % 50 !== 0;
      for (const check of server.checks) {
        metrics.recordOutcome({
          customer: customer.id,
          server: server.id,
          check: check.name,
          kind: check.config.kind,
          location: config.probing.location,
          timeMs: nowMs,
          lagMs: i % 3,
          up,
          latencyMs: 2 + (i % 40),
          httpStatus: up ? 200 : 503,
          ...(up ? {} : { error: 'status' as const }),
        });
      }
      const downtimeMs = (i % 9) * 600_000;
      const availability: ServerAvailability = {
        coveredMs: 19 * DAY_MS,
        maintenanceMs: 0,
        eligibleMs: 19 * DAY_MS,
        downtimeMs,
        unmonitoredMs: (i % 4) * 60_000,
        outages: [],
        unmonitored: [],
        maintenance: [],
        downAtEnd: !up,
      };
      const percent = creditBracket(availability.eligibleMs, downtimeMs, customer.tier.brackets)?.creditPercentHundredths ?? 0;
      metrics.recordSla(customer.id, server.id, customer.tier, availability, percent, percentOfGrosze(customer.tier.serverFeeGrosze, percent));
      i++;
    }
  }
  const app = await buildServer({
    metrics,
    logger: createLogger('bench-scrape'),
    protectMetrics: false,
    checkReady: async () => undefined,
    api: { servers: () => [], knowsServer: () => false, outages: notInBench, credits: notInBench, closeMonth: notInBench },
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  try {
    const { port } = app.server.address() as AddressInfo;
    const latencies: number[] = [];
    let bytes = 0;
    let series = 0;
    for (let n = 0; n < WARMUP_SCRAPES + TIMED_SCRAPES; n++) {
      const startedMs = performance.now();
      const response = await request(`http://127.0.0.1:${port}/metrics`);
      const body = await response.body.text();
      const elapsedMs = performance.now() - startedMs;
      if (response.statusCode !== 200) throw new Error(`/metrics answered ${response.statusCode}`);
      if (n < WARMUP_SCRAPES) continue;
      latencies.push(elapsedMs);
      bytes = Buffer.byteLength(body);
      series = body.split('\n').filter((line) => line.length > 0 && !line.startsWith('#')).length;
    }
    log.add('scrape.servers', options.servers, 'servers');
    log.add('scrape.series', series, 'series');
    log.add('scrape.bytes', bytes, 'bytes');
    log.add('scrape.p50', percentile(latencies, 50), 'ms');
    log.add('scrape.p99', percentile(latencies, 99), 'ms');
  } finally {
    await app.close();
  }
}
