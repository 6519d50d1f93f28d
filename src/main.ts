// The one composition root: load what the daemon needs, start it, stop it in reverse order.
import { dirname } from 'node:path';
import { customersForMonth } from './config/terms.js';
import type { AppConfig } from './config/types.js';
import { systemClock, type Clock } from './clock.js';
import { computeCredits, computeFleetAvailability } from './close/compute.js';
import { creditsToJson } from './close/json.js';
import { createMonthCloser, type CloseOutcome } from './close/month-closer.js';
import { monthStatus, recentMonthStatuses } from './close/status.js';
import { buildServer, type ServerView } from './http/server.js';
import type { Logger } from './logging.js';
import { createMetrics, type WritePathView } from './metrics/metrics.js';
import type { CheckOutcome } from './probes/probe.js';
import { createMonthEndJob } from './scheduler/month-end.js';
import { createSlaRefresh } from './scheduler/sla-refresh.js';
import { createProbeLoop } from './scheduler/probe-loop.js';
import { formatPercentHundredths, uptimePercentText } from './sla/money.js';
import { monthContaining, monthToDateWindow } from './sla/month.js';
import { createObservationStore } from './store/create.js';
import type { ObservationStore } from './store/store.js';
import { SqliteCloseRecords } from './state/close-records.js';
import { SqliteOperatorRecords } from './state/operator-records.js';
import { createRecordKeeper } from './close/record-changes.js';
import { serverTimeline } from './close/server-timeline.js';
import { createDeliverer } from './delivery/deliverer.js';
import { createSmtpMailer } from './delivery/mailer.js';
import { createDeliveryJob, type DeliveryJob } from './scheduler/delivery-job.js';
import { SqliteDeliveryRecords } from './state/delivery-records.js';
import { createPortalLinkSigner, portalSecretFromEnv, type PortalLinkSigner } from './web/portal-links.js';
import { fleetView, latestFigures, monthList } from './web/views.js';
import { hostname } from 'node:os';

/** How often the month-close metrics are read again from the records (other processes close months too). */
const CLOSE_METRICS_REFRESH_MS = 30_000;
/** How often the write-path metrics are read from the store and the probe loop (whatever the store's state). */
const WRITE_PATH_METRICS_EVERY_MS = 2_000;
/** /readyz waits this long for the remote store's /ping before it calls it unreachable. */
const READY_PING_TIMEOUT_MS = 1_500;

/** How long the store's earliest observation is remembered (it only moves earlier, by an import of older data). */
const EARLIEST_OBSERVATION_CACHE_MS = 10 * 60_000;

/**
 * The store's earliest observation, asked at most every EARLIEST_OBSERVATION_CACHE_MS once known: the due-months
 * count asks every CLOSE_METRICS_REFRESH_MS, and on InfluxDB that is a query over all history.
 */
function earliestObservationCached(store: ObservationStore, clock: Clock): () => Promise<number | undefined> {
  let known: { valueMs: number; atMs: number } | undefined;
  return async () => {
    if (known && clock.now() - known.atMs < EARLIEST_OBSERVATION_CACHE_MS) return known.valueMs;
    const valueMs = await store.earliestObservationMs();
    known = valueMs === undefined ? undefined : { valueMs, atMs: clock.now() };
    return valueMs;
  };
}

export interface Daemon {
  /** The address the HTTP server listens on, e.g. http://127.0.0.1:9464. */
  address: string;
  stop(): Promise<void>;
}

