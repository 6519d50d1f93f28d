// The one composition root: load what the daemon needs, start it, stop it in reverse order.
import type { AppConfig } from './config/types.js';
import { systemClock, type Clock } from './clock.js';
import { computeCredits, computeFleetAvailability } from './close/compute.js';
import { creditsToJson } from './close/json.js';
import { publishMonth } from './close/publish.js';
import { buildServer, type ServerView } from './http/server.js';
import type { Logger } from './logging.js';
import { createMetrics } from './metrics/metrics.js';
import type { CheckOutcome } from './probes/probe.js';
import { createMonthEndJob } from './scheduler/month-end.js';
import { createProbeLoop } from './scheduler/probe-loop.js';
import { creditBracket } from './sla/brackets.js';
import { formatPercentHundredths, percentOfGrosze, uptimePercentText } from './sla/money.js';
import { monthContaining, monthWindow } from './sla/month.js';
import type { ServerAvailability } from './sla/types.js';
import { createObservationStore } from './store/create.js';
import { openEmbeddedDatabase } from './store/embedded/database.js';
import { OutboxedInfluxStore } from './store/influx/influx-store.js';

/** How often the month-to-date SLA view is recomputed from the store (not on every scrape). */
const SLA_REFRESH_MS = 15_000;

export interface Daemon {
  /** The address the HTTP server listens on, e.g. http://127.0.0.1:9464. */
  address: string;
  stop(): Promise<void>;
}

interface SlaSnapshot {
  month: string;
  availability: Map<string, ServerAvailability>;
  creditPercent: Map<string, number>;
}

/** Starts the store, the probe loop, the month-to-date SLA view, the month-end job and the HTTP server. */
export async function startDaemon(options: { config: AppConfig; logger: Logger; clock?: Clock }): Promise<Daemon> {
  const { config, logger } = options;
  const clock = options.clock ?? systemClock;
  const store = await createObservationStore(config, logger);
  const stateDb = openEmbeddedDatabase(config.storage.path);
  const metrics = createMetrics();
  const lastOutcomes = new Map<string, Map<string, CheckOutcome>>();
  const loop = createProbeLoop({
    config,
    store,
    logger,
    clock,
    onOutcome(outcome) {
      metrics.recordOutcome(outcome);
      let checks = lastOutcomes.get(outcome.server);
      if (!checks) lastOutcomes.set(outcome.server, (checks = new Map()));
      checks.set(`${outcome.check}@${outcome.location}`, outcome);
    },
  });

  let snapshot: SlaSnapshot | undefined;
  const refreshSla = async () => {
    const now = clock.now();
    const month = monthWindow(monthContaining(now, config.timeZone), config.timeZone);
    const window = { fromMs: month.fromMs, toMs: Math.max(month.fromMs + 1, now) };
    const availability = await computeFleetAvailability(config, store, window);
    const creditPercent = new Map<string, number>();
    for (const customer of config.customers) {
      for (const server of customer.servers) {
        const a = availability.get(server.id);
        if (!a) continue;
        const bracket = creditBracket(a.eligibleMs, a.downtimeMs, customer.tier.brackets);
        const percent = Math.min(bracket?.creditPercentHundredths ?? 0, config.sla.maxCreditPercentHundredths ?? Infinity);
        creditPercent.set(server.id, percent);
        metrics.recordSla(customer.id, server.id, customer.tier, a, percent, percentOfGrosze(customer.tier.serverFeeGrosze, percent));
      }
    }
    snapshot = { month: month.month, availability, creditPercent };
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

  const monthEnd = createMonthEndJob({
    config,
    db: stateDb,
    logger,
    clock,
    publish: async (month, force) => publishMonth({ config, credits: await computeCredits(config, store, month), outDir: config.reports.dir, force }),
  });

  const serverViews = (): ServerView[] =>
    config.customers.flatMap((customer) =>
      customer.servers.map((server) => {
        const checks = [...(lastOutcomes.get(server.id)?.values() ?? [])].map((o) => {
          const view: ServerView['checks'][number] = { name: o.check, kind: o.kind, location: o.location, up: o.up, latencyMs: o.latencyMs, checkedAt: new Date(o.timeMs).toISOString() };
          if (o.error) view.error = o.error;
          return view;
        });
        const a = snapshot?.availability.get(server.id);
        const lastOutage = a?.outages[a.outages.length - 1];
        return {
          id: server.id,
          name: server.name,
          customer: customer.id,
          tier: customer.tier.name,
          state: checks.length === 0 ? 'unknown' : checks.some((c) => !c.up) ? 'down' : 'up',
          checks,
          monthToDate:
            a && snapshot
              ? {
                  month: snapshot.month,
                  eligibleMs: a.eligibleMs,
                  downtimeMs: a.downtimeMs,
                  unmonitoredMs: a.unmonitoredMs,
                  uptimePercent: uptimePercentText(a.eligibleMs, a.downtimeMs),
                  creditPercent: formatPercentHundredths(snapshot.creditPercent.get(server.id) ?? 0),
                  openOutageFrom: a.downAtEnd && lastOutage ? new Date(lastOutage.fromMs).toISOString() : null,
                }
              : null,
        } satisfies ServerView;
      }),
    );

  const app = await buildServer({
    registry: metrics.registry,
    logger,
    token: config.http.token ?? process.env[config.http.tokenEnv],
    protectMetrics: config.http.protectMetrics,
    async checkReady() {
      if (!loop.running) throw new Error('probe loop is not running');
      await store.ping();
    },
    api: {
      servers: serverViews,
      knowsServer: (id) => config.servers.has(id),
      async outages(fromMs, toMs, server) {
        const availability = await computeFleetAvailability(config, store, { fromMs, toMs });
        return [...availability].flatMap(([id, a]) =>
          server && id !== server ? [] : a.outages.map((o) => ({ server: id, from: new Date(o.fromMs).toISOString(), to: new Date(o.toMs).toISOString(), durationMs: o.toMs - o.fromMs })),
        );
      },
      credits: async (month) => creditsToJson(await computeCredits(config, store, month)),
      closeMonth: (month, force) => monthEnd.closeMonth(month, force),
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
    stateDb.close();
    throw new Error(`cannot listen on ${config.http.listen}:${config.http.port}: ${(error as Error).message}`, { cause: error });
  }
  monthEnd.start();
  logger.info({ address, store: store.description, servers: config.servers.size }, 'uptime-credits started');

  return {
    address,
    async stop() {
      monthEnd.stop();
      refreshTimer?.cancel();
      await app.close();
      await loop.stop();
      await store.close();
      if (stateDb.open) stateDb.close();
      logger.info('uptime-credits stopped');
    },
  };
}
