// `npm run bench [-- part...] [--options]`: sets everything up on loopback, measures, prints one
// `name value unit` line per figure and writes them to test/bench/results/latest.json.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { assertTimeZone } from '../../src/sla/month.js';
import { forkChild } from './children.js';
import { benchClose } from './close.js';
import { benchCloseQueries } from './close-queries.js';
import { benchDaemon } from './daemon.js';
import { FigureLog } from './figures.js';
import { benchIngest } from './ingest.js';
import { benchPeer } from './peer.js';
import { benchProbing, type Targets } from './probe.js';
import { benchScrape } from './scrape.js';
import { SCRAPE_CLIENTS, type ScrapeClient } from './scrape-clients.js';
import type { TargetReady } from './target-server.js';

const PARTS = ['probe', 'peer', 'close', 'close-queries', 'scrape', 'daemon', 'ingest'] as const;
type Part = (typeof PARTS)[number];
/** Run when no part is named; the whole daemon (about an hour at full size) and the close's query shapes only when named. */
const DEFAULT_PARTS = PARTS.filter((p) => p !== 'daemon' && p !== 'close-queries');

const USAGE = `usage: npm run bench -- [probe] [peer] [close] [close-queries] [scrape] [daemon] [ingest] [options]
  --targets 1000,5000,10000   probe/peer sizes (HTTP checks at a 10 s interval)
  --warmup 12                 seconds before each probe/peer window
  --window 30                 seconds measured per probe/peer size
  --close-servers 100         servers in the month-close data set (--full: 1000)
  --full                      the month close at full size: 1000 servers x 31 days x 30 s
  --close-stores influx,embedded   which stores the month close runs on
  --close-queries-servers 10000     close-queries: servers whose hours influxd aggregates in several query shapes
  --close-queries-hours 6           close-queries: hours of those servers at 30 s
  --scrape-servers 10000      servers whose series /metrics carries
  --daemon-servers 10000      daemon: servers (one HTTP check each, 10 s) of the whole daemon
  --daemon-days 2             daemon: days of the current month pre-filled at 30 s (fractions allowed)
  --daemon-minutes 5          daemon: the measured window (credits clients, scrapes, CPU, RSS)
  --daemon-outage-minutes 10  daemon: influxd stopped this long, then the drain is timed (0: no drill)
  --daemon-stores influx,embedded   which stores the whole daemon runs on
  --daemon-conditional-clients      daemon: the credits clients send the last answer's ETag (If-None-Match), as a
                                    polling client would; by default they ask for the whole document every time
  --daemon-remote-nice 0      daemon: the nice value of the stand-ins for parties on other machines (the targets,
                                    the credits clients), so that they take only the CPU the daemon leaves
  --daemon-scrape-client http  daemon: what times the scrapes of /metrics: http (node:http), curl (its own
                                    time_total), fetch (the client of the figures before 2026-11-30's fifth session)
  --daemon-time-zone Europe/Warsaw  daemon: the fleet's time zone, which sets the month pre-filled and measured; in a
                                    month's first days, a zone where the month is older keeps a 2-day pre-fill
  --ingest-lines 1000000      ingest: lines written directly and through the outbox, side by side
  --ingest-rounds 3           ingest: rounds of that comparison (the medians are the figures)
  --ingest-backlog 3600000    ingest: backlog lines drained while probing goes on (10,000 checks at 10 s, 1 h)
  --cpu-prof                  write V8 CPU profiles of the prober / close / daemon into test/bench/results/`;

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    targets: { type: 'string', default: '1000,5000,10000' },
    warmup: { type: 'string', default: '12' },
    window: { type: 'string', default: '30' },
    'close-servers': { type: 'string' },
    full: { type: 'boolean', default: false },
    'close-stores': { type: 'string', default: 'influx,embedded' },
    'close-queries-servers': { type: 'string', default: '10000' },
    'close-queries-hours': { type: 'string', default: '6' },
    'scrape-servers': { type: 'string', default: '10000' },
    'daemon-servers': { type: 'string', default: '10000' },
    'daemon-days': { type: 'string', default: '2' },
    'daemon-minutes': { type: 'string', default: '5' },
    'daemon-outage-minutes': { type: 'string', default: '10' },
    'daemon-stores': { type: 'string', default: 'influx,embedded' },
    'daemon-conditional-clients': { type: 'boolean', default: false },
    'daemon-remote-nice': { type: 'string', default: '0' },
    'daemon-scrape-client': { type: 'string', default: 'http' },
    'daemon-time-zone': { type: 'string', default: 'Europe/Warsaw' },
    'ingest-lines': { type: 'string', default: '1000000' },
    'ingest-rounds': { type: 'string', default: '3' },
    'ingest-backlog': { type: 'string', default: '3600000' },
    'cpu-prof': { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
const unknown = positionals.filter((p) => !(PARTS as readonly string[]).includes(p));
if (unknown.length > 0) {
  console.error(`unknown part ${unknown.join(', ')}\n${USAGE}`);
  process.exit(2);
}
const closeStores = new Set(values['close-stores'].split(',').filter(Boolean));
if ([...closeStores].some((s) => s !== 'influx' && s !== 'embedded') || closeStores.size === 0) {
  console.error(`--close-stores: "${values['close-stores']}" must name influx, embedded or both\n${USAGE}`);
  process.exit(2);
}
const daemonStores = new Set(values['daemon-stores'].split(',').filter(Boolean));
if ([...daemonStores].some((s) => s !== 'influx' && s !== 'embedded') || daemonStores.size === 0) {
  console.error(`--daemon-stores: "${values['daemon-stores']}" must name influx, embedded or both\n${USAGE}`);
  process.exit(2);
}
const parts = new Set<Part>(positionals.length > 0 ? (positionals as Part[]) : DEFAULT_PARTS);
const count = (text: string, option: string) => {
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 1) {
    console.error(`--${option}: "${text}" is not a positive whole number\n${USAGE}`);
    process.exit(2);
  }
  return n;
};
const sizes = values.targets.split(',').map((t) => count(t, 'targets'));
const warmupMs = count(values.warmup, 'warmup') * 1_000;
const windowMs = count(values.window, 'window') * 1_000;
const closeServers = count(values['close-servers'] ?? (values.full ? '1000' : '100'), 'close-servers');
const scrapeServers = count(values['scrape-servers'], 'scrape-servers');
/** A number of at least `least` (fractions allowed: short development runs). */
const amount = (text: string, option: string, least: number) => {
  const n = Number(text);
  if (!Number.isFinite(n) || n < least) {
    console.error(`--${option}: "${text}" is not a number of at least ${least}\n${USAGE}`);
    process.exit(2);
  }
  return n;
};
const daemonServers = count(values['daemon-servers'], 'daemon-servers');
const daemonDays = amount(values['daemon-days'], 'daemon-days', 0.01);
const daemonMinutes = amount(values['daemon-minutes'], 'daemon-minutes', 0.1);
const daemonOutageMinutes = amount(values['daemon-outage-minutes'], 'daemon-outage-minutes', 0);
const daemonRemoteNice = amount(values['daemon-remote-nice'], 'daemon-remote-nice', 0);
const daemonScrapeClient = values['daemon-scrape-client'] as ScrapeClient;
const daemonTimeZone = values['daemon-time-zone'];
try {
  assertTimeZone(daemonTimeZone); // as the daemon's configuration checks it
} catch (error) {
  console.error(`--daemon-time-zone: ${(error as Error).message}\n${USAGE}`);
  process.exit(2);
}
if (!SCRAPE_CLIENTS.includes(daemonScrapeClient)) {
  console.error(
    `--daemon-scrape-client: "${daemonScrapeClient}" must be one of ${SCRAPE_CLIENTS.join(', ')}\n${USAGE}`,
  );
  process.exit(2);
}
const ingest = {
  lines: count(values['ingest-lines'], 'ingest-lines'),
  rounds: count(values['ingest-rounds'], 'ingest-rounds'),
  backlogLines: count(values['ingest-backlog'], 'ingest-backlog'),
};
const closeQueries = {
  servers: count(values['close-queries-servers'], 'close-queries-servers'),
  hours: count(values['close-queries-hours'], 'close-queries-hours'),
};
const resultsDir = fileURLToPath(new URL('./results/', import.meta.url));
mkdirSync(resultsDir, { recursive: true });
const profileFlags = (name: string) =>
  values['cpu-prof'] ? ['--cpu-prof', `--cpu-prof-dir=${resultsDir}`, `--cpu-prof-name=${name}.cpuprofile`] : [];

