// Bench child: the daemon's own metrics and fastify app serving /metrics for N servers, alone in a process so
// the scraping client (the parent, standing in for Prometheus) is not timed with it. While it serves, probe
// outcomes keep arriving at the rate the daemon would see (every check every 10 s), so a scrape renders the
// probe families anew as it would in production.
import type { AddressInfo } from 'node:net';
import { loadConfig } from '../../src/config/load.js';
import { customersForMonth } from '../../src/config/terms.js';
import { buildServer } from '../../src/http/server.js';
import { createLogger } from '../../src/logging.js';
import { createMetrics, type ExpositionCoding } from '../../src/metrics/metrics.js';
import type { CheckOutcome } from '../../src/probes/probe.js';
import { creditBracket } from '../../src/sla/brackets.js';
import { percentOfGrosze } from '../../src/sla/money.js';
import { monthOutlook } from '../../src/sla/outlook.js';
import type { ServerAvailability } from '../../src/sla/types.js';
import { apiWithoutDaemon } from '../support/api-deps.js';
import { fromParent, tellParent } from './children.js';

/** What the parent asks for. */
export interface ScrapeServerTask {
  configPath: string;
  /** Probe outcomes per second fed into the metrics while serving. */
  outcomesPerSecond: number;
}

/** What the child answers once it listens. */
export interface ScrapeServerReady {
  port: number;
}

/** What the child measured while serving (asked for with 'count'). */
export interface ScrapeServerResult {
  scrapes: number;
  /** Server-side time of each scrape: the exposition built (ms). */
  renderMs: number[];
  cpuMs: number;
  outcomesFed: number;
}

const DAY_MS = 86_400_000;
const TICK_MS = 100;

const task = await fromParent<ScrapeServerTask>();
const config = loadConfig(task.configPath);
const metrics = createMetrics();
const nowMs = Date.UTC(2026, 0, 20);
const outcomes: CheckOutcome[] = [];
let i = 0;
for (const customer of customersForMonth(config, '2026-01')) {
  for (const server of customer.servers) {
    const up = i % 50 !== 0;
    for (const check of server.checks) {
      outcomes.push({
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
    const percent =
      creditBracket(availability.eligibleMs, downtimeMs, customer.tier.brackets)?.creditPercentHundredths ?? 0;
    const outlook = monthOutlook({
      window: { fromMs: nowMs - 19 * DAY_MS, toMs: nowMs + 11 * DAY_MS },
      asOfMs: nowMs,
      maintenance: [],
      downtimeMs,
      brackets: customer.tier.brackets,
    });
    metrics.recordSla([
      {
        customer: customer.id,
        server: server.id,
        tier: customer.tier.name,
        monthToDate: availability,
        outlook,
        recentDowntimeMs: { '30m': 0, '1h': up ? 0 : 600_000, '6h': up ? 0 : 600_000 },
        projectedCreditPercentHundredths: percent,
        projectedCreditGrosze: percentOfGrosze(customer.tier.serverFeeGrosze, percent),
      },
    ]);
    i++;
  }
}
for (const outcome of outcomes) metrics.recordOutcome(outcome);

// Feed outcomes round-robin at the daemon's rate; each changes a latency, so the probe families re-render.
let fed = 0;
const perTick = Math.max(1, Math.round((task.outcomesPerSecond * TICK_MS) / 1_000));
const feeder = setInterval(() => {
  for (let n = 0; n < perTick; n++) {
    const outcome = outcomes[fed++ % outcomes.length]!;
    metrics.recordOutcome({ ...outcome, latencyMs: 2 + (fed % 97), timeMs: nowMs + fed });
  }
}, TICK_MS);

const renderMs: number[] = [];
const timed = {
  contentType: metrics.contentType,
  async exposition(coding?: ExpositionCoding) {
    const startedMs = performance.now();
    const body = await metrics.exposition(coding);
    renderMs.push(performance.now() - startedMs);
    return body;
  },
  countAuthFailure: () => {},
  countMonthQuery: () => {},
};
const app = await buildServer({
  metrics: timed,
  logger: createLogger('bench-scrape'),
  tokens: [],
  protectMetrics: false,
  checkReady: async () => ({ degraded: [] }),
  api: apiWithoutDaemon('the scrape benchmark serves /metrics only'),
});
await app.listen({ host: '127.0.0.1', port: 0 });
const cpuBefore = process.cpuUsage();
await tellParent('ready', { port: (app.server.address() as AddressInfo).port } satisfies ScrapeServerReady);
process.on('message', (message: unknown) => {
  if (message !== 'count') return;
  const cpu = process.cpuUsage(cpuBefore);
  void tellParent('result', {
    scrapes: renderMs.length,
    renderMs,
    cpuMs: (cpu.user + cpu.system) / 1_000,
    outcomesFed: fed,
  } satisfies ScrapeServerResult);
});
process.on('SIGTERM', () => {
  clearInterval(feeder);
  void app.close().then(() => process.exit(0));
});
