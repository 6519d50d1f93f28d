// Prometheus metrics: blackbox_exporter's probe vocabulary plus the month-to-date SLA view, on an own registry.
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { deflatePart, gzipMember } from './gzip-parts.js';
import { PrerenderedGaugeFamily, renderLabels } from './prerendered.js';
import type { DiscardReason } from '../scheduler/probe-loop.js';
import type { StoreHealth } from '../store/store.js';
import type { CheckOutcome } from '../probes/probe.js';
import type { ServerSlaView } from '../scheduler/sla-refresh.js';
import { formatMicroPercent, uptimeRatio } from '../sla/money.js';
import { RECENT_DOWNTIME_WINDOWS } from '../sla/outlook.js';
import { MONTH_STATES, type MonthState } from '../state/close-records.js';
import { DELIVERY_STATES, type DeliveryState } from '../state/delivery-records.js';
import { AUTH_FAILURES, ROUTE_GROUPS, type AuthFailure, type RouteGroup } from '../http/auth.js';
import { MONTH_QUERY_ANSWERS, type MonthQueryAnswer } from '../http/month-queries.js';
import type { ComputeWorkerHeap } from '../close/compute-worker-protocol.js';

/** One month's close state as the metrics show it. */
export interface CloseMonthView {
  month: string;
  state: MonthState;
  revision: number;
  /** The month's end instant, epoch ms. */
  endMs: number;
  /** Servers holding the month for review, with their monitored share as a ratio 0-1. */
  underMonitored: { customer: string; server: string; monitoredRatio: number }[];
  /** A revision is recorded but its files or journal rows are not all written. */
  unfinished?: boolean;
}

/** The content codings /metrics is sent in. */
export type ExpositionCoding = 'identity' | 'gzip';

/** The exposition as chunks to send in order, and the content coding they are in. */
export interface Exposition {
  coding: ExpositionCoding;
  chunks: Buffer[];
}

/** What a bracket's budget series is labelled by. */
type BracketKey = { belowMicroPercent: number; creditPercentHundredths: number };

export type CloseProblem = 'failed' | 'held' | 'needs-review';

/** Typed recorders over one registry plus the per-server families; `exposition()` is what /metrics serves. */
export interface Metrics {
  /** Process metrics and the fleet-wide counters (prom-client). */
  registry: Registry;
  /** The content type of the exposition (Prometheus text format 0.0.4). */
  contentType: string;
  /**
   * The whole exposition as chunks, in order: the registry's metrics, then the per-server and per-check
   * families (cached buffers, sent as they are rather than copied into one 18 MB buffer per scrape). Asked for
   * `gzip`, the chunks are one gzip member of that text, joined from parts deflated once each (gzip-parts.ts); the
   * answer says which coding its chunks are in.
   */
  exposition(coding?: ExpositionCoding): Promise<Exposition>;
  recordOutcome(outcome: CheckOutcome): void;
  /**
   * Replaces these servers' month-to-date SLA series (figures, state now, tier, the whole month's bracket budgets)
   * and renders them: a refresh records its snapshot a slice at a time, and the scrapes only send the bytes.
   */
  recordSla(views: readonly ServerSlaView[]): void;
  /** A month-to-date SLA view computed as of `asOfMs` has been recorded (the SLA series are that fresh). */
  recordSlaRefreshed(asOfMs: number): void;
  /** How long the last month-to-date refresh took (sla-refresh.ts's RefreshTiming), whole. */
  recordSlaRefreshDuration(durationMs: number): void;
  /** What this instance is: whether it closes months, and how many checks it probes. */
  recordRole(role: { closes: boolean; checks: number }): void;
  /** Months past their close time that are not issued and not waiting for a person (the close role only). */
  recordDueMonths(count: number): void;
  /** Months owing a revision because incidents or maintenance changed, not yet taken through the close. */
  recordPendingRevisions(count: number): void;
  /** The write path as it is now: the store's outbox and the probe loop's unwritten observations. */
  recordWritePath(view: WritePathView): void;
  /** Counts one attempt to e-mail an issued revision: sent, to be retried (temporary failure), or failed (refused). */
  countDeliveryAttempt(outcome: 'sent' | 'retry' | 'failed'): void;
  /** How many e-mail deliveries are in each state now (from the delivery records). */
  recordDeliveries(counts: Readonly<Record<DeliveryState, number>>): void;
  /** Replaces the month-close series from the close records (the state of each recent month). */
  recordCloseStates(months: readonly CloseMonthView[]): void;
  /** Counts a close that failed, was held for evidence, or was held for review. */
  countCloseProblem(kind: CloseProblem): void;
  /** Counts a request refused for want of a valid token (or of its scope), by the part of the daemon it asked. */
  countAuthFailure(group: RouteGroup, failure: AuthFailure): void;
  /** Counts a month query (credits, outages): answered from the cache, computed, or refused over the client's rate. */
  countMonthQuery(answer: MonthQueryAnswer): void;
  /** The compute worker's V8 heap as it last reported it (the process metrics see the main thread's only). */
  recordComputeWorkerHeap(heap: ComputeWorkerHeap): void;
}

