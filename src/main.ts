// The one composition root: load what the daemon needs, start it, stop it in reverse order.
import { dirname } from 'node:path';
import type { AppConfig } from './config/types.js';
import { systemClock, type Clock } from './clock.js';
import { monthToDateAsOf } from './close/cached-computations.js';
import { ComputationsClosedError, inThreadComputations, type MonthComputations } from './close/month-computations.js';
import { workerComputations } from './close/worker-computations.js';
import { createMonthCloser, type CloseOutcome } from './close/month-closer.js';
import { monthStatus, recentMonthStatuses } from './close/status.js';
import { usableTokens } from './http/auth.js';
import { buildServer } from './http/server.js';
import type { Logger } from './logging.js';
import { createMetrics } from './metrics/metrics.js';
import { createMonthEndJob, earliestObservationCached } from './scheduler/month-end.js';
import { createSlaRefresh } from './scheduler/sla-refresh.js';
import { forEachSlice } from './concurrency.js';
import { createIncrementalReads } from './scheduler/incremental-reads.js';
import { createSettledMark } from './scheduler/settled-mark.js';
import { createProbeLoop } from './scheduler/probe-loop.js';
import { monthContaining, monthToDateWindow } from './sla/month.js';
import { createObservationStore } from './store/create.js';
import { SqliteCloseRecords } from './state/close-records.js';
import { SqliteOperatorRecords } from './state/operator-records.js';
import { createRecordKeeper } from './close/record-changes.js';
import { createDeliverer } from './delivery/deliverer.js';
import { createSmtpMailer } from './delivery/mailer.js';
import { createDeliveryJob, type DeliveryJob } from './scheduler/delivery-job.js';
import { SqliteDeliveryRecords } from './state/delivery-records.js';
import { createPortalLinkSigner, portalSecretFromEnv, type PortalLinkSigner } from './web/portal-links.js';
import { fleetView, latestFigures, monthList } from './web/views.js';
import { hostname } from 'node:os';
import { createServerViews } from './fleet-view.js';
import { checkReadiness, writePathView } from './readiness.js';
import { createMetricsRefresh } from './scheduler/metrics-refresh.js';
import { forwardedThroughMs, shardText } from './agents/heartbeat.js';
import { influxHeartbeats } from './agents/influx-heartbeats.js';
import { agentEvidence } from './close/agent-evidence.js';
import { createHeartbeatJob } from './scheduler/heartbeat-job.js';
import { influxConnection } from './store/influx/connection.js';

/** How long requests in flight may take to finish when the daemon stops. */
const STOP_GRACE_MS = 5_000;
/** Servers whose SLA series are rendered between two turns of the event loop (see onSnapshot). */
const SLA_SERIES_PER_SLICE = 500;

export interface Daemon {
  /** The address the HTTP server listens on, e.g. http://127.0.0.1:9464. */
  address: string;
  stop(): Promise<void>;
}

