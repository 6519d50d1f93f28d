// Scrape: /metrics over HTTP on loopback, served by the daemon's own fastify app and metrics in a child process
// (scrape-server.ts) carrying the series of N servers, while probe outcomes keep arriving at the daemon's rate.
// This process is the scraper, standing in for Prometheus: sequential GETs, each read to its end.
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { get } from 'node:http';
import { join } from 'node:path';
import { forkChild } from './children.js';
import { percentile, type FigureLog } from './figures.js';
import { writeFleetConfig } from './fleet.js';
import { SCRAPE_CLIENTS, scrapeWith, type ScrapeClient } from './scrape-clients.js';
import type { ScrapeServerReady, ScrapeServerResult, ScrapeServerTask } from './scrape-server.js';
import { freePort } from '../support/ports.js';

const WARMUP_SCRAPES = 3;
const TIMED_SCRAPES = 100;
/** Scrapes by each of the other clients (curl, fetch), after the timed ones by node:http. */
const OTHER_CLIENT_SCRAPES = 40;
/** The scrape interval the client keeps between scrapes (Prometheus scrapes every 15 s; shorter keeps it quick). */
const PAUSE_MS = 250;
/** Checks are probed every 10 s in the daemon. */
const PROBE_INTERVAL_S = 10;

export interface ScrapeBenchOptions {
  dir: string;
  servers: number;
}

/** Real Prometheus as the second scraper: how long its own scrapes take (scrape_duration_seconds). */
const PROMETHEUS = 'prometheus';
const PROMETHEUS_SCRAPE_INTERVAL_S = 2;
const PROMETHEUS_WINDOW_S = 60;

/** GET on loopback, the body as JSON. */
function getJson<T>(url: string): Promise<T> {
  return new Promise((resolve, reject) => {
    get(url, (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (text += chunk));
      response.on('end', () => {
        try {
          resolve(JSON.parse(text) as T);
        } catch (error) {
          reject(new Error(`${url} answered ${response.statusCode}: ${text.slice(0, 200)}`, { cause: error }));
        }
      });
    }).on('error', reject);
  });
}

/** Lets Debian's prometheus scrape /metrics for a minute; returns its scrape durations (ms) and sample counts. */
async function scrapeWithPrometheus(
  dir: string,
  metricsPort: number,
): Promise<{ durationsMs: number[]; samples: number; upRatio: number }> {
  const home = join(dir, 'prometheus');
  mkdirSync(home, { recursive: true });
  const configPath = join(home, 'prometheus.yml');
  writeFileSync(
    configPath,
    `global:\n  scrape_interval: ${PROMETHEUS_SCRAPE_INTERVAL_S}s\n  scrape_timeout: ${PROMETHEUS_SCRAPE_INTERVAL_S}s\nscrape_configs:\n  - job_name: uptime-credits\n    static_configs:\n      - targets: ['127.0.0.1:${metricsPort}']\n`,
  );
  const port = await freePort();
  const prometheus = spawn(
    PROMETHEUS,
    [
      `--config.file=${configPath}`,
      `--storage.tsdb.path=${join(home, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
    ],
    {
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  );
  const exited = new Promise<never>((_, reject) =>
    prometheus.once('exit', (code) => reject(new Error(`prometheus exited (code ${code})`))),
  );
  exited.catch(() => undefined);
  try {
    await Promise.race([new Promise((resolve) => setTimeout(resolve, PROMETHEUS_WINDOW_S * 1_000)), exited]);
    type Matrix = { status: string; data: { result: { values: [number, string][] }[] } };
    const range = async (expr: string) => {
      const answer = await getJson<Matrix>(
        `http://127.0.0.1:${port}/api/v1/query?query=${encodeURIComponent(`${expr}{job="uptime-credits"}[${PROMETHEUS_WINDOW_S}s]`)}`,
      );
      return answer.data.result[0]?.values.map(([, value]) => Number(value)) ?? [];
    };
    const durations = await range('scrape_duration_seconds');
    const samples = await range('scrape_samples_scraped');
    const up = await range('up');
    if (durations.length === 0) throw new Error('prometheus recorded no scrape of /metrics');
    return {
      durationsMs: durations.map((s) => s * 1_000),
      samples: Math.max(...samples),
      upRatio: up.reduce((a, b) => a + b, 0) / up.length,
    };
  } finally {
    prometheus.kill('SIGTERM');
    await new Promise((resolve) =>
      prometheus.exitCode !== null ? resolve(undefined) : prometheus.once('exit', resolve),
    );
  }
}

