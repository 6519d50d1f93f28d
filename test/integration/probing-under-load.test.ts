// Probing never waits for a computation: the real daemon probes loopback targets that answer in about 1 ms while
// four clients ask /api/v1/credits for a month with data, over and over, and another connection writes between the
// requests so every answer is computed anew; then while a client asks POST /api/v1/month-to-date/recompute over and
// over, each a read of the whole month to date (and of the 6 h before now, into the previous month early in a month).
// No probe may fail or time out, and at most one in ten may be left out as the process's own stall (a busy CI machine
// deschedules the process now and then; computing on the probe loop's thread leaves most out). (One file, so the two loads never run at once.)
//
// Proof that it can fail: UC_TEST_COMPUTE_IN=thread runs the same test with the computations on the daemon's own
// event loop (startDaemon's computeIn): on 2026-11-29 that left 65 probes out as process-stalled (timeouts during
// the computations' stalls) and recorded 12 probes in the load's 8 s, against 0 and 164 with the worker. For the
// recompute loop, main.ts giving createSlaRefresh in-thread computations while the API's stayed in the worker left 22
// probes out on 2026-11-29 (a file of its own, in thread mode: 34); 0 with the worker.
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
/** The heavy servers' month to date: about this many probes each, whatever the day of the month. */
const PROBES_THIS_MONTH = 90_000;
const CLIENTS = ['c1', 'c2', 'c3', 'c4'];
const SECRET = (client: string) => `secret-of-${client}-0123456789abcdef`;
const CLOSER_SECRET = 'secret-of-the-closer-0123456789abcdef';
const ENV = {
  ...Object.fromEntries(CLIENTS.map((c) => [`UC_${c.toUpperCase()}_TOKEN`, SECRET(c)])),
  UC_CLOSER_TOKEN: CLOSER_SECRET,
};
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
    - { name: closer, secretEnv: UC_CLOSER_TOKEN, scopes: [close] }
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
    // This month up to a minute ago (the daemon's own probes come after), a failed probe in the middle of every hour
    // (marked after generating: a list of ~700 intervals is slow).
    const thisMonthToMs = Date.now() - 60_000;
    const everyMs = Math.min(30_000, Math.max(200, Math.floor((thisMonthToMs - window.toMs) / PROBES_THIS_MONTH)));
    const failsAt = (timeMs: number) => {
      const inHourMs = (timeMs - window.toMs) % HOUR_MS;
      return inHourMs >= HOUR_MS / 2 && inHourMs < HOUR_MS / 2 + everyMs;
    };
    for (let i = 0; i < HEAVY_SERVERS; i++)
      await writer.write(
        observationsOf({ server: `s-${i}`, check: 'http', fromMs: window.toMs, toMs: thisMonthToMs, everyMs }).map(
          (o) => (failsAt(o.timeMs) ? { ...o, up: false, error: 'timeout' as const } : o),
        ),
      );
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

  /** The outcomes the daemon stored for every server's probes of [fromMs, toMs), counted by outcome. */
  const outcomesBetween = async (fromMs: number, toMs: number) => {
    const outcomes = new Map<string, number>();
    let recorded = 0;
    for (let i = 0; i < SERVERS; i++) {
      for (const o of await writer.readObservations(`s-${i}`, fromMs, toMs)) {
        recorded++;
        const outcome = o.up ? 'up' : (o.error ?? 'down');
        outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
      }
    }
    return { recorded, outcomes };
  };

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
    // Every probe recorded during the load found its target up ...
    const { recorded, outcomes } = await outcomesBetween(loadFromMs, loadToMs);
    expect(recorded).toBeGreaterThanOrEqual(2 * SERVERS); // probing went on: at least two rounds of the eight
    expect(Object.fromEntries(outcomes)).toEqual({ up: recorded });
    // ... and hardly any was left out as a stall of this process. Not none: on a machine whose every core the other
    // test files keep busy, the process is sometimes descheduled (8 left out of ~160 in one such CI run). Computations
    // on the probe loop's thread leave most out (65 left out, 12 recorded).
    expect(counter('uptime_credits_probes_discarded_total{reason="process-stalled"}')).toBeLessThanOrEqual(
      Math.floor(recorded / 10),
    );
  });

  it('records every probe as up while the month to date is read whole again and again', async () => {
    const stalled = async () =>
      (await (await fetch(`${daemon.address}/metrics`)).text())
        .split('\n')
        .find((l) => l.startsWith('uptime_credits_probes_discarded_total{reason="process-stalled"}'))
        ?.split(' ')[1];
    await sleep(1_000);
    const stalledBefore = await stalled();
    const loadFromMs = Date.now();
    const deadline = loadFromMs + LOAD_MS;
    const answers: { status: number; servers?: number }[] = [];
    // At least two answers, however slow the machine: the month to date was read whole more than once.
    while (Date.now() < deadline || answers.length < 2) {
      const response = await fetch(`${daemon.address}/api/v1/month-to-date/recompute`, {
        method: 'POST',
        headers: { authorization: `Bearer ${CLOSER_SECRET}` },
      });
      answers.push({ status: response.status, ...((await response.json()) as { servers?: number }) });
    }
    const loadToMs = Date.now();
    await sleep(3_000); // the probe loop's last writes and a refresh of the write-path metrics

    expect(answers.every((a) => a.status === 200 && a.servers === SERVERS)).toBe(true);
    const stalledDuringLoad = Number(await stalled()) - Number(stalledBefore);
    const { recorded, outcomes } = await outcomesBetween(loadFromMs, loadToMs);
    expect(recorded).toBeGreaterThanOrEqual(2 * SERVERS);
    expect(Object.fromEntries(outcomes)).toEqual({ up: recorded });
    // Hardly any left out as a stall of this process (see the first test: a busy machine deschedules it now and then;
    // the refresh's computation on the probe loop's thread left 22 to 59 out).
    expect(stalledDuringLoad).toBeLessThanOrEqual(Math.floor(recorded / 10));
  });
});