/** Starts the store, the probe loop, the month-to-date SLA view, the month-end job and the HTTP server. */
export async function startDaemon(options: {
  config: AppConfig;
  logger: Logger;
  clock?: Clock;
  /** Where month computations run: a worker thread (default), or this thread (tests that show why not). */
  computeIn?: 'worker' | 'thread';
}): Promise<Daemon> {
  const { config, logger } = options;
  const clock = options.clock ?? systemClock;
  // The portal's secret: required when e-mails carry portal links; otherwise the portal is on when it is set.
  let portal: { signer: PortalLinkSigner; secret: string } | undefined;
  if (config.delivery || process.env[config.portal.secretEnv]) {
    const secret = portalSecretFromEnv(config.portal.secretEnv);
    portal = {
      secret,
      signer: createPortalLinkSigner(
        secret,
        config.http.publicUrl ?? `http://${config.http.listen}:${config.http.port}`,
      ),
    };
  }
  // The API's tokens, before anything is opened: a named token whose variable is not set stops the start.
  const tokens = usableTokens(config.http.tokens);
  // Only the close instance e-mails issued revisions (one sender per deployment). The mailer is made before anything
  // is opened: a missing SMTP password stops the start with nothing to close.
  const delivery = config.roles.close ? config.delivery : undefined;
  const mailer = delivery && createSmtpMailer(delivery);
  const store = await createObservationStore(config, logger);
  const records = SqliteCloseRecords.open(config.state.path);
  const operatorRecords = SqliteOperatorRecords.open(config.state.path);
  const sources = { store, operatorRecords };
  const metrics = createMetrics();
  // Month computations (API queries, the close, the month-to-date refresh) off the probe loop's event loop: a worker
  // with readers of its own.
  const computations: MonthComputations =
    options.computeIn === 'thread'
      ? inThreadComputations(config, sources)
      : workerComputations(config, {
          onAnswer: (source) => logger.debug({ source }, 'month answer'),
          onCrash: (error) => {
            logger.error({ err: error }, 'the compute worker stopped; the next computation starts another');
            metrics.recordComputeWorkerHeap({ usedBytes: 0, totalBytes: 0 }); // no worker until the next one reports
          },
          onHeap: (heap) => metrics.recordComputeWorkerHeap(heap),
        });
  // Heartbeats in InfluxDB: written by a probing agent, read by the close instance waiting for its agents.
  const heartbeats = config.storage.influxdb && influxHeartbeats(influxConnection(config.storage.influxdb));
  const startedMs = clock.now();
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
    deliveryJob = createDeliveryJob({
      deliverer,
      logger,
      clock,
      onPass: () => metrics.recordDeliveries(deliveryRecords.counts()),
    });
  }
  const loop = createProbeLoop({
    config,
    store,
    logger,
    clock,
    spillDir: dirname(config.storage.path),
    onOutcome(outcome) {
      metrics.recordOutcome(outcome);
      fleet.recordOutcome(outcome);
    },
  });

  /** Everything this agent probed before this time is readable in the store. */
  const ownForwardedThroughMs = () =>
    forwardedThroughMs(clock.now(), loop.earliestUnwrittenMs(), store.earliestUnconfirmedMs());
  const heartbeatJob =
    heartbeats && config.roles.probe
      ? createHeartbeatJob({
          heartbeats,
          clock,
          logger,
          beat: () => {
            const health = store.health();
            return {
              agent: config.probing.agent,
              location: config.probing.location,
              shard: shardText(config.probing.shard),
              forwardedThroughMs: ownForwardedThroughMs(),
              written: health.confirmedTotal,
              parked: health.parked,
              startedMs,
            };
          },
        })
      : undefined;

  // The running month is read incrementally by the refresh and by the API's credits of the month alike: each reads
  // only what follows the month's settled part (everything before the writers' marks).
  const incrementalReads = createIncrementalReads({
    settledThroughMs: createSettledMark({
      ownForwardedThroughMs,
      nowMs: () => clock.now(),
      ...(heartbeats ? { heartbeats: () => heartbeats.latest() } : {}),
      expectedAgents: config.agents,
    }),
    writesByOthersVersion: () => store.writesByOthersVersion?.(),
    logger,
  });
  const slaRefresh = createSlaRefresh({
    config,
    operatorRecords,
    // The month to date is read and computed in the worker too: this thread only assembles the snapshot.
    computations,
    logger,
    clock,
    async onSnapshot(snapshot) {
      // Only the close instance exports the SLA series: the alerts on them fire once, not once per agent. In slices
      // (each slice is recorded and rendered in one turn): a scrape meanwhile sees some servers at this refresh and the rest
      // at the previous one, each series a true month-to-date value; the refresh's timestamp moves after the last.
      if (config.roles.close)
        await forEachSlice(snapshot.servers, SLA_SERIES_PER_SLICE, (views) => metrics.recordSla(views));
      metrics.recordSlaRefreshed(snapshot.asOfMs);
    },
    onTimed: (timing) => metrics.recordSlaRefreshDuration(timing.totalMs),
    incrementalReads,
  });

  const closer = createMonthCloser({
    config,
    store,
    operatorRecords,
    pendingRevisions: operatorRecords,
    records,
    computations,
    // Observations of the month still on their way: in the probe loop's write buffer, or in the store's outbox.
    evidence: [
      { name: 'the probe loop', unconfirmed: (fromMs, toMs) => loop.unconfirmed(fromMs, toMs) },
      { name: store.description, unconfirmed: (fromMs, toMs) => store.unconfirmed(fromMs, toMs) },
      // The other agents' observations: each must be forwarded through the month's read range.
      ...(heartbeats && config.agents.length > 0 ? [agentEvidence(config.agents, () => heartbeats.latest())] : []),
    ],
    logger,
    clock,
    onOutcome(outcome: CloseOutcome) {
      if (outcome.status === 'failed' || outcome.status === 'held' || outcome.status === 'needs-review')
        metrics.countCloseProblem(outcome.status);
      if (outcome.status === 'issued') deliveryJob?.wake();
      metricsRefresh.refreshCloseMetrics();
    },
  });
  const monthEnd = createMonthEndJob({
    config,
    closer,
    records,
    earliestObservationMs: earliestObservationCached(store, clock),
    pendingRevisionMonths: () => operatorRecords.pendingMonths(),
    logger,
    clock,
  });
  // Aborted first thing at the stop: an API close, restatement or record follow-up still waiting for evidence (up to
  // sla.evidenceWait) or computing ends at once, recording nothing, rather than outlive the stop against closed stores
  // and keep the process from exiting. The month-end timer's runs have a signal of their own (month-end.ts).
  const stopping = new AbortController();
  const recordKeeper = createRecordKeeper({ config, operatorRecords, closer, clock, signal: stopping.signal });

  const fleet = createServerViews({ config, clock, snapshot: () => slaRefresh.snapshot() });
  const metricsRefresh = createMetricsRefresh({
    metrics,
    logger,
    clock,
    closeStates: () => recentMonthStatuses(records, config.timeZone, clock.now()),
    pendingRevisionMonths: () => operatorRecords.pendingMonths(),
    ...(config.roles.close ? { dueMonths: () => monthEnd.dueMonths() } : {}),
    writePath: () => writePathView(store, loop, clock),
  });

  const customerNames = new Map(config.customers.map((c) => [c.id, c.name]));
  const app = await buildServer({
    metrics,
    logger,
    tokens,
    web: {
      timeZone: config.timeZone,
      ...(portal ? { portal } : {}),
      secureCookies: config.http.publicUrl?.startsWith('https:') ?? false,
      now: () => clock.now(),
      fleet: () => fleetView(fleet.servers(), slaRefresh.snapshot(), fleet.month(), customerNames),
      timeline(serverId, month, options) {
        // Floored to a step, so that views within one step share a cached answer (cached-computations.ts).
        const window = monthToDateWindow(month, config.timeZone, monthToDateAsOf(clock.now()));
        return computations.timeline(serverId, { fromMs: window.fromMs, toMs: window.toMs }, options);
      },
      months: () => monthList(records, config.reports.dir),
      monthFigures: (month) => latestFigures(records, month),
      reportsDir: config.reports.dir,
      customers: config.customers.map((c) => ({ id: c.id, name: c.name, language: c.language })),
    },
    protectMetrics: config.http.protectMetrics,
    trustProxy: config.http.trustProxy,
    monthComputationsPerSecond: config.http.monthComputationsPerSecond,
    serveApi: config.roles.api,
    checkReady: () => checkReadiness(store, loop, clock),
    api: {
      servers: () => fleet.servers(),
      server: (id) => fleet.server(id),
      knowsServer: (id) => config.servers.has(id),
      async outages(fromMs, toMs, server, queryOptions) {
        // One server's outages read only that server's observations (the range may be up to 400 days).
        const availability = await computations.availability(
          { fromMs, toMs },
          server === undefined ? [...config.servers.keys()] : [server],
          queryOptions,
        );
        return (
          availability &&
          [...availability].flatMap(([id, a]) =>
            a.outages.map((o) => ({
              server: id,
              from: new Date(o.fromMs).toISOString(),
              to: new Date(o.toMs).toISOString(),
              durationMs: o.toMs - o.fromMs,
            })),
          )
        );
      },
      async credits(month, queryOptions) {
        // Only a computation of the running month reads incrementally (an answer from the cache reads nothing).
        const running = !queryOptions?.cachedOnly && month === monthContaining(clock.now(), config.timeZone);
        return running
          ? incrementalReads.withRead((incremental) => computations.creditsJson(month, { incremental }))
          : computations.creditsJson(month, queryOptions);
      },
      // The caller is the token's name: the journal's and the records' "by".
      closeMonth: (month, actor) => closer.close(month, { by: actor, signal: stopping.signal }),
      restateMonth: (month, reason, actor) => closer.restate(month, { by: actor, reason, signal: stopping.signal }),
      approveMonth: (month, draftHash, reason, actor) => closer.approve(month, { by: actor, draftHash, reason }),
      draftMonth: (month, customer) => closer.draft(month, customer === undefined ? {} : { customerId: customer }),
      async recomputeMonthToDate() {
        const snapshot = await slaRefresh.recompute();
        return { month: snapshot.month, asOfMs: snapshot.asOfMs, servers: snapshot.servers.length };
      },
      months: () => recentMonthStatuses(records, config.timeZone, clock.now()),
      monthStatus: (month) => monthStatus(records, month, config.timeZone),
      monthRecord: (month) => ({ revisions: records.revisions(month), journal: records.journal(month) }),
      knowsCustomer: (id) => config.customers.some((c) => c.id === id),
      records: { keeper: recordKeeper, reader: operatorRecords, maintenanceNoticeMs: config.sla.maintenanceNoticeMs },
    },
  });
  if (config.roles.probe) loop.start();
  heartbeatJob?.start();
  slaRefresh.start();
  /** Stops what runs from here on and closes what was opened, in reverse order (a failed listen, or stop()). */
  const release = async () => {
    await slaRefresh.stop();
    // Requests in flight get a few seconds; then every connection is cut: a keep-alive connection that was busy when
    // the server closed would otherwise keep the stop waiting for its idle timeout (72 s in fastify).
    const cutConnections = setTimeout(() => app.server.closeAllConnections(), STOP_GRACE_MS);
    await app.close();
    clearTimeout(cutConnections);
    await computations.close();
    await loop.stop();
    // The last heartbeat after the loop wrote everything and the outbox forwarded what it could (store.close would
    // do it next): the mark then reaches as far as InfluxDB confirmed.
    if (heartbeatJob) {
      await store.drain(5_000);
      await heartbeatJob.stop();
    }
    await heartbeats?.close();
    await store.close();
    records.close();
    operatorRecords.close();
    deliveryRecords?.close();
    mailer?.close();
  };
  let address: string;
  try {
    address = await app.listen({ host: config.http.listen, port: config.http.port });
  } catch (error) {
    await release();
    throw new Error(`cannot listen on ${config.http.listen}:${config.http.port}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  // Staleness of the SLA series counts from the start until the first refresh lands.
  metrics.recordSlaRefreshed(clock.now());
  metrics.recordRole({
    closes: config.roles.close,
    checks: config.roles.probe ? loop.stats().checks : 0,
  });
  metricsRefresh.start();
  // Without the close role another instance closes the months (one per deployment); API calls still can.
  if (config.roles.close) monthEnd.start();
  deliveryJob?.start();
  logger.info(
    {
      address,
      store: store.description,
      servers: config.servers.size,
      roles: Object.keys(config.roles).filter((role) => config.roles[role as keyof typeof config.roles]),
      agent: config.probing.agent,
      shard: shardText(config.probing.shard),
    },
    'uptime-credits started',
  );

  return {
    address,
    async stop() {
      // Answered 503 STOPPING, as a request cut short while it computes is (server.ts).
      stopping.abort(new ComputationsClosedError());
      await metricsRefresh.stop();
      await monthEnd.stop();
      await deliveryJob?.stop();
      await release();
      logger.info('uptime-credits stopped');
    },
  };
}