/** What the write path looks like now, whatever state the remote store is in (read every few seconds). */
export interface WritePathView {
  store: StoreHealth;
  /** Observations probed but not yet in the local store (the probe loop's memory). */
  pendingInMemory: number;
  /** Why writing to the local store fails now; undefined when it works. */
  localWriteProblem?: string;
  localWriteErrorsTotal: number;
  /** Failed probes left out as this process's own trouble, by reason. */
  discarded: Readonly<Record<DiscardReason, number>>;
  droppedTotal: number;
  nowMs: number;
}

/** Creates the metrics on `registry` (a fresh one by default), with process metrics. */
export function createMetrics(registry = new Registry()): Metrics {
  collectDefaultMetrics({ register: registry });
  // prom-client names these gauges with a counter's `_total` suffix, which `promtool check metrics` rejects.
  for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'])
    registry.removeSingleMetric(name);
  // One series per check or per server: rendered ahead of the scrape (see prerendered.ts).
  const probeSuccess = new PrerenderedGaugeFamily(
    'probe_success',
    'Whether the last probe succeeded (1) or failed (0).',
  );
  const probeDuration = new PrerenderedGaugeFamily('probe_duration_seconds', 'Duration of the last probe in seconds.');
  const httpStatus = new PrerenderedGaugeFamily(
    'probe_http_status_code',
    'HTTP status code of the last HTTP probe (0 without an answer).',
  );
  const certExpiry = new PrerenderedGaugeFamily(
    'probe_ssl_earliest_cert_expiry',
    'Earliest certificate expiry in the chain, unix seconds.',
  );
  const uptime = new PrerenderedGaugeFamily(
    'uptime_credits_sla_uptime_ratio',
    'Month-to-date uptime of eligible time, 0-1.',
  );
  const downtime = new PrerenderedGaugeFamily(
    'uptime_credits_sla_downtime_seconds',
    'Month-to-date confirmed downtime in eligible time.',
  );
  const unmonitored = new PrerenderedGaugeFamily(
    'uptime_credits_sla_unmonitored_seconds',
    'Month-to-date eligible time without fresh observations.',
  );
  const eligible = new PrerenderedGaugeFamily('uptime_credits_sla_eligible_seconds', 'Month-to-date eligible time.');
  const credit = new PrerenderedGaugeFamily(
    'uptime_credits_sla_credit_ratio',
    'Credit the month-to-date uptime would earn, as a ratio of the fee (1 = 100 %).',
  );
  const projected = new PrerenderedGaugeFamily(
    'uptime_credits_sla_projected_credit_pln',
    'Credit the server would earn if the month ended at its month-to-date uptime, in PLN (display only; the ledger is exact).',
  );
  const budget = new PrerenderedGaugeFamily(
    'uptime_credits_sla_downtime_budget_seconds',
    'Downtime the whole month still allows before its uptime falls below the bracket threshold `below` (percent); 0 at the threshold, negative once the bracket applies.',
  );
  const recentDowntime = new PrerenderedGaugeFamily(
    'uptime_credits_sla_recent_downtime_seconds',
    "Confirmed downtime in eligible time within the last `window` (30m, 1h, 6h; across a month's start too): the budget burn rate.",
  );
  const remainingEligible = new PrerenderedGaugeFamily(
    'uptime_credits_sla_remaining_eligible_seconds',
    'Eligible time still to come this month (coverage minus maintenance after now).',
  );
  const serverDown = new PrerenderedGaugeFamily(
    'uptime_credits_server_down',
    "Whether the server is down now by the SLA's own judgement (confirmed failures at quorum of the locations): 1, else 0.",
  );
  const inMaintenance = new PrerenderedGaugeFamily(
    'uptime_credits_server_maintenance_active',
    'Whether the server is in an announced maintenance window now (1) or not (0).',
  );
  const tierInfo = new PrerenderedGaugeFamily(
    'uptime_credits_server_tier_info',
    'The support tier in force for the server this month (always 1; the tier is a label).',
  );
  const slaFamilies = [
    uptime,
    downtime,
    unmonitored,
    eligible,
    credit,
    projected,
    budget,
    recentDowntime,
    remainingEligible,
    serverDown,
    inMaintenance,
    tierInfo,
  ];
  const families = [probeSuccess, probeDuration, httpStatus, certExpiry, ...slaFamilies];

  // The label text of each server's SLA series, kept so that a refresh passes the same strings again (the families
  // then compare them as pointers) and builds none.
  const serverLabels = new Map<string, { customer: string; labels: string }>();
  const labelsOf = (customer: string, server: string) => {
    let known = serverLabels.get(server);
    if (known?.customer !== customer) {
      known = { customer, labels: renderLabels({ customer, server }) };
      serverLabels.set(server, known);
    }
    return known.labels;
  };
  const tierSuffixes = new Map<string, readonly string[]>();
  const tierSuffix = (tier: string) => {
    let suffixes = tierSuffixes.get(tier);
    if (suffixes === undefined) {
      suffixes = [`,${renderLabels({ tier })}`];
      tierSuffixes.set(tier, suffixes);
    }
    return suffixes;
  };
  // Each tier's budget labels, kept while its brackets stay the same (terms may give a tier new ones from a month on).
  const budgetSuffixes = new Map<string, { brackets: readonly BracketKey[]; suffixes: readonly string[] }>();
  const budgetSuffixesOf = (tier: string, budgets: readonly BracketKey[]) => {
    const known = budgetSuffixes.get(tier);
    if (
      known !== undefined &&
      known.brackets.length === budgets.length &&
      known.brackets.every(
        (b, i) =>
          b.belowMicroPercent === budgets[i]?.belowMicroPercent &&
          b.creditPercentHundredths === budgets[i]?.creditPercentHundredths,
      )
    )
      return known.suffixes;
    const brackets = budgets.map(({ belowMicroPercent, creditPercentHundredths }) => ({
      belowMicroPercent,
      creditPercentHundredths,
    }));
    const suffixes = brackets.map(
      (b) =>
        `,below="${formatMicroPercent(b.belowMicroPercent)}",credit_percent="${formatMicroPercent(b.creditPercentHundredths * 10_000)}"`,
    );
    budgetSuffixes.set(tier, { brackets, suffixes });
    return suffixes;
  };
  const windowSuffixes = RECENT_DOWNTIME_WINDOWS.map((w) => `,window="${w.label}"`);
  const recordServerSla = ({
    customer,
    server,
    tier,
    monthToDate,
    outlook,
    recentDowntimeMs,
    projectedCreditPercentHundredths,
    projectedCreditGrosze,
  }: ServerSlaView) => {
    const labels = labelsOf(customer, server);
    uptime.set(labels, uptimeRatio(monthToDate.eligibleMs, monthToDate.downtimeMs));
    downtime.set(labels, monthToDate.downtimeMs / 1_000);
    unmonitored.set(labels, monthToDate.unmonitoredMs / 1_000);
    eligible.set(labels, monthToDate.eligibleMs / 1_000);
    credit.set(labels, projectedCreditPercentHundredths / 10_000);
    projected.set(labels, projectedCreditGrosze / 100);
    budget.setMany(
      labels,
      budgetSuffixesOf(tier, outlook.budgets),
      outlook.budgets.map((b) => b.remainingMs / 1_000),
    );
    recentDowntime.setMany(
      labels,
      windowSuffixes,
      RECENT_DOWNTIME_WINDOWS.map((w) => recentDowntimeMs[w.label] / 1_000),
    );
    remainingEligible.set(labels, outlook.remainingEligibleMs / 1_000);
    // Down counts only while the server is covered: before `since` a failing new server promises nothing yet.
    serverDown.set(labels, monthToDate.downAtEnd && outlook.coveredNow ? 1 : 0);
    inMaintenance.set(labels, outlook.inMaintenance ? 1 : 0);
    tierInfo.setMany(labels, tierSuffix(tier), [1]);
  };
  const probesTotal = new Counter({
    name: 'uptime_credits_probes_total',
    help: 'Probes run, by result.',
    labelNames: ['result'] as const,
    registers: [registry],
  });
  const backlog = new Gauge({
    name: 'uptime_credits_outbox_backlog_observations',
    help: 'Observations stored locally but not yet confirmed by the remote store.',
    registers: [registry],
  });
  const oldestWaiting = new Gauge({
    name: 'uptime_credits_outbox_oldest_waiting_age_seconds',
    help: 'How long the oldest observation waiting for the remote store has waited (0 when none waits).',
    registers: [registry],
  });
  const parked = new Gauge({
    name: 'uptime_credits_outbox_parked_observations',
    help: 'Observations the remote store refused by name, parked until `uptime-credits outbox --retry`.',
    registers: [registry],
  });
  const lastRemoteWrite = new Gauge({
    name: 'uptime_credits_store_last_remote_write_timestamp_seconds',
    help: 'When the remote store last confirmed a write, unix seconds (0: not since start).',
    registers: [registry],
  });
  const remoteUp = new Gauge({
    name: 'uptime_credits_store_remote_up',
    help: 'Whether the remote store takes writes now (1) or not (0); 1 for the embedded store.',
    registers: [registry],
  });
  const pendingWrites = new Gauge({
    name: 'uptime_credits_observations_pending_write',
    help: 'Observations probed but not yet written to the local store (held in memory).',
    registers: [registry],
  });
  const localWriteOk = new Gauge({
    name: 'uptime_credits_store_local_write_ok',
    help: 'Whether writing observations to the local store (embedded file or outbox) works (1) or fails (0).',
    registers: [registry],
  });
  const discarded = new Counter({
    name: 'uptime_credits_probes_discarded_total',
    help: "Failed probes left out as evidence because the trouble was this process's own (process-stalled, local-error).",
    labelNames: ['reason'] as const,
    registers: [registry],
  });
  const dropped = new Counter({
    name: 'uptime_credits_observations_dropped_total',
    help: 'Observations dropped unwritten because the local store refused writes for too long (memory cap).',
    registers: [registry],
  });
  const writeErrors = new Counter({
    name: 'uptime_credits_store_write_errors_total',
    help: 'Failed writes of observations (to the store, or from the outbox to InfluxDB).',
    registers: [registry],
  });
  const lag = new Histogram({
    name: 'uptime_credits_probe_schedule_lag_seconds',
    help: 'How late probes start against their schedule.',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  const closeState = new Gauge({
    name: 'uptime_credits_close_month_state',
    help: 'State of each recent month close (1 for its current state): held, needs-review, closed, restated.',
    labelNames: ['month', 'state'] as const,
    registers: [registry],
  });
  const closeRevision = new Gauge({
    name: 'uptime_credits_close_month_revision',
    help: 'Latest issued revision of each recent month (0 while none is).',
    labelNames: ['month'] as const,
    registers: [registry],
  });
  const latestClosed = new Gauge({
    name: 'uptime_credits_close_latest_closed_month_end_timestamp_seconds',
    help: 'End of the latest month with an issued revision, unix seconds (0 while none is).',
    registers: [registry],
  });
  const closeProblems = new Counter({
    name: 'uptime_credits_close_problems_total',
    help: 'Month closes that failed, were held for missing evidence, or were held for review.',
    labelNames: ['kind'] as const,
    registers: [registry],
  });
  const underMonitored = new Gauge({
    name: 'uptime_credits_close_under_monitored_ratio',
    help: 'Monitored share (0-1) of each server that holds a month close for review.',
    labelNames: ['month', 'customer', 'server'] as const,
    registers: [registry],
  });
  const unfinished = new Gauge({
    name: 'uptime_credits_close_unfinished_revisions',
    help: 'Months with a revision recorded whose files or journal rows are not all written (retried every few minutes).',
    registers: [registry],
  });
  const closeRole = new Gauge({
    name: 'uptime_credits_close_role',
    help: 'Whether this instance closes months (1) or only probes (0); the alert rules read the series of the one that closes.',
    registers: [registry],
  });
  const slaRefreshed = new Gauge({
    name: 'uptime_credits_sla_refresh_timestamp_seconds',
    help: 'The instant the SLA series were last computed for (unix seconds; the process start until the first refresh).',
    registers: [registry],
  });
  const slaRefreshDuration = new Gauge({
    name: 'uptime_credits_sla_refresh_duration_seconds',
    help: 'How long the last month-to-date refresh took, from its start to its series recorded (its interval follows).',
    registers: [registry],
  });
  const checksConfigured = new Gauge({
    name: 'uptime_credits_checks_configured',
    help: 'Checks this instance probes.',
    registers: [registry],
  });
  const dueMonths = new Gauge({
    name: 'uptime_credits_close_due_months',
    help: "Months past their close time that are not issued and not waiting for a person's review (0 on an instance that does not close).",
    registers: [registry],
  });
  const deliveryAttempts = new Counter({
    name: 'uptime_credits_delivery_attempts_total',
    help: 'Attempts to e-mail an issued revision to a customer or finance: sent, retry (temporary SMTP failure, retried with backoff), failed (refused by the server, not retried).',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  for (const outcome of ['sent', 'retry', 'failed'] as const) deliveryAttempts.inc({ outcome }, 0);
  const deliveries = new Gauge({
    name: 'uptime_credits_deliveries',
    help: 'E-mail deliveries of issued revisions by state: pending (waiting or retrying), sending, sent, failed (refused; resend by hand), undeliverable (customer without an e-mail address).',
    labelNames: ['state'] as const,
    registers: [registry],
  });
  const pendingRevisions = new Gauge({
    name: 'uptime_credits_close_revisions_pending',
    help: 'Months owing a revision because incidents or maintenance records changed, not yet restated or redrafted (served by the close instance every closeRetry).',
    registers: [registry],
  });
  pendingRevisions.set(0);
  const authFailures = new Counter({
    name: 'uptime_credits_http_auth_failures_total',
    help: 'Requests refused for want of a valid token: missing, invalid, scope (a token without the scope), throttled (the address presented wrong tokens too often), by route_group (api, monitoring, ops).',
    labelNames: ['route_group', 'reason'] as const,
    registers: [registry],
  });
  for (const group of ROUTE_GROUPS)
    for (const reason of AUTH_FAILURES) authFailures.inc({ route_group: group, reason }, 0);
  const monthQueries = new Counter({
    name: 'uptime_credits_http_month_queries_total',
    help: 'Month queries of the API (credits, outages) by answer: cached (free), computed, rate-limited (429 over http.monthComputationsPerSecond per client).',
    labelNames: ['answer'] as const,
    registers: [registry],
  });
  for (const answer of MONTH_QUERY_ANSWERS) monthQueries.inc({ answer }, 0);
  const workerHeapUsed = new Gauge({
    name: 'uptime_credits_compute_worker_heap_used_bytes',
    help: "The compute worker thread's V8 heap in use, as it last reported (every 5 s; 0 before it did and after a crash). nodejs_heap_size_* are the main thread's.",
    registers: [registry],
  });
  const workerHeapTotal = new Gauge({
    name: 'uptime_credits_compute_worker_heap_total_bytes',
    help: "The compute worker thread's V8 heap reserved, as it last reported (every 5 s; 0 before it did and after a crash): its share of the process's resident memory.",
    registers: [registry],
  });
  for (const kind of ['failed', 'held', 'needs-review'] as const) closeProblems.inc({ kind }, 0);
  closeRole.set(0);
  checksConfigured.set(0);
  dueMonths.set(0);
  unfinished.set(0);
  latestClosed.set(0);
  const seen: Record<string, number> = { writeErrors: 0, dropped: 0 };
  /** Brings a counter up to a total counted elsewhere (the store and the probe loop count their own events). */
  const syncCounter = (counter: { inc(value: number): void }, key: string, total: number) => {
    const before = seen[key] ?? 0;
    if (total > before) counter.inc(total - before);
    seen[key] = Math.max(before, total);
  };
  // Zero known series at start, so they exist before the first event.
  probesTotal.inc({ result: 'success' }, 0);
  probesTotal.inc({ result: 'failure' }, 0);
  backlog.set(0);
  remoteUp.set(1);
  localWriteOk.set(1);
  for (const reason of ['process-stalled', 'local-error']) discarded.inc({ reason }, 0);

  return {
    registry,
    contentType: registry.contentType,
    async exposition(coding = 'identity') {
      const registryText = Buffer.from(await registry.metrics());
      if (coding === 'identity') return { coding, chunks: [registryText, ...families.flatMap((f) => f.chunks())] };
      const parts = [deflatePart(registryText), ...families.flatMap((family) => family.deflatedParts())];
      return { coding, chunks: gzipMember(parts) };
    },
    recordOutcome(outcome) {
      const labels = renderLabels({
        customer: outcome.customer,
        server: outcome.server,
        check: outcome.check,
        location: outcome.location,
      });
      probeSuccess.set(labels, outcome.up ? 1 : 0);
      probeDuration.set(labels, outcome.latencyMs / 1_000);
      if (outcome.kind === 'http') httpStatus.set(labels, outcome.httpStatus ?? 0);
      if (outcome.certNotAfterMs !== undefined) certExpiry.set(labels, Math.floor(outcome.certNotAfterMs / 1_000));
      probesTotal.inc({ result: outcome.up ? 'success' : 'failure' });
      lag.observe(outcome.lagMs / 1_000);
    },
    recordSla(views) {
      for (const view of views) recordServerSla(view);
      // Rendered (and deflated) now, a slice at a time, so that the scrape after a refresh sends bytes rather than
      // writes them.
      for (const family of slaFamilies) family.prepareChanged();
    },
    recordWritePath(view) {
      backlog.set(view.store.waiting);
      oldestWaiting.set(
        view.store.oldestWaitingSinceMs === undefined
          ? 0
          : Math.max(0, view.nowMs - view.store.oldestWaitingSinceMs) / 1_000,
      );
      parked.set(view.store.parked);
      lastRemoteWrite.set(view.store.lastRemoteWriteMs === undefined ? 0 : view.store.lastRemoteWriteMs / 1_000);
      remoteUp.set(view.store.remoteProblem === undefined ? 1 : 0);
      pendingWrites.set(view.pendingInMemory);
      localWriteOk.set(view.localWriteProblem === undefined ? 1 : 0);
      syncCounter(writeErrors, 'writeErrors', view.store.remoteWriteErrorsTotal + view.localWriteErrorsTotal);
      for (const [reason, total] of Object.entries(view.discarded))
        syncCounter({ inc: (v) => discarded.inc({ reason }, v) }, `discarded:${reason}`, total);
      syncCounter(dropped, 'dropped', view.droppedTotal);
    },
    recordCloseStates(months) {
      closeState.reset();
      closeRevision.reset();
      underMonitored.reset();
      for (const m of months) {
        for (const state of MONTH_STATES) closeState.set({ month: m.month, state }, m.state === state ? 1 : 0);
        closeRevision.set({ month: m.month }, m.revision);
        for (const s of m.underMonitored)
          underMonitored.set({ month: m.month, customer: s.customer, server: s.server }, s.monitoredRatio);
      }
      unfinished.set(months.filter((m) => m.unfinished).length);
      const issued = months.filter((m) => m.revision > 0 && !m.unfinished).map((m) => m.endMs);
      latestClosed.set(issued.length > 0 ? Math.max(...issued) / 1_000 : 0);
    },
    countCloseProblem: (kind) => closeProblems.inc({ kind }),
    countAuthFailure: (group, failure) => authFailures.inc({ route_group: group, reason: failure }),
    countMonthQuery: (answer) => monthQueries.inc({ answer }),
    recordComputeWorkerHeap(heap) {
      workerHeapUsed.set(heap.usedBytes);
      workerHeapTotal.set(heap.totalBytes);
    },
    recordSlaRefreshed: (asOfMs) => slaRefreshed.set(asOfMs / 1_000),
    recordSlaRefreshDuration: (durationMs) => slaRefreshDuration.set(durationMs / 1_000),
    recordRole({ closes, checks }) {
      closeRole.set(closes ? 1 : 0);
      checksConfigured.set(checks);
    },
    recordDueMonths: (count) => dueMonths.set(count),
    recordPendingRevisions: (count) => pendingRevisions.set(count),
    countDeliveryAttempt: (outcome) => deliveryAttempts.inc({ outcome }),
    recordDeliveries(counts) {
      for (const state of DELIVERY_STATES) deliveries.set({ state }, counts[state]);
    },
  };
}
