// The whole daemon: the built `start` with N servers (one HTTP check each, 10 s) against loopback targets, on a
// store pre-filled with the last days of the current month at 30 s; a measured window while 4 clients ask for
// the month's credits as fast as the daemon lets them; on InfluxDB an outage drill (influxd stopped, started,
// the outbox drained); and the month close over the pre-filled days in a child process.
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { dump, load } from 'js-yaml';
import { loadConfig } from '../../src/config/load.js';
import { HEARTBEAT_EVERY_MS } from '../../src/agents/heartbeat.js';
import { createLogger } from '../../src/logging.js';
import { monthContaining, monthWindow } from '../../src/sla/month.js';
import { createObservationStore } from '../../src/store/create.js';
import { startInfluxd, type Influxd } from '../support/influxd.js';
import { buildDaemon, startBuiltDaemon, type BuiltDaemon } from './built-daemon.js';
import { forkChild } from './children.js';
import type { CloseResult, CloseTask } from './close-child.js';
import type { CreditsClientsResult } from './credits-clients.js';
import { prefillHeartbeats, prefillInflux, prefillStore } from './daemon-prefill.js';
import {
  childPid,
  cpuSeconds,
  machineBusySeconds,
  histogram,
  memory,
  quantileBetween,
  sample,
  samples,
  type Histogram,
} from './daemon-watch.js';
import { percentile, sleep, type FigureLog } from './figures.js';
import { writeFleetConfig } from './fleet.js';
import { scrapeWith, type ScrapeClient } from './scrape-clients.js';
import type { TargetReady } from './target-server.js';

const DAY_MS = 86_400_000;
const MEASUREMENT = 'uptime_observation';
/** The daemon's staleAfter (its configuration below), the floor of the pre-filled lines' gap marks. */
const STALE_AFTER_MS = 90_000;
/** The daemon's SLA refresh interval (SLA_REFRESH_INTERVAL_MS): a refresh's duration is its period minus this. */
const REFRESH_INTERVAL_S = 15;
/** Before the window: every check has run (first round within 5 s) and the first refreshes had their chance. */
const WARMUP_MS = 20_000;
/** How long the first month-to-date snapshot may take (a whole month of 10,000 servers is read). */
const FIRST_REFRESH_LIMIT_MS = 30 * 60_000;
/** Time between the bench's scrapes of /metrics (each one timed, as Prometheus would scrape). */
const SCRAPE_EVERY_MS = 2_000;
const CREDITS_CLIENTS = 4;
/** A read token for /api/v1/credits (in the generated config only). */
const TOKEN = 'bench-token-not-a-secret-0123456789';
const LAG = 'uptime_credits_probe_schedule_lag_seconds';
const BACKLOG = 'uptime_credits_outbox_backlog_observations';
const REFRESHED = 'uptime_credits_sla_refresh_timestamp_seconds';
/** How long the drill waits for the outbox to drain before it reports it as not drained. */
const DRAIN_LIMIT_MS = 30 * 60_000;

export interface DaemonBenchOptions {
  dir: string;
  servers: number;
  /** Days of the current month pre-filled before the daemon starts (fewer when the month is younger). */
  days: number;
  /** Length of the measured window. */
  windowMs: number;
  /** How long influxd stays stopped in the outage drill (0: no drill). */
  outageMs: number;
  /** 'influx' and/or 'embedded'. */
  stores: ReadonlySet<string>;
  /** The credits clients send If-None-Match with the last answer's ETag (304 while it holds). */
  conditionalClients: boolean;
  /**
   * The nice value of the stand-ins for parties on other machines (the targets, the credits clients); 0 by default,
   * as in every figure before 2026-11-30's fourth session.
   */
  remoteNice: number;
  /**
   * What the bench scrapes /metrics with: node:http by default; curl, timed by itself; fetch, the client of every
   * figure before 2026-11-30's fifth session, which costs the scraping side more than the others (scrape-clients.ts).
   */
  scrapeClient: ScrapeClient;
  /**
   * The fleet's time zone, which sets the month the window lies in (Europe/Warsaw by default). The pre-fill takes the
   * days before now within that month, so in a month's first days another zone keeps the figures those of a month late
   * in its course, as in every run before.
   */
  timeZone: string;
  nodeFlags(name: string): string[];
}

