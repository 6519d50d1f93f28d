// The clients the daemon bench can scrape /metrics with, each timed to the exposition's last byte (each asks for
// gzip, as Prometheus does, since 2026-12-01's eleventh session; curl and fetch inflate as bytes arrive, node:http
// after its clock stops). They differ in
// what the client itself costs: on an idle machine, 10,000 servers' 19 MB took p50 8 ms with curl, 15 ms with
// node:http and 28-44 ms with fetch (2026-11-30, test/bench/README.md). Prometheus reads with Go's net/http, which
// like curl copies the bytes into a buffer and does no more until it parses them, over a connection it keeps open
// between scrapes (node:http here does too; curl, a process per scrape, cannot).
import { execFile } from 'node:child_process';
import { readFile, rm } from 'node:fs/promises';
import { Agent, get } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';

export const SCRAPE_CLIENTS = ['http', 'curl', 'fetch'] as const;
export type ScrapeClient = (typeof SCRAPE_CLIENTS)[number];

/** One scrape: the exposition's bytes and the milliseconds to its last byte. */
export interface TimedScrape {
  bytes: Buffer;
  ms: number;
  /** Milliseconds to the answer's headers: the daemon's own delay before it sent anything. */
  firstByteMs: number;
  /** For an answer sent gzip-compressed (node:http): its bytes as sent, and the client's time to inflate them. */
  sentBytes?: number;
  inflateMs?: number;
}

/**
 * One connection kept open from scrape to scrape, as Prometheus keeps its connection to each target (keep-alive on,
 * idle connections kept 5 minutes: prometheus/common's HTTP client defaults). A new connection for every scrape, as
 * this client made until 2026-12-01, costs the daemon's thread a turn to accept it, and the body starts with a small
 * receive window on loopback.
 */
const scrapeAgent = new Agent({ keepAlive: true, maxSockets: 1 });

/**
 * GET `url` with node:http: chunks kept as they come and joined after the clock stops. It asks for gzip, as
 * Prometheus does (`Accept-Encoding: gzip`, its scrape default). The clock stops at the last byte received, as it
 * did for the text before; the bytes are inflated after, timed apart (`inflateMs`): that is the client's CPU, which
 * Prometheus spends in its own process (node's streaming gunzip, inflating as bytes arrive, took 60 ms a scrape on
 * its thread pool's round trips).
 */
function scrapeWithHttp(url: string): Promise<TimedScrape> {
  return new Promise((resolve, reject) => {
    const startedMs = performance.now();
    const headers = { 'accept-encoding': 'gzip' };
    const request = get(url, { agent: scrapeAgent, timeout: 60_000, headers }, (response) => {
      const firstByteMs = performance.now() - startedMs;
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => {
        const ms = performance.now() - startedMs;
        if (response.statusCode !== 200) return reject(new Error(`${url} answered ${response.statusCode}`));
        const body = Buffer.concat(chunks);
        if (response.headers['content-encoding'] !== 'gzip') return resolve({ bytes: body, ms, firstByteMs });
        const inflatingMs = performance.now();
        try {
          const bytes = gunzipSync(body);
          resolve({ bytes, ms, firstByteMs, sentBytes: body.length, inflateMs: performance.now() - inflatingMs });
        } catch (error) {
          reject(error);
        }
      });
      response.on('error', reject);
    });
    request.on('timeout', () => request.destroy(new Error(`${url} did not answer within 60 s`)));
    request.on('error', reject);
  });
}

/**
 * GET `url` with curl, timed by curl itself (`time_total`: connect to last byte, without curl's start), the body
 * written to a file in shared memory and read after.
 */
async function scrapeWithCurl(url: string): Promise<TimedScrape> {
  const dir = process.platform === 'linux' ? '/dev/shm' : tmpdir();
  const path = join(dir, `uptime-credits-bench-scrape-${process.pid}`);
  try {
    const [firstByteS, seconds] = await new Promise<[number, number]>((resolve, reject) =>
      execFile(
        'curl',
        [
          '--silent',
          '--show-error',
          '--fail',
          '--max-time',
          '60',
          '--output',
          path,
          '--compressed', // Accept-Encoding with gzip, as Prometheus asks
          '--write-out',
          '%{time_starttransfer} %{time_total}',
          url,
        ],
        (error, stdout) => (error ? reject(error) : resolve(stdout.trim().split(' ').map(Number) as [number, number])),
      ),
    );
    return { bytes: await readFile(path), ms: seconds * 1_000, firstByteMs: firstByteS * 1_000 };
  } finally {
    await rm(path, { force: true });
  }
}

/**
 * GET `url` with fetch (undici), read whole as an ArrayBuffer: the daemon bench's client until 2026-11-30. fetch asks
 * for gzip by itself and inflates.
 */
async function scrapeWithFetch(url: string): Promise<TimedScrape> {
  const startedMs = performance.now();
  const response = await fetch(url, { signal: AbortSignal.timeout(60_000) });
  const firstByteMs = performance.now() - startedMs;
  const bytes = Buffer.from(await response.arrayBuffer());
  const ms = performance.now() - startedMs;
  if (response.status !== 200) throw new Error(`${url} answered ${response.status}`);
  return { bytes, ms, firstByteMs };
}

/** One timed GET of `url` with the given client. */
export function scrapeWith(client: ScrapeClient, url: string): Promise<TimedScrape> {
  if (client === 'curl') return scrapeWithCurl(url);
  if (client === 'fetch') return scrapeWithFetch(url);
  return scrapeWithHttp(url);
}