const log = new FigureLog();
const machine = {
  nproc: cpus().length,
  cpu: cpus()[0]?.model ?? 'unknown',
  memoryBytes: totalmem(),
  node: process.version,
  platform: `${process.platform} ${process.arch}`,
};
console.log(
  `# machine: ${machine.nproc} cores (${machine.cpu}), ${(machine.memoryBytes / 2 ** 30).toFixed(1)} GiB, node ${machine.node}`,
);
const dir = mkdtempSync(join(tmpdir(), 'uc-bench-'));
const startedAt = new Date();
try {
  if (parts.has('probe') || parts.has('peer')) {
    const startTargets = async (mode: 'keep-alive' | 'close') => {
      const server = forkChild<TargetReady, { requests: number }>('target-server', ['16', mode]);
      const { ports } = await server.ready;
      return {
        server,
        targets: { ports, url: (i: number) => `http://127.0.0.1:${ports[i % ports.length]}/t/${i}` } satisfies Targets,
      };
    };
    const { server, targets } = await startTargets('keep-alive');
    let ours = new Map<number, number>();
    let oursNewConnections = new Map<number, number>();
    try {
      if (parts.has('probe'))
        ours = await benchProbing(
          { dir, targets, sizes, warmupMs, windowMs, label: 'probe', nodeFlags: profileFlags('prober') },
          log,
        );
      if (parts.has('peer')) await benchPeer({ dir, targets, sizes, warmupMs, windowMs, ours }, log);
      server.send('count');
      log.add('targets.requests_served', (await server.result).requests, 'requests');
    } finally {
      await server.stop();
    }
    if (parts.has('probe')) {
      // Ours again at the largest size against targets that close every connection, as the peer's probes do.
      const closing = await startTargets('close');
      try {
        const largest = [Math.max(...sizes)];
        oursNewConnections = await benchProbing(
          {
            dir,
            targets: closing.targets,
            sizes: largest,
            warmupMs,
            windowMs,
            label: 'probe_new_connections',
            nodeFlags: [],
          },
          log,
        );
      } finally {
        await closing.server.stop();
      }
    }
    const peerCpu = log.figures.find((f) => f.name === `peer.n${Math.max(...sizes)}.cpu_per_1000_probes`);
    for (const [n, perThousand] of oursNewConnections) {
      if (peerCpu) log.add(`peer.n${n}.ours_new_connections_to_peer_cpu_ratio`, perThousand / peerCpu.value, 'ratio');
    }
  }
  if (parts.has('close'))
    await benchClose({ dir, servers: closeServers, stores: closeStores, nodeFlags: profileFlags }, log);
  if (parts.has('close-queries')) await benchCloseQueries(closeQueries, log);
  if (parts.has('scrape')) await benchScrape({ dir, servers: scrapeServers }, log);
  if (parts.has('daemon'))
    await benchDaemon(
      {
        dir,
        servers: daemonServers,
        days: daemonDays,
        windowMs: daemonMinutes * 60_000,
        outageMs: daemonOutageMinutes * 60_000,
        stores: daemonStores,
        conditionalClients: values['daemon-conditional-clients'],
        remoteNice: daemonRemoteNice,
        timeZone: daemonTimeZone,
        scrapeClient: daemonScrapeClient,
        nodeFlags: profileFlags,
      },
      log,
    );
  if (parts.has('ingest')) await benchIngest({ dir, checks: 10_000, ...ingest }, log);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
const path = join(resultsDir, 'latest.json');
writeFileSync(
  path,
  `${JSON.stringify({ startedAt: startedAt.toISOString(), finishedAt: new Date().toISOString(), machine, parts: [...parts], options: { sizes, warmupMs, windowMs, closeServers, closeStores: [...closeStores], scrapeServers, daemonServers, daemonDays, daemonMinutes, daemonOutageMinutes, daemonStores: [...daemonStores], daemonConditionalClients: values['daemon-conditional-clients'], daemonRemoteNice, daemonScrapeClient, ingest, closeQueries }, figures: log.figures }, null, 2)}\n`,
);
console.log(`# figures written to ${path}`);
