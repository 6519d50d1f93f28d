// The one composition root: load what the daemon needs, start it, stop it in reverse order.
import type { AppConfig } from './config/types.js';
import { systemClock, type Clock } from './clock.js';
import { computeFleetAvailability } from './close/compute.js';
import { buildServer } from './http/server.js';
import type { Logger } from './logging.js';
import { createMetrics } from './metrics/metrics.js';
import { createProbeLoop } from './scheduler/probe-loop.js';
import { creditBracket } from './sla/brackets.js';
import { monthContaining, monthWindow } from './sla/month.js';
import { createObservationStore } from './store/create.js';
import { OutboxedInfluxStore } from './store/influx/influx-store.js';

/** How often the month-to-date SLA view is recomputed from the store (not on every scrape). */
const SLA_REFRESH_MS = 15_000;

export interface Daemon {
  /** The address the HTTP server listens on, e.g. http://127.0.0.1:9464. */
  address: string;
  stop(): Promise<void>;
}

/** Starts the store, the probe loop, the month-to-date SLA view and the HTTP server. */
export async function startDaemon(options: { config: AppConfig; logger: Logger; clock?: Clock }): Promise<Daemon> {
  const { config, logger } = options;
  const clock = options.clock ?? systemClock;
  const store = await createObservationStore(config, logger);
  const metrics = createMetrics();
  const loop = createProbeLoop({ config, store, logger, clock, onOutcome: (outcome) => metrics.recordOutcome(outcome) });

  const refreshSla = async () => {
    const now = clock.now();
    const month = monthWindow(monthContaining(now, config.timeZone), config.timeZone);
    const window = { fromMs: month.fromMs, toMs: Math.max(month.fromMs + 1, now) };
    const availability = await computeFleetAvailability(config, store, window);
    for (const customer of config.customers) {
      for (const server of customer.servers) {
        const a = availability.get(server.id);
        if (!a) continue;
        const bracket = creditBracket(a.eligibleMs, a.downtimeMs, customer.tier.brackets);
        const percent = Math.min(bracket?.creditPercentHundredths ?? 0, config.sla.maxCreditPercentHundredths ?? Infinity);
        metrics.recordSla(customer.id, server.id, customer.tier, a, percent);
      }
    }
    metrics.setBacklog(await store.backlog());
    const outboxErrors = store instanceof OutboxedInfluxStore ? store.stats().writeErrorsTotal : 0;
    metrics.syncWriteErrors(outboxErrors + loop.stats().writeErrorsTotal);
  };
  let refreshTimer: { cancel(): void } | undefined;
  const scheduleRefresh = (delayMs: number) => {
    refreshTimer = clock.setTimeout(() => {
      refreshSla()
        .catch((error) => logger.error({ err: error }, 'refreshing the SLA view failed'))
        .finally(() => scheduleRefresh(SLA_REFRESH_MS));
    }, delayMs);
  };

  const app = buildServer({
    registry: metrics.registry,
    logger,
    async checkReady() {
      if (!loop.running) throw new Error('probe loop is not running');
      await store.ping();
    },
  });
  loop.start();
  scheduleRefresh(0);
  let address: string;
  try {
    address = await app.listen({ host: config.http.listen, port: config.http.port });
  } catch (error) {
    await loop.stop();
    await store.close();
    throw new Error(`cannot listen on ${config.http.listen}:${config.http.port}: ${(error as Error).message}`, { cause: error });
  }
  logger.info({ address, store: store.description, servers: config.servers.size }, 'uptime-credits started');

  return {
    address,
    async stop() {
      refreshTimer?.cancel();
      await app.close();
      await loop.stop();
      await store.close();
      logger.info('uptime-credits stopped');
    },
  };
}