/** Starts the store, the probe loop, the month-to-date SLA view, the month-end job and the HTTP server. */
export async function startDaemon(options: { config: AppConfig; logger: Logger; clock?: Clock }): Promise<Daemon> {
  const { config, logger } = options;
  const clock = options.clock ?? systemClock;
  // The portal's secret: required when e-mails carry portal links; otherwise the portal is on when it is set.
  let portal: { signer: PortalLinkSigner; secret: string } | undefined;
  if (config.delivery || process.env[config.portal.secretEnv]) {
    const secret = portalSecretFromEnv(config.portal.secretEnv);
    portal = { secret, signer: createPortalLinkSigner(secret, config.http.publicUrl ?? `http://${config.http.listen}:${config.http.port}`) };
  }
  // Only the close instance e-mails issued revisions (one sender per deployment). The mailer is made before anything
  // is opened: a missing SMTP password stops the start with nothing to close.
  const delivery = config.sla.closeRole ? config.delivery : undefined;
  const mailer = delivery && createSmtpMailer(delivery);
  const store = await createObservationStore(config, logger);
  const records = SqliteCloseRecords.open(config.state.path);
  const operatorRecords = SqliteOperatorRecords.open(config.state.path);
  const sources = { store, operatorRecords };
  const metrics = createMetrics();
  const deliveryRecords = delivery && SqliteDeliveryRecords.open(config.state.path);
  let deliveryJob: DeliveryJob | undefined;
  if (delivery && deliveryRecords && mailer) {
    const deliverer = createDeliverer({
      config: { ...config, delivery },
      closeRecords: records,
      deliveries: deliveryRecords,
      mailer,
      ...(portal ? { portalLinks: portal.signer } : {}),
      logger,
      owner: `${hostname()}:${process.pid}`,
      now: () => clock.now(),
      onAttempt: (outcome) => metrics.countDeliveryAttempt(outcome),
    });
    deliveryJob = createDeliveryJob({ deliverer, logger, clock, onPass: () => metrics.recordDeliveries(deliveryRecords.counts()) });
  }
  const lastOutcomes = new Map<string, Map<string, CheckOutcome>>();
  const loop = createProbeLoop({
    config,
    store,
    logger,
    clock,
    spillDir: dirname(config.storage.path),
    onOutcome(outcome) {
      metrics.recordOutcome(outcome);
      let checks = lastOutcomes.get(outcome.server);
      if (!checks) lastOutcomes.set(outcome.server, (checks = new Map()));
      checks.set(`${outcome.check}@${outcome.location}`, outcome);
    },
  });

  const slaRefresh = createSlaRefresh({
    config,
    sources,
    logger,
    clock,
    onSnapshot(snapshot) {
      for (const view of snapshot.servers) metrics.recordSla(view);
      metrics.recordSlaRefreshed(snapshot.asOfMs);
    },
  });

  // The month-close series come from the records: refreshed after every close of this process, and every
  // CLOSE_METRICS_REFRESH_MS for what other processes (the CLI's report and approve) recorded.
  let stopping = false;
  const refreshCloseMetrics = () => {
    try {
      metrics.recordCloseStates(recentMonthStatuses(records, config.timeZone, clock.now()));
      metrics.recordPendingRevisions(operatorRecords.pendingMonths().length);
    } catch (error) {
      logger.error({ err: error }, 'reading the month-close records for the metrics failed');
    }
    if (config.sla.closeRole) countDueMonths();
  };
  // One count at a time, so an older answer never overwrites a newer one; a count asked for meanwhile (after a
  // close) runs when the current one ends.
  let dueCount: Promise<void> | undefined;
  let recountWanted = false;
  const countDueMonths = (): void => {
    if (stopping) return;
    if (dueCount) {
      recountWanted = true;
      return;
    }
    dueCount = monthEnd
      .dueMonths()
      .then(
        (due) => {
          if (!stopping) metrics.recordDueMonths(due.length);
        },
        (error: unknown) => {
          if (!stopping) logger.error({ err: error }, 'finding the months due for closing failed');
        },
      )
      .finally(() => {
        dueCount = undefined;
        if (recountWanted) {
          recountWanted = false;
          countDueMonths();
        }
      });
  };
  let closeMetricsTimer: { cancel(): void } | undefined;
  const writePathView = (): WritePathView => {
    const probing = loop.stats();
    return {
      store: store.health(),
      pendingInMemory: probing.pendingWrites,
      localWriteProblem: probing.writeProblem,
      localWriteErrorsTotal: probing.writeErrorsTotal,
      discarded: probing.discarded,
      droppedTotal: probing.droppedTotal,
      nowMs: clock.now(),
    };
  };
  let writePathTimer: { cancel(): void } | undefined;
  const refreshWritePathMetricsEvery = () => {
    writePathTimer = clock.setTimeout(() => {
      try {
        metrics.recordWritePath(writePathView());
      } catch (error) {
        logger.error({ err: error }, 'reading the write path for the metrics failed');
      }
      refreshWritePathMetricsEvery();
    }, WRITE_PATH_METRICS_EVERY_MS);
  };
  const refreshCloseMetricsEvery = () => {
    closeMetricsTimer = clock.setTimeout(() => {
      refreshCloseMetrics();
      refreshCloseMetricsEvery();
    }, CLOSE_METRICS_REFRESH_MS);
  };
  const closer = createMonthCloser({
    config,
    store,
    operatorRecords,
    pendingRevisions: operatorRecords,
    records,
    // Observations of the month still on their way: in the probe loop's write buffer, or in the store's outbox.
    evidence: [
      { name: 'the probe loop', unconfirmed: (fromMs, toMs) => loop.unconfirmed(fromMs, toMs) },
      { name: store.description, unconfirmed: (fromMs, toMs) => store.unconfirmed(fromMs, toMs) },
    ],
    logger,
    clock,
    onOutcome(outcome: CloseOutcome) {
      if (outcome.status === 'failed' || outcome.status === 'held' || outcome.status === 'needs-review') metrics.countCloseProblem(outcome.status);
      if (outcome.status === 'issued') deliveryJob?.wake();
      refreshCloseMetrics();
    },
  });
  const monthEnd = createMonthEndJob({ config, closer, records, earliestObservationMs: earliestObservationCached(store, clock), pendingRevisionMonths: () => operatorRecords.pendingMonths(), logger, clock });
  const API_ACTOR = 'api';
  const recordKeeper = createRecordKeeper({ config, operatorRecords, closer, clock });

  const serverViews = (): ServerView[] => {
    const snapshot = slaRefresh.snapshot(); // one snapshot for the whole answer
    // Tiers as in force this month: the snapshot's month, or before the first snapshot the month of now.
    const month = snapshot?.month ?? monthContaining(clock.now(), config.timeZone);
    return customersForMonth(config, month).flatMap((customer) =>
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
                  creditPercent: formatPercentHundredths(snapshot.projectedByServer.get(server.id)?.creditPercentHundredths ?? 0),
                  openOutageFrom: a.downAtEnd && lastOutage ? new Date(lastOutage.fromMs).toISOString() : null,
                }
              : null,
        } satisfies ServerView;
      }),
    );
  };

  const token = config.http.token ?? process.env[config.http.tokenEnv];
  const customerNames = new Map(config.customers.map((c) => [c.id, c.name]));
  const currentMonth = () => slaRefresh.snapshot()?.month ?? monthContaining(clock.now(), config.timeZone);
  const app = await buildServer({
    metrics,
    logger,
    token,
    web: {
      timeZone: config.timeZone,
      ...(token !== undefined ? { token } : {}),
      ...(portal ? { portal } : {}),
      secureCookies: config.http.publicUrl?.startsWith('https:') ?? false,
      now: () => clock.now(),
      fleet: () => fleetView(serverViews(), slaRefresh.snapshot(), currentMonth(), customerNames),
      timeline(serverId, month) {
        const window = monthToDateWindow(month, config.timeZone, clock.now());
        return serverTimeline(config, sources, serverId, { fromMs: window.fromMs, toMs: window.toMs });
      },
      months: () => monthList(records, config.reports.dir),
      monthFigures: (month) => latestFigures(records, month),
      reportsDir: config.reports.dir,
      customers: config.customers.map((c) => ({ id: c.id, name: c.name, language: c.language })),
    },
    protectMetrics: config.http.protectMetrics,
    async checkReady() {
      if (!loop.running) throw new Error('probe loop is not running');
      const view = writePathView();
      if (view.localWriteProblem !== undefined) throw new Error(`cannot store observations locally (${view.pendingInMemory} wait in memory): ${view.localWriteProblem}`);
      const degraded: string[] = [];
      const answered = await Promise.race([
        store.ping().then(() => undefined, (error: Error) => error.message),
        new Promise<string>((resolve) => setTimeout(() => resolve(`no answer within ${READY_PING_TIMEOUT_MS} ms`), READY_PING_TIMEOUT_MS).unref()),
      ]);
      const problem = view.store.remoteProblem ?? answered;
      if (problem !== undefined) degraded.push(`${store.description} unreachable: ${problem}; ${view.store.waiting} observations wait in the local outbox`);
      else if (view.store.waiting > 0 && view.store.oldestWaitingSinceMs !== undefined && view.nowMs - view.store.oldestWaitingSinceMs > 60_000) {
        degraded.push(`${view.store.waiting} observations have waited over a minute for ${store.description}`);
      }
      if (view.store.parked > 0) degraded.push(`${view.store.parked} observations refused by the remote store are parked (see \`uptime-credits outbox\`)`);
      return { degraded };
    },
    api: {
      servers: serverViews,
      knowsServer: (id) => config.servers.has(id),
      async outages(fromMs, toMs, server) {
        const availability = await computeFleetAvailability(config, sources, { fromMs, toMs });
        return [...availability].flatMap(([id, a]) =>
          server && id !== server ? [] : a.outages.map((o) => ({ server: id, from: new Date(o.fromMs).toISOString(), to: new Date(o.toMs).toISOString(), durationMs: o.toMs - o.fromMs })),
        );
      },
      credits: async (month) => creditsToJson(await computeCredits(config, sources, month)),
      closeMonth: (month) => closer.close(month, { by: API_ACTOR }),
      restateMonth: (month, reason) => closer.restate(month, { by: API_ACTOR, reason }),
      approveMonth: (month, draftHash, reason) => closer.approve(month, { by: API_ACTOR, draftHash, reason }),
      draftMonth: (month, customer) => closer.draft(month, customer === undefined ? {} : { customerId: customer }),
      months: () => recentMonthStatuses(records, config.timeZone, clock.now()),
      monthStatus: (month) => monthStatus(records, month, config.timeZone),
      monthRecord: (month) => ({ revisions: records.revisions(month), journal: records.journal(month) }),
      knowsCustomer: (id) => config.customers.some((c) => c.id === id),
      records: { keeper: recordKeeper, reader: operatorRecords, maintenanceNoticeMs: config.sla.maintenanceNoticeMs, actor: API_ACTOR },
    },
  });
  loop.start();
  slaRefresh.start();
  let address: string;
  try {
    address = await app.listen({ host: config.http.listen, port: config.http.port });
  } catch (error) {
    await loop.stop();
    await store.close();
    records.close();
    operatorRecords.close();
    deliveryRecords?.close();
    mailer?.close();
    throw new Error(`cannot listen on ${config.http.listen}:${config.http.port}: ${(error as Error).message}`, { cause: error });
  }
  // Staleness of the SLA series counts from the start until the first refresh lands.
  metrics.recordSlaRefreshed(clock.now());
  metrics.recordRole({ closes: config.sla.closeRole, checks: [...config.servers.values()].reduce((n, server) => n + server.checks.length, 0) });
  refreshCloseMetrics();
  refreshCloseMetricsEvery();
  metrics.recordWritePath(writePathView());
  refreshWritePathMetricsEvery();
  // Without the close role another instance closes the months (one per deployment); API calls still can.
  if (config.sla.closeRole) monthEnd.start();
  deliveryJob?.start();
  logger.info({ address, store: store.description, servers: config.servers.size, closeRole: config.sla.closeRole }, 'uptime-credits started');

  return {
    address,
    async stop() {
      stopping = true;
      closeMetricsTimer?.cancel();
      await dueCount;
      writePathTimer?.cancel();
      await monthEnd.stop();
      await deliveryJob?.stop();
      await slaRefresh.stop();
      await app.close();
      await loop.stop();
      await store.close();
      records.close();
      operatorRecords.close();
      deliveryRecords?.close();
      mailer?.close();
      logger.info('uptime-credits stopped');
    },
  };
}