/** Serves the metrics of N servers in a child, times scrapes of /metrics from here and logs the figures. */
export async function benchScrape(options: ScrapeBenchOptions, log: FigureLog): Promise<void> {
  const configPath = writeFleetConfig({
    dir: options.dir,
    servers: options.servers,
    targetUrl: (i) => `http://127.0.0.1:9/t/${i}`,
    storage: { kind: 'embedded', path: `${options.dir}/scrape.db` },
    fileName: 'scrape.yaml',
  });
  const child = forkChild<ScrapeServerReady, ScrapeServerResult>(
    'scrape-server',
    [],
    process.env.SCRAPE_TRACE_GC ? ['--trace-gc'] : [],
  );
  try {
    child.send({ configPath, outcomesPerSecond: options.servers / PROBE_INTERVAL_S } satisfies ScrapeServerTask);
    const { port } = await child.ready;
    const latencies: number[] = [];
    const inflateMs: number[] = [];
    let bytes = 0;
    let sentBytes = 0;
    let series = 0;
    for (let n = 0; n < WARMUP_SCRAPES + TIMED_SCRAPES; n++) {
      const last = n === WARMUP_SCRAPES + TIMED_SCRAPES - 1;
      const scrape = await scrapeWith('http', `http://127.0.0.1:${port}/metrics`);
      if (n >= WARMUP_SCRAPES) {
        latencies.push(scrape.ms);
        if (scrape.inflateMs !== undefined) inflateMs.push(scrape.inflateMs);
      }
      if (last) {
        bytes = scrape.bytes.length;
        sentBytes = scrape.sentBytes ?? bytes;
        series = scrape.bytes
          .toString('utf8')
          .split('\n')
          .filter((line) => line.length > 0 && !line.startsWith('#')).length;
      }
      await new Promise((resolve) => setTimeout(resolve, PAUSE_MS));
    }
    child.send('count');
    const served = await child.result;
    // The same scrapes by the other clients the daemon bench can use: what the scraping side costs (scrape-clients.ts).
    const byOtherClients = new Map<ScrapeClient, number[]>();
    for (const client of SCRAPE_CLIENTS.filter((c) => c !== 'http')) {
      const timings: number[] = [];
      for (let n = 0; n < WARMUP_SCRAPES + OTHER_CLIENT_SCRAPES; n++) {
        const { ms } = await scrapeWith(client, `http://127.0.0.1:${port}/metrics`);
        if (n >= WARMUP_SCRAPES) timings.push(ms);
        await new Promise((resolve) => setTimeout(resolve, PAUSE_MS));
      }
      byOtherClients.set(client, timings);
    }
    const byPrometheus = await scrapeWithPrometheus(options.dir, port);
    const render = served.renderMs.slice(WARMUP_SCRAPES);
    log.add('scrape.servers', options.servers, 'servers');
    log.add('scrape.series', series, 'series');
    log.add('scrape.bytes', bytes, 'bytes');
    log.add('scrape.bytes_sent', sentBytes, 'bytes');
    log.add('scrape.p50', percentile(latencies, 50), 'ms');
    log.add('scrape.p99', percentile(latencies, 99), 'ms');
    log.add('scrape.max', Math.max(...latencies), 'ms');
    if (inflateMs.length > 0) log.add('scrape.client_inflate_p50', percentile(inflateMs, 50), 'ms');
    for (const [client, timings] of byOtherClients) {
      log.add(`scrape.by_${client}.p50`, percentile(timings, 50), 'ms');
      log.add(`scrape.by_${client}.p99`, percentile(timings, 99), 'ms');
    }
    log.add('scrape.prometheus.scrapes', byPrometheus.durationsMs.length, 'scrapes');
    log.add('scrape.prometheus.up_ratio', byPrometheus.upRatio, 'ratio');
    log.add('scrape.prometheus.samples_scraped', byPrometheus.samples, 'samples');
    log.add('scrape.prometheus.duration_p50', percentile(byPrometheus.durationsMs, 50), 'ms');
    log.add('scrape.prometheus.duration_max', Math.max(...byPrometheus.durationsMs), 'ms');
    log.add('scrape.render_p50', percentile(render, 50), 'ms');
    log.add('scrape.render_p99', percentile(render, 99), 'ms');
    log.add('scrape.server_cpu_per_scrape', served.cpuMs / served.scrapes, 'ms');
    log.add('scrape.outcomes_fed_while_scraping', served.outcomesFed, 'outcomes');
  } finally {
    await child.stop();
  }
}
