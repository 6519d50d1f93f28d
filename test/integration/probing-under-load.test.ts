// Probing never waits for a computation: the real daemon probes loopback targets that answer in about 1 ms while
// four clients ask /api/v1/credits for a month with data, over and over, and another connection writes between the
// requests so every answer is computed anew. No probe may fail, time out or be left out as the process's own stall.
//
// Proof that it can fail: UC_TEST_COMPUTE_IN=thread runs the same test with the computations on the daemon's own
// event loop (startDaemon's computeIn): on 2026-11-29 that left 65 probes out as process-stalled (timeouts during
// the computations' stalls) and recorded 12 probes in the load's 8 s, against 0 and 164 with the worker.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { createLogger } from '../../src/logging.js';
import { startDaemon, type Daemon } from '../../src/main.js';
import { monthContaining, monthWindow, previousMonth } from '../../src/sla/month.js';
import { EmbeddedObservationStore } from '../../src/store/embedded/embedded-store.js';
import { observationsOf } from '../support/observations.js';
import { startHttpTarget, type Target } from '../support/targets.js';

const COMPUTE_IN = process.env.UC_TEST_COMPUTE_IN === 'thread' ? 'thread' : 'worker';
/** Servers with a whole month of data at 30 s, a failed probe in every hour: every hour is read row by row. */
const HEAVY_SERVERS = 8;
const SERVERS = 12;
const CLIENTS = ['c1', 'c2', 'c3', 'c4'];
const SECRET = (client: string) => `secret-of-${client}-0123456789abcdef`;
const ENV = Object.fromEntries(CLIENTS.map((c) => [`UC_${c.toUpperCase()}_TOKEN`, SECRET(c)]));
const LOAD_MS = 8_000;
const HOUR_MS = 3_600_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe(`probing while month queries compute (${COMPUTE_IN})`, () => {
  let dir: string;
  let target: Target;
  let daemon: Daemon;
  let writer: EmbeddedObservationStore;
  const month = previousMonth(monthContaining(Date.now(), 'UTC'));
  const window = monthWindow(month, 'UTC');

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'uc-probing-load-'));
    target = await startHttpTarget();
    const storePath = join(dir, 'store.db');
    const servers = Array.from(
      { length: SERVERS },
      (_, i) => `      - { id: s-${i}, name: S${i}, checks: [{ name: http, kind: http, url: "${target.url}/ok" }] }`,
    );
    writeFileSync(
      join(dir, 'config.yaml'),
      `
timezone: UTC
storage: { kind: embedded, path: ${storePath} }
probing: { location: waw, interval: 1s, timeout: 250ms, staleAfter: 90s }
http:
  listen: 127.0.0.1
  port: 0
  monthComputationsPerSecond: 1000
  tokens:
${CLIENTS.map((c) => `    - { name: ${c}, secretEnv: UC_${c.toUpperCase()}_TOKEN, scopes: [read] }`).join('\n')}
reports: { dir: ${join(dir, 'reports')} }
customers:
  - id: acme
    name: ACME
    tier: platinum
    servers:
${servers.join('\n')}
`,
    );
    writer = EmbeddedObservationStore.open(storePath);
    for (let i = 0; i < HEAVY_SERVERS; i++) {
      const down = [];
      for (let h = window.fromMs; h < window.toMs; h += HOUR_MS)
        down.push({ fromMs: h + HOUR_MS / 2, toMs: h + HOUR_MS / 2 + 30_000 });
      await writer.write(
        observationsOf({
          server: `s-${i}`,
          check: 'http',
          fromMs: window.fromMs,
          toMs: window.toMs,
          everyMs: 30_000,
          down,
        }),
      );
    }
    daemon = await startDaemon({
      config: loadConfig(join(dir, 'config.yaml'), ENV),
      logger: createLogger(),
      computeIn: COMPUTE_IN,
    });
  });
  afterAll(async () => {
    await daemon?.stop();
    await writer?.close();
    await target?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('records every probe of the 1 ms targets as up while four clients ask for credits', async () => {
    await sleep(2_000); // every check probed once (the first round spreads over the interval)
    const loadFromMs = Date.now();
    const deadline = loadFromMs + LOAD_MS;
    const statuses: number[] = [];
    let written = 0;
    await Promise.all(
      CLIENTS.map(async (client) => {
        while (Date.now() < deadline) {
          const response = await fetch(`${daemon.address}/api/v1/credits?month=${month}`, {
            headers: { authorization: `Bearer ${SECRET(client)}` },
          });
          await response.arrayBuffer();
          statuses.push(response.status);
          // Another connection writes into the month: the next answer cannot come from the cache.
          await writer.write([
            { server: 's-0', location: 'ams', check: 'http', timeMs: window.fromMs + written++ * 1_000, up: true },
          ]);
        }
      }),
    );
    const loadToMs = Date.now();
    await sleep(3_000); // the probe loop's last writes and a refresh of the write-path metrics

    const metrics = await (await fetch(`${daemon.address}/metrics`)).text();
    const counter = (line: string) =>
      Number(
        metrics
          .split('\n')
          .find((l) => l.startsWith(line))
          ?.split(' ')[1],
      );
    // The load was real: credits were computed, again and again, for every client.
    expect(statuses.every((s) => s === 200)).toBe(true);
    expect(counter('uptime_credits_http_month_queries_total{answer="computed"}')).toBeGreaterThanOrEqual(
      CLIENTS.length,
    );
    // No probe was left out as a stall of this process ...
    expect(counter('uptime_credits_probes_discarded_total{reason="process-stalled"}')).toBe(0);
    // ... and every one recorded during the load found its target up.
    const outcomes = new Map<string, number>();
    let recorded = 0;
    for (let i = 0; i < SERVERS; i++) {
      for (const o of await writer.readObservations(`s-${i}`, loadFromMs, loadToMs)) {
        recorded++;
        const outcome = o.up ? 'up' : (o.error ?? 'down');
        outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
      }
    }
    expect(recorded).toBeGreaterThanOrEqual(2 * SERVERS); // probing went on: at least two rounds of the eight
    expect(Object.fromEntries(outcomes)).toEqual({ up: recorded });
  });
});