/** What must be stopped however the bench ends: each part once, the last started first. */
class Stoppers {
  private readonly parts: { stop: () => Promise<unknown>; pid: number | undefined }[] = [];

  /** Registers a part (and its pid, killed outright if the bench exits first); returns its stop, run once. */
  add(stop: () => Promise<unknown>, pid?: number): () => Promise<void> {
    const part = { stop, pid };
    this.parts.push(part);
    return async () => {
      const index = this.parts.indexOf(part);
      if (index < 0) return;
      this.parts.splice(index, 1);
      await stop();
    };
  }

  async stopAll(): Promise<void> {
    for (const part of this.parts.splice(0).reverse()) await part.stop().catch((e: unknown) => console.error(`# ${e}`));
  }

  /** Last resort at exit: SIGKILL what was not stopped. */
  killLeft(): void {
    for (const { pid } of this.parts) {
      try {
        if (pid !== undefined) process.kill(pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
  }
}

/** The fleet's daemon configuration: 10 s HTTP checks, staleAfter 90 s (the pre-filled data is 30 s apart). */
function writeDaemonConfig(
  dir: string,
  name: string,
  servers: number,
  targetUrl: (i: number) => string,
  storage: Record<string, unknown>,
  timeZone: string,
) {
  const path = writeFleetConfig({
    dir,
    servers,
    targetUrl,
    storage,
    fileName: `${name}.yaml`,
    timeZone,
    probing: { interval: '10s', timeout: '5s', staleAfter: `${STALE_AFTER_MS / 1_000}s` },
  });
  const config = load(readFileSync(path, 'utf8')) as Record<string, unknown>;
  Object.assign(config, {
    state: { path: join(dir, `${name}-state.db`) },
    reports: { dir: join(dir, `${name}-reports`) },
    http: { listen: '127.0.0.1', port: 0, token: TOKEN },
  });
  writeFileSync(path, dump(config, { noRefs: true }));
  return path;
}

/**
 * One timed GET of /metrics with the chosen client: its text and how long it took to the last byte. The bytes are
 * decoded after the clock stops: turning 19 MB into a string is the bench's own work (40-70 ms here), not the
 * daemon's, and Prometheus parses the bytes as they come. (Until 2026-11-30 the decoding was timed too.) So is
 * inflating them, since the daemon sends gzip (node:http's `inflateMs`, logged apart).
 */
async function scrape(
  daemon: BuiltDaemon,
  client: ScrapeClient,
): Promise<{ text: string; ms: number; firstByteMs: number; inflateMs?: number }> {
  const { bytes, ms, firstByteMs, inflateMs } = await scrapeWith(client, `${daemon.url}/metrics`);
  return { text: bytes.toString('utf8'), ms, firstByteMs, ...(inflateMs === undefined ? {} : { inflateMs }) };
}

/** Clients asking for the month's credits back to back, in a process of their own (credits-clients.ts). */
async function creditsClients(daemon: BuiltDaemon, month: string, clients: number, conditional: boolean, nice: number) {
  const child = forkChild<unknown, CreditsClientsResult>(
    'credits-clients',
    [daemon.url, month, TOKEN, String(clients), conditional ? 'conditional' : 'whole'],
    [],
    nice,
  );
  await child.ready;
  return {
    pid: child.process.pid,
    /** Stops the clients and says what they were answered. */
    async stop(): Promise<CreditsClientsResult> {
      child.send('stop');
      const result = await child.result;
      await child.stop();
      return result;
    },
  };
}

/** What the window observed, sampled at every scrape. */
interface Watch {
  scrapeMs: number[];
  /** Each scrape's time to the answer's headers (the rest of scrapeMs is the body's transfer). */
  firstByteMs: number[];
  /** The client's time to inflate each gzip answer, after the clock stopped (node:http only). */
  inflateMs: number[];
  stalenessS: number[];
  refreshedAtS: number[];
  rssBytes: number[];
  /** The daemon's main thread alone (prom-client's default metrics): V8 heap reserved, and memory outside it. */
  mainHeapBytes: number[];
  /** The compute worker's V8 heap reserved, as it last reported. */
  workerHeapBytes: number[];
  externalBytes: number[];
  /** What had happened in the daemon by each scrape (cumulative): see logSlowScrapes. */
  happened: Happened[];
  first: string;
  last: string;
}

/** Scrapes every SCRAPE_EVERY_MS until `untilMs` (Date.now()), noting staleness, refreshes and RSS. */
async function watchUntil(
  daemon: BuiltDaemon,
  client: ScrapeClient,
  untilMs: number,
  onScrape?: (text: string) => boolean,
) {
  const watch: Watch = {
    scrapeMs: [],
    firstByteMs: [],
    inflateMs: [],
    stalenessS: [],
    refreshedAtS: [],
    rssBytes: [],
    mainHeapBytes: [],
    workerHeapBytes: [],
    externalBytes: [],
    happened: [],
    first: '',
    last: '',
  };
  while (Date.now() < untilMs) {
    const tickMs = Date.now();
    const { text, ms, firstByteMs, inflateMs } = await scrape(daemon, client);
    watch.scrapeMs.push(ms);
    watch.firstByteMs.push(firstByteMs);
    if (inflateMs !== undefined) watch.inflateMs.push(inflateMs);
    if (!watch.first) watch.first = text;
    watch.last = text;
    const refreshedS = sample(text, REFRESHED);
    if (refreshedS !== undefined) {
      watch.stalenessS.push(Date.now() / 1_000 - refreshedS);
      if (refreshedS !== watch.refreshedAtS.at(-1)) watch.refreshedAtS.push(refreshedS);
    }
    watch.rssBytes.push(memory(daemon.pid).rssBytes);
    watch.mainHeapBytes.push(sample(text, 'nodejs_heap_size_total_bytes') ?? NaN);
    watch.workerHeapBytes.push(sample(text, 'uptime_credits_compute_worker_heap_total_bytes') ?? NaN);
    watch.externalBytes.push(sample(text, 'nodejs_external_memory_bytes') ?? NaN);
    watch.happened.push(happenedBy(text));
    if (onScrape?.(text)) break;
    await sleep(Math.max(0, SCRAPE_EVERY_MS - (Date.now() - tickMs)));
  }
  return watch;
}

const probes = (text: string, result: string) => sample(text, `uptime_credits_probes_total{result="${result}"}`) ?? 0;
const lagOf = (text: string): Histogram => histogram(text, LAG);

/** Counters of what may hold a scrape up, as one scrape's text shows them. */
interface Happened {
  majorGcs: number;
  refreshedS: number | undefined;
  computedQueries: number;
  /** The longest event-loop delay since the scrape before (prom-client resets it at each scrape), in seconds. */
  eventLoopDelayMaxS: number;
}

const happenedBy = (text: string): Happened => ({
  majorGcs: sample(text, 'nodejs_gc_duration_seconds_count{kind="major"}') ?? 0,
  refreshedS: sample(text, REFRESHED),
  computedQueries: sample(text, 'uptime_credits_http_month_queries_total{answer="computed"}') ?? 0,
  eventLoopDelayMaxS: sample(text, 'nodejs_eventloop_lag_max_seconds') ?? 0,
});

/** An event-loop delay this long on the daemon's thread holds a scrape up by about as much. */
const EVENT_LOOP_STALL_S = 0.05;

/**
 * What the slow scrapes had in common. A scrape's text shows the daemon as the scrape began, so what happened while
 * it ran shows in the next one's: each scrape is paired with what changed by the next (its own time and the pause
 * after it, ~2 s). The same shares over every scrape are the baseline.
 */
function logSlowScrapes(log: FigureLog, at: string, watch: Watch, overMs: number) {
  const kinds = {
    major_gc: (a: Happened, b: Happened) => b.majorGcs > a.majorGcs,
    refresh: (a: Happened, b: Happened) => b.refreshedS !== a.refreshedS,
    computed_month_query: (a: Happened, b: Happened) => b.computedQueries > a.computedQueries,
    // Whatever held the daemon's thread (a collection, a synchronous write, a long task): the next scrape's maximum
    // covers this scrape and the pause after it.
    event_loop_stall: (_a: Happened, b: Happened) => b.eventLoopDelayMaxS >= EVENT_LOOP_STALL_S,
  };
  const paired = watch.scrapeMs
    .slice(0, -1)
    .map((ms, i) => ({ ms, firstByteMs: watch.firstByteMs[i]!, a: watch.happened[i]!, b: watch.happened[i + 1]! }));
  const slow = paired.filter(({ ms }) => ms > overMs);
  log.add(`${at}.scrapes_over_${overMs}ms`, slow.length, 'scrapes');
  // Each slow one on its own line: whether the daemon was late to answer (headers) or the body was slow to cross.
  for (const { ms, firstByteMs, a, b } of slow) {
    const what = Object.entries(kinds)
      .filter(([, happened]) => happened(a, b))
      .map(([kind]) => kind);
    console.log(
      `# ${at}: scrape of ${ms.toFixed(0)} ms, headers after ${firstByteMs.toFixed(0)} ms; by the next scrape: ${what.join(', ') || 'none of these'}, longest event-loop delay ${(b.eventLoopDelayMaxS * 1_000).toFixed(0)} ms`,
    );
  }
  for (const [kind, happened] of Object.entries(kinds)) {
    log.add(`${at}.scrapes_over_${overMs}ms_with_${kind}`, slow.filter(({ a, b }) => happened(a, b)).length, 'scrapes');
    const all = paired.filter(({ a, b }) => happened(a, b)).length;
    log.add(`${at}.scrapes_with_${kind}_share`, paired.length ? (100 * all) / paired.length : 0, '%');
  }
}

/** The figures of a stretch of the daemon's life between two scrapes. */
function logStretch(log: FigureLog, at: string, watch: Watch, seconds: number) {
  const before = lagOf(watch.first);
  const after = lagOf(watch.last);
  log.add(`${at}.probes_per_second`, (after.count - before.count) / seconds, 'probes/s');
  log.add(`${at}.probe_failures`, probes(watch.last, 'failure') - probes(watch.first, 'failure'), 'probes');
  log.add(`${at}.probe_lag_p50`, quantileBetween(before, after, 0.5) * 1_000, 'ms');
  log.add(`${at}.probe_lag_p99`, quantileBetween(before, after, 0.99) * 1_000, 'ms');
  log.add(`${at}.scrapes`, watch.scrapeMs.length, 'scrapes');
  log.add(`${at}.scrape_p50`, percentile(watch.scrapeMs, 50), 'ms');
  log.add(`${at}.scrape_p95`, percentile(watch.scrapeMs, 95), 'ms');
  log.add(`${at}.scrape_p99`, percentile(watch.scrapeMs, 99), 'ms');
  log.add(`${at}.scrape_max`, Math.max(...watch.scrapeMs), 'ms');
  log.add(`${at}.scrape_headers_p50`, percentile(watch.firstByteMs, 50), 'ms');
  log.add(`${at}.scrape_headers_p99`, percentile(watch.firstByteMs, 99), 'ms');
  if (watch.inflateMs.length > 0) log.add(`${at}.scrape_client_inflate_p50`, percentile(watch.inflateMs, 50), 'ms');
  logSlowScrapes(log, at, watch, 100);
  log.add(`${at}.staleness_p50`, percentile(watch.stalenessS, 50), 's');
  log.add(`${at}.staleness_p99`, percentile(watch.stalenessS, 99), 's');
  log.add(`${at}.staleness_max`, watch.stalenessS.length ? Math.max(...watch.stalenessS) : 0, 's');
  // The machine is shared: a load above the cores means others' work was in the figures too.
  log.add(`${at}.load_average_1m_at_end`, loadavg()[0]!, 'processes');
}

/**
 * Waits for the daemon's first two month-to-date snapshots (the refresh timestamp moves off the process start, then
 * once more): the first refresh reads the whole month to date and is reported on its own; the second is the first
 * incremental one, whose asOf no longer carries the whole-month read, so the window measures the daemon as it runs
 * from then on.
 */
async function awaitIncrementalRefresh(
  log: FigureLog,
  at: string,
  daemon: BuiltDaemon,
  startingMs: number,
  startRefreshS: number | undefined,
  client: ScrapeClient,
) {
  const seen = [startRefreshS];
  while (seen.length < 3) {
    const refreshedS = sample((await scrape(daemon, client)).text, REFRESHED);
    if (refreshedS !== undefined && refreshedS !== seen.at(-1)) {
      seen.push(refreshedS);
      if (seen.length === 2) {
        log.add(`${at}.first_refresh_seen_after_start`, (Date.now() - startingMs) / 1_000, 's');
        // The peak so far is the start and the first refresh's read of the whole month to date.
        log.add(`${at}.daemon_rss_peak_at_first_refresh`, memory(daemon.pid).peakBytes / 1_048_576, 'MiB');
      }
      continue;
    }
    if (Date.now() - startingMs > FIRST_REFRESH_LIMIT_MS) throw new Error('the daemon made no month-to-date snapshot');
    await sleep(SCRAPE_EVERY_MS);
  }
}

/** The window: credits clients asking, scrapes timed, CPU and memory of the daemon (and influxd) from /proc. */
async function measureWindow(
  log: FigureLog,
  at: string,
  daemon: BuiltDaemon,
  month: string,
  windowMs: number,
  influxdPid: number | undefined,
  options: Pick<DaemonBenchOptions, 'conditionalClients' | 'remoteNice' | 'scrapeClient'>,
) {
  // The window starts once the clients' process runs (its start takes about a second).
  const clients = await creditsClients(daemon, month, CREDITS_CLIENTS, options.conditionalClients, options.remoteNice);
  const startedMs = Date.now();
  const daemonCpuBefore = cpuSeconds(daemon.pid);
  const machineBefore = machineBusySeconds();
  const clientsCpuBefore = clients.pid === undefined ? 0 : cpuSeconds(clients.pid);
  const benchCpuBefore = process.cpuUsage();
  const influxdCpuBefore = influxdPid === undefined ? 0 : cpuSeconds(influxdPid);
  let answers: CreditsClientsResult;
  let watch: Watch;
  let othersCores: { machine: number; clients: number; bench: number };
  try {
    watch = await watchUntil(daemon, options.scrapeClient, startedMs + windowMs);
  } finally {
    // Read before the clients stop: the machine's two cores are shared by all of these, not the daemon's alone.
    const elapsedS = (Date.now() - startedMs) / 1_000;
    const bench = process.cpuUsage(benchCpuBefore);
    othersCores = {
      machine: (machineBusySeconds() - machineBefore) / elapsedS,
      clients: clients.pid === undefined ? 0 : (cpuSeconds(clients.pid) - clientsCpuBefore) / elapsedS,
      bench: (bench.user + bench.system) / 1e6 / elapsedS,
    };
    answers = await clients.stop();
  }
  const seconds = (Date.now() - startedMs) / 1_000;
  const daemonCores = (cpuSeconds(daemon.pid) - daemonCpuBefore) / seconds;
  logStretch(log, at, watch, seconds);
  const periods = watch.refreshedAtS.slice(1).map((s, i) => s - watch.refreshedAtS[i]!);
  log.add(`${at}.refreshes_seen`, watch.refreshedAtS.length, 'refreshes');
  if (periods.length > 0) {
    log.add(`${at}.refresh_period_p50`, percentile(periods, 50), 's');
    log.add(`${at}.refresh_period_max`, Math.max(...periods), 's');
    log.add(`${at}.refresh_duration_p50`, Math.max(0, percentile(periods, 50) - REFRESH_INTERVAL_S), 's');
    log.add(`${at}.refresh_duration_max`, Math.max(0, Math.max(...periods) - REFRESH_INTERVAL_S), 's');
  }
  log.add(`${at}.daemon_cpu`, daemonCores, 'cores');
  if (influxdPid !== undefined) {
    const influxdCores = (cpuSeconds(influxdPid) - influxdCpuBefore) / seconds;
    log.add(`${at}.influxd_cpu`, influxdCores, 'cores');
    log.add(`${at}.daemon_and_influxd_cpu`, daemonCores + influxdCores, 'cores');
  }
  log.add(`${at}.credits_clients_cpu`, othersCores.clients, 'cores');
  log.add(`${at}.bench_process_cpu`, othersCores.bench, 'cores');
  log.add(`${at}.machine_busy_cpu`, othersCores.machine, 'cores');
  log.add(`${at}.daemon_rss_peak`, memory(daemon.pid).peakBytes / 1_048_576, 'MiB');
  log.add(`${at}.daemon_rss_steady`, percentile(watch.rssBytes, 50) / 1_048_576, 'MiB');
  // The peak above is the kernel's high-water mark; these are the samples at the scrapes (every 2 s).
  log.add(`${at}.daemon_rss_sampled_p99`, percentile(watch.rssBytes, 99) / 1_048_576, 'MiB');
  log.add(`${at}.daemon_rss_sampled_max`, Math.max(...watch.rssBytes) / 1_048_576, 'MiB');
  // Where the RSS is: the main thread's V8 heap and its external memory; the rest is the worker, native and code.
  log.add(`${at}.main_thread_heap_steady`, percentile(watch.mainHeapBytes, 50) / 1_048_576, 'MiB');
  log.add(`${at}.main_thread_heap_max`, Math.max(...watch.mainHeapBytes) / 1_048_576, 'MiB');
  log.add(`${at}.worker_heap_steady`, percentile(watch.workerHeapBytes, 50) / 1_048_576, 'MiB');
  log.add(`${at}.worker_heap_max`, Math.max(...watch.workerHeapBytes) / 1_048_576, 'MiB');
  // The main thread's collections in the window (prom-client's nodejs_gc_duration_seconds): a pause holds every
  // probe and scrape due meanwhile.
  for (const kind of ['major', 'minor', 'incremental']) {
    const gc = (text: string, le?: string) =>
      le === undefined
        ? (sample(text, `nodejs_gc_duration_seconds_count{kind="${kind}"}`) ?? 0)
        : (samples(text, 'nodejs_gc_duration_seconds_bucket{').find(
            ({ line }) => line.includes(`le="${le}"`) && line.includes(`kind="${kind}"`),
          )?.value ?? 0);
    const between = (le?: string) => gc(watch.last, le) - gc(watch.first, le);
    log.add(`${at}.main_thread_gc_${kind}`, between(), 'collections');
    log.add(`${at}.main_thread_gc_${kind}_over_10ms`, between() - between('0.01'), 'collections');
    log.add(`${at}.main_thread_gc_${kind}_over_100ms`, between() - between('0.1'), 'collections');
  }
  log.add(`${at}.main_thread_external_steady`, percentile(watch.externalBytes, 50) / 1_048_576, 'MiB');
  for (const [status, n] of Object.entries(answers.statuses).sort())
    log.add(`${at}.credits_answers.${status}`, n, 'answers');
  log.add(`${at}.credits_200_p50`, percentile(answers.answeredMs, 50), 'ms');
  log.add(
    `${at}.credits_200_max`,
    answers.answeredMs.reduce((max, ms) => Math.max(max, ms), 0),
    'ms',
  );
}

/** influxd stopped for `outageMs`, started again; how the outbox grows and how long it takes to drain. */
async function outageDrill(
  log: FigureLog,
  at: string,
  daemon: BuiltDaemon,
  influxd: Influxd,
  servers: number,
  outageMs: number,
  client: ScrapeClient,
) {
  const stoppedMs = Date.now();
  await influxd.kill();
  const outage = await watchUntil(daemon, client, stoppedMs + outageMs);
  const ready = await fetch(`${daemon.url}/readyz`).then((r) => r.status);
  const backlogAtRestart = sample(outage.last, BACKLOG) ?? 0;
  await influxd.restart();
  const restartedMs = Date.now();
  const influxdPid = childPid('influxd');
  const influxdCpuBefore = influxdPid === undefined ? 0 : cpuSeconds(influxdPid);
  const daemonCpuBefore = cpuSeconds(daemon.pid);
  // Drained: no more waits than one round of probes (they keep arriving while the backlog goes out).
  const drain = await watchUntil(
    daemon,
    client,
    restartedMs + DRAIN_LIMIT_MS,
    (text) => (sample(text, BACKLOG) ?? 0) <= servers,
  );
  const drainedS = (Date.now() - restartedMs) / 1_000;
  const drained = (sample(drain.last, BACKLOG) ?? Infinity) <= servers;
  log.add(`${at}.outage`, outageMs / 1_000, 's');
  log.add(`${at}.outage_readyz_status`, ready, 'status');
  log.add(`${at}.outage_backlog_at_restart`, backlogAtRestart, 'observations');
  log.add(`${at}.drain${drained ? '' : '_not_finished'}`, drainedS, 's');
  log.add(`${at}.drain_rate`, backlogAtRestart / drainedS, 'lines/s');
  log.add(`${at}.drain_daemon_cpu`, (cpuSeconds(daemon.pid) - daemonCpuBefore) / drainedS, 'cores');
  if (influxdPid !== undefined)
    log.add(`${at}.drain_influxd_cpu`, (cpuSeconds(influxdPid) - influxdCpuBefore) / drainedS, 'cores');
  logStretch(log, `${at}.during_outage`, outage, outageMs / 1_000);
  logStretch(log, `${at}.during_drain`, drain, drainedS);
  log.add(`${at}.daemon_rss_peak_after_drill`, memory(daemon.pid).peakBytes / 1_048_576, 'MiB');
}

/** The month close over the pre-filled days in its own process, and the full month it implies. */
async function closeMonth(
  log: FigureLog,
  at: string,
  configPath: string,
  month: string,
  flags: string[],
  share: number,
) {
  const child = forkChild<never, CloseResult>('close-child', [], flags);
  child.send({ configPath, month } satisfies CloseTask);
  const r = await child.result;
  log.add(`${at}.close_wall`, r.wallMs / 1_000, 's');
  log.add(`${at}.close_cpu_of_close_process`, r.cpuMs / 1_000, 's');
  log.add(`${at}.close_max_rss`, r.maxRssBytes / 1_048_576, 'MiB');
  log.add(`${at}.close_servers_with_credit`, r.serversWithCredit, 'servers');
  log.add(`${at}.close_full_month_implied`, r.wallMs / 1_000 / share, 's');
  if (r.influxReads) {
    log.add(`${at}.close_aggregate_query_time`, r.influxReads.aggregateMs / 1_000, 's');
    log.add(`${at}.close_raw_rows`, r.influxReads.rawRows, 'rows');
  }
}

/** One store: pre-fill, close, daemon window, and (InfluxDB) the outage drill. */
async function benchStore(
  kind: 'influx' | 'embedded',
  options: DaemonBenchOptions,
  targetUrl: (i: number) => string,
  log: FigureLog,
  stoppers: Stoppers,
) {
  let influxd: Influxd | undefined;
  let influxdPid: number | undefined;
  let stopInfluxd = async () => {};
  if (kind === 'influx') {
    const started = await startInfluxd('bench');
    influxd = started;
    influxdPid = childPid('influxd');
    stopInfluxd = stoppers.add(() => started.stop(), influxdPid);
  }
  try {
    await benchOn(kind, influxd, influxdPid, options, targetUrl, log, stoppers);
  } finally {
    await stopInfluxd();
  }
}

/** Pre-fill, close, daemon window and drill on one store (influxd already running for InfluxDB). */
async function benchOn(
  kind: 'influx' | 'embedded',
  influxd: Influxd | undefined,
  influxdPid: number | undefined,
  options: DaemonBenchOptions,
  targetUrl: (i: number) => string,
  log: FigureLog,
  stoppers: Stoppers,
) {
  const at = `daemon.${kind}`;
  const storage =
    influxd === undefined
      ? { kind: 'embedded', path: join(options.dir, 'daemon-embedded.db') }
      : {
          kind: 'influxdb',
          path: join(options.dir, 'daemon-outbox.db'),
          influxdb: { url: influxd.url, apiVersion: 1, database: influxd.database, measurement: MEASUREMENT },
        };
  const configPath = writeDaemonConfig(
    options.dir,
    `daemon-${kind}`,
    options.servers,
    targetUrl,
    storage,
    options.timeZone,
  );

  const nowMs = Date.now();
  const month = monthContaining(nowMs, options.timeZone);
  const window = monthWindow(month, options.timeZone);
  const fromMs = Math.max(window.fromMs, nowMs - options.days * DAY_MS);
  const progress = (done: number, total: number) => {
    if (done % 6 === 0 || done === total) console.error(`# ${at}: pre-filled ${done}/${total} hours`);
  };
  const prefilled = influxd
    ? await prefillInflux(
        { url: influxd.url, database: influxd.database, measurement: MEASUREMENT, gapFloorMs: STALE_AFTER_MS },
        options.servers,
        fromMs,
        nowMs,
        progress,
      )
    : await (async () => {
        const store = await createObservationStore(loadConfig(configPath), createLogger('bench-daemon'));
        try {
          return await prefillStore(store, options.servers, fromMs, nowMs, progress);
        } finally {
          await store.close();
        }
      })();
  if (influxd) {
    // A heartbeat every HEARTBEAT_EVERY_MS (fleet.ts's daemon is agent "bench", one shard), each server's check every
    // 10 s: the lines written between two beats.
    const checksPerBeat = (options.servers * HEARTBEAT_EVERY_MS) / 10_000;
    const beats = await prefillHeartbeats(
      influxd,
      { agent: 'bench', location: 'bench', shard: '1/1', checksPerBeat },
      fromMs,
      nowMs,
    );
    log.add(`${at}.prefill_heartbeats`, beats, 'heartbeats');
  }
  log.add(`${at}.prefill_days`, (nowMs - fromMs) / DAY_MS, 'days');
  log.add(`${at}.prefill_observations`, prefilled.observations, 'observations');
  log.add(`${at}.prefill_rate`, prefilled.observations / (prefilled.ms / 1_000), 'lines/s');

  const share = (nowMs - fromMs) / (window.toMs - window.fromMs);
  await closeMonth(log, at, configPath, month, options.nodeFlags(`daemon-close-${kind}`), share);

  const logPath = fileURLToPath(new URL(`./results/daemon-${kind}.log`, import.meta.url));
  // Built again just before it starts: dist/ is shared with the other work in this tree, and the daemon must be
  // the code that pre-filled the store (an embedded file's schema version must match).
  buildDaemon();
  // --cpu-prof: a profile per thread (the main thread, the compute worker), named by Node (CPU.<date>.<pid>.<tid>).
  const profileFlags = options.nodeFlags(`daemon-${kind}`).filter((flag) => !flag.startsWith('--cpu-prof-name'));
  const startingMs = Date.now();
  const daemon = await startBuiltDaemon(configPath, logPath, profileFlags);
  const stopDaemon = stoppers.add(() => daemon.stop(), daemon.pid);
  let stoppingMs = 0;
  try {
    // The refresh timestamp as the daemon starts (its start time until the first snapshot).
    const startRefreshS = sample((await scrape(daemon, options.scrapeClient)).text, REFRESHED);
    await sleep(WARMUP_MS);
    await awaitIncrementalRefresh(log, at, daemon, startingMs, startRefreshS, options.scrapeClient);
    await measureWindow(log, at, daemon, month, options.windowMs, influxdPid, options);
    if (influxd && options.outageMs > 0)
      await outageDrill(log, at, daemon, influxd, options.servers, options.outageMs, options.scrapeClient);
  } finally {
    stoppingMs = performance.now();
    await stopDaemon();
  }
  log.add(`${at}.daemon_stop_time`, (performance.now() - stoppingMs) / 1_000, 's');
  const exitCode = await daemon.stop();
  log.add(`${at}.daemon_exit_code`, exitCode ?? -1, 'code');
  console.log(`# ${at}: the daemon's log is in ${logPath}`);
  log.add(`${at}.daemon_log_warnings`, daemon.problems.count, 'lines');
  for (const message of daemon.problems.first) console.log(`# ${at} log: ${message}`);
}

/** Runs the whole-daemon benchmark on the chosen stores and logs its figures. */
export async function benchDaemon(options: DaemonBenchOptions, log: FigureLog): Promise<void> {
  console.error('# daemon: npm run build');
  buildDaemon();
  const stoppers = new Stoppers();
  // Ctrl-C or a kill of the bench: stop what it started, then exit; at exit, kill whatever is left.
  const onSignal = (signal: NodeJS.Signals) => {
    console.error(`# ${signal}: stopping the daemon, influxd and the targets`);
    // run.ts's own cleanup does not run after process.exit: its temporary folder goes here.
    void stoppers.stopAll().finally(() => {
      rmSync(options.dir, { recursive: true, force: true });
      process.exit(130);
    });
  };
  const killLeft = () => stoppers.killLeft();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  process.once('exit', killLeft);
  try {
    const targets = forkChild<TargetReady, { requests: number }>(
      'target-server',
      ['16', 'keep-alive'],
      [],
      options.remoteNice,
    );
    stoppers.add(async () => {
      targets.send('count');
      const served = await Promise.race([targets.result, sleep(2_000)]).catch(() => undefined);
      if (served) log.add('daemon.targets_requests_served', served.requests, 'requests');
      await targets.stop();
    }, targets.process.pid);
    const { ports } = await targets.ready;
    const targetUrl = (i: number) => `http://127.0.0.1:${ports[i % ports.length]}/t/${i}`;
    log.add('daemon.servers', options.servers, 'servers');
    for (const kind of ['influx', 'embedded'] as const)
      if (options.stores.has(kind)) await benchStore(kind, options, targetUrl, log, stoppers);
  } finally {
    await stoppers.stopAll();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    process.off('exit', killLeft);
  }
}
