// The compute worker on a real embedded store and state database: the same answers as in-thread, cached until
// another connection or process writes, a crash surfacing as an error and a new worker after it.
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { getPriority, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AnswerSource } from '../../src/close/cached-computations.js';
import type { ComputeWorkerHeap } from '../../src/close/compute-worker-protocol.js';
import { ComputationsClosedError, computed, inThreadComputations } from '../../src/close/month-computations.js';
import { COMPUTE_WORKER_NICENESS, workerComputations } from '../../src/close/worker-computations.js';
import { loadConfig } from '../../src/config/load.js';
import type { AppConfig } from '../../src/config/types.js';
import { monthContaining, monthWindow } from '../../src/sla/month.js';
import { SqliteOperatorRecords } from '../../src/state/operator-records.js';
import { EmbeddedObservationStore } from '../../src/store/embedded/embedded-store.js';
import type { Observation } from '../../src/sla/types.js';
import { StoreUnavailableError } from '../../src/store/store.js';
import { HEARTBEATS_READ_FOR_MS } from '../../src/agents/heartbeat.js';
import { influxHeartbeats } from '../../src/agents/influx-heartbeats.js';
import type { OutboxedInfluxStore } from '../../src/store/influx/influx-store.js';
import { runCli } from '../support/cli.js';
import { influxSuite, openInfluxStore, testConnection } from '../support/influx-suite.js';
import { observationLines, observationsOf } from '../support/observations.js';

const MONTH = '2026-10';
const WINDOW = monthWindow(MONTH, 'UTC');
const DAY_MS = 86_400_000;
const OUTAGE = { fromMs: WINDOW.fromMs + 3 * DAY_MS, toMs: WINDOW.fromMs + 3 * DAY_MS + 3_600_000 };

/** Stores `hours` of `server`'s observations, every one down, from the start of the month's day `day` (0 first). */
const storeDown = (store: { write(o: Observation[]): Promise<unknown> }, server: string, day: number, hours: number) =>
  store.write(
    observationsOf({
      server,
      fromMs: WINDOW.fromMs + day * DAY_MS,
      toMs: WINDOW.fromMs + day * DAY_MS + hours * 3_600_000,
      everyMs: 30_000,
      down: [{ fromMs: WINDOW.fromMs, toMs: WINDOW.toMs }],
    }),
  );

/** The nice value of each of this process's threads (Linux: /proc/self/task/<tid>/stat, field 19). */
function threadNiceValues(): number[] {
  return readdirSync('/proc/self/task').flatMap((tid) => {
    try {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      return [Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16])];
    } catch {
      return []; // a thread that ended meanwhile
    }
  });
}

function writeConfig(dir: string, storePath: string, influx?: { url: string; database: string }): string {
  const path = join(dir, 'config.yaml');
  const storage = influx
    ? `{ kind: influxdb, path: ${storePath}, influxdb: { url: "${influx.url}", apiVersion: 1, database: ${influx.database} } }`
    : `{ kind: embedded, path: ${storePath} }`;
  writeFileSync(
    path,
    `
timezone: UTC
storage: ${storage}
state: { path: ${join(dir, 'state.db')} }
probing: { location: waw, interval: 30s, timeout: 500ms }
reports: { dir: ${join(dir, 'reports')} }
customers:
  - id: acme
    name: ACME
    tier: platinum
    servers:
      - { id: web-1, name: Web 1, checks: [{ kind: http, url: "http://127.0.0.1:9/" }] }
      - { id: web-2, name: Web 2, checks: [{ kind: http, url: "http://127.0.0.1:9/" }] }
`,
  );
  return path;
}

describe('compute worker', () => {
  let dir: string;
  let configPath: string;
  let config: AppConfig;
  let store: EmbeddedObservationStore;
  let records: SqliteOperatorRecords;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'uc-compute-worker-'));
    configPath = writeConfig(dir, join(dir, 'store.db'));
    config = loadConfig(configPath);
    // The daemon's side: the writer of both files, as main.ts opens them.
    store = EmbeddedObservationStore.open(config.storage.path);
    records = SqliteOperatorRecords.open(config.state.path);
    for (const server of ['web-1', 'web-2'])
      await store.write(
        observationsOf({
          server,
          fromMs: WINDOW.fromMs,
          toMs: WINDOW.fromMs + 10 * DAY_MS,
          everyMs: 30_000,
          ...(server === 'web-1' ? { down: [OUTAGE] } : {}),
        }),
      );
  });
  afterAll(async () => {
    await store.close();
    records.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers as the in-thread computation does', async () => {
    const worker = workerComputations(config);
    const here = inThreadComputations(config, { store, operatorRecords: records });
    try {
      const phases: string[] = [];
      const credits = computed(
        await worker.credits(MONTH, undefined, { onProgress: (step) => phases.push(step.phase) }),
      );
      expect(credits).toEqual(computed(await here.credits(MONTH)));
      expect(new Set(phases)).toEqual(new Set(['reading observations', 'computing credits']));
      expect(credits.customers[0]?.servers.find((s) => s.id === 'web-1')?.downtimeMs).toBeGreaterThan(0);
      const availability = computed(await worker.availability(WINDOW, ['web-1']));
      expect(availability).toEqual(computed(await here.availability(WINDOW, ['web-1'])));
      expect(availability.get('web-1')?.outages.length).toBe(1);
      expect(computed(await worker.timeline('web-1', WINDOW))).toEqual(computed(await here.timeline('web-1', WINDOW)));
      const asOfMs = WINDOW.fromMs + 5 * DAY_MS;
      expect(computed(await worker.monthToDateCredits(MONTH, asOfMs))).toEqual(
        computed(await here.monthToDateCredits(MONTH, asOfMs)),
      );
      await expect(worker.availability(WINDOW, ['nope'])).rejects.toThrow('no configured server "nope"');
    } finally {
      await worker.close();
    }
  });

  it.runIf(process.platform === 'linux')('runs its thread at a lower priority than the caller', async () => {
    const callerNice = getPriority();
    const lowered = () => threadNiceValues().filter((nice) => nice === callerNice + COMPUTE_WORKER_NICENESS).length;
    const before = lowered();
    const worker = workerComputations(config);
    try {
      await worker.availability(WINDOW, ['web-1']); // the worker has started and lowered itself by now
      expect(lowered()).toBe(before + 1);
      expect(getPriority()).toBe(callerNice);
    } finally {
      await worker.close();
    }
  });

  it('reports its heap as it starts', async () => {
    const heaps: ComputeWorkerHeap[] = [];
    const worker = workerComputations(config, { onHeap: (heap) => heaps.push(heap) });
    try {
      await worker.credits(MONTH); // messages keep their order: the start's report came before this answer
      expect(heaps.length).toBeGreaterThanOrEqual(1);
      const [first] = heaps;
      expect(first?.usedBytes).toBeGreaterThan(1_048_576);
      expect(first?.totalBytes).toBeGreaterThanOrEqual(first?.usedBytes ?? Infinity);
    } finally {
      await worker.close();
    }
  });

  it('keeps an answer until another connection or process writes', async () => {
    const sources: AnswerSource[] = [];
    const worker = workerComputations(config, { onAnswer: (source) => sources.push(source) });
    try {
      // Two clients asking at once share one computation.
      const [first, same] = await Promise.all([worker.credits(MONTH), worker.credits(MONTH)]);
      expect(same).toEqual(first);
      expect(await worker.credits(MONTH, undefined, { cachedOnly: true })).toEqual(first);
      expect(await worker.credits(MONTH)).toEqual(first);
      expect(sources).toEqual(['computation', 'cache', 'cache', 'cache']);

      // Another connection (the daemon's writer) stores an outage of web-2: the next answer is computed and has it.
      await storeDown(store, 'web-2', 12, 2);
      expect(await worker.credits(MONTH, undefined, { cachedOnly: true })).toBeUndefined();
      const second = computed(await worker.credits(MONTH));
      expect(second).not.toEqual(first);
      expect(sources.slice(4)).toEqual(['computation']);

      // Another process: `uptime-credits import` into the same file.
      const file = join(dir, 'more.ndjson');
      writeFileSync(
        file,
        `${observationLines({ server: 'web-1', fromMs: WINDOW.fromMs + 20 * DAY_MS, toMs: WINDOW.fromMs + 20 * DAY_MS + 600_000, everyMs: 30_000 }).join('\n')}\n`,
      );
      const imported = await runCli(['import', file, '-c', configPath]);
      expect(imported.stdout).toContain('imported 20,');
      expect(await worker.credits(MONTH, undefined, { cachedOnly: true })).toBeUndefined();
      const third = computed(await worker.credits(MONTH));
      expect(third).not.toEqual(second);

      // People's records (state database): an incident changes the credits.
      records.addIncident(
        {
          serverId: 'web-2',
          kind: 'reported',
          fromMs: WINDOW.fromMs + 25 * DAY_MS,
          toMs: WINDOW.fromMs + 25 * DAY_MS + 3_600_000,
          reason: 'customer ticket',
          recordedAtMs: WINDOW.toMs,
          recordedBy: 'test',
        },
        () => ({ months: [], reason: '', by: 'test', atMs: WINDOW.toMs }),
      );
      expect(await worker.credits(MONTH, undefined, { cachedOnly: true })).toBeUndefined();
      expect(computed(await worker.credits(MONTH))).not.toEqual(third);
    } finally {
      await worker.close();
    }
  });

  it('sends a byte answer across the thread once while it stands, and again when it changed', async () => {
    const worker = workerComputations(config);
    const text = (bytes: Uint8Array | undefined) => Buffer.from(computed(bytes)).toString('utf8');
    try {
      const first = computed(await worker.creditsJson(MONTH));
      // Asked again, cached or not: the bytes this thread already holds, not a new copy of them.
      expect(await worker.creditsJson(MONTH, { cachedOnly: true })).toBe(first);
      expect(await worker.creditsJson(MONTH)).toBe(first);
      const other = computed(await worker.creditsJson('2026-09'));
      expect(text(other)).toContain('"month":"2026-09"');
      expect(await worker.creditsJson(MONTH, { cachedOnly: true })).toBe(first);

      // New data: the next answer is computed and sent, and is what the worker holds from then on.
      await storeDown(store, 'web-1', 27, 1);
      expect(await worker.creditsJson(MONTH, { cachedOnly: true })).toBeUndefined();
      const second = computed(await worker.creditsJson(MONTH));
      expect(second).not.toBe(first);
      expect(text(second)).not.toBe(text(first));
      expect(JSON.parse(text(second))).toEqual(
        JSON.parse(text(await inThreadComputations(config, { store, operatorRecords: records }).creditsJson(MONTH))),
      );
      expect(await worker.creditsJson(MONTH, { cachedOnly: true })).toBe(second);
    } finally {
      await worker.close();
    }
  });

  it('fails the call when the worker crashes, and starts another for the next', async () => {
    const missingDir = mkdtempSync(join(tmpdir(), 'uc-compute-crash-'));
    const crashes: Error[] = [];
    try {
      const missing = loadConfig(writeConfig(missingDir, join(missingDir, 'store.db')));
      // Neither file exists yet: the worker cannot open its read-only connections and dies.
      const worker = workerComputations(missing, { onCrash: (error) => crashes.push(error) });
      await expect(worker.credits(MONTH)).rejects.toThrow(/compute worker/);
      expect(crashes.length).toBeGreaterThan(0);
      // The daemon creates them; the next call's new worker opens them.
      await EmbeddedObservationStore.open(missing.storage.path).close();
      SqliteOperatorRecords.open(missing.state.path).close();
      expect(computed(await worker.credits(MONTH)).month).toBe(MONTH);
      await worker.close();
      await expect(worker.credits(MONTH)).rejects.toBeInstanceOf(ComputationsClosedError);
    } finally {
      rmSync(missingDir, { recursive: true, force: true });
    }
  });
});

describe('compute worker on InfluxDB', () => {
  const influx = influxSuite();
  let dir: string;
  let config: AppConfig;
  let store: OutboxedInfluxStore;
  let records: SqliteOperatorRecords;
  const heartbeat = (written: number) => ({
    agent: 'waw',
    location: 'waw',
    shard: '1/1',
    forwardedThroughMs: WINDOW.toMs,
    written,
    parked: 0,
    startedMs: WINDOW.fromMs,
    atMs: Date.now(),
  });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'uc-compute-worker-influx-'));
    const database = await influx.database('cw');
    config = loadConfig(writeConfig(dir, join(dir, 'outbox.db'), { url: influx.influxd.url, database }));
    store = openInfluxStore({ url: influx.influxd.url, database, outboxPath: config.storage.path });
    records = SqliteOperatorRecords.open(config.state.path);
    await store.write(
      observationsOf({
        server: 'web-1',
        fromMs: WINDOW.fromMs,
        toMs: WINDOW.fromMs + DAY_MS,
        everyMs: 30_000,
        down: [OUTAGE],
      }),
    );
    expect(await store.drain(10_000)).toBe(true);
  });
  afterAll(async () => {
    await store?.close();
    records?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('says the store did not answer when InfluxDB is down (StoreUnavailableError), not that it failed', async () => {
    // A loopback port nothing listens on: connections are refused, as with influxd stopped.
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise((resolve) => closed.close(resolve));
    const downDir = mkdtempSync(join(tmpdir(), 'uc-compute-worker-down-'));
    const downConfig = loadConfig(
      writeConfig(downDir, join(downDir, 'outbox.db'), { url: `http://127.0.0.1:${port}`, database: 'x' }),
    );
    SqliteOperatorRecords.open(downConfig.state.path).close(); // the worker reads the state database read-only
    const worker = workerComputations(downConfig);
    try {
      const failure = await worker.credits(MONTH).then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(failure).toBeInstanceOf(StoreUnavailableError);
      expect((failure as Error).message).toMatch(/ECONNREFUSED/);
    } finally {
      await worker.close();
      rmSync(downDir, { recursive: true, force: true });
    }
  });

  it('answers from its own reader, and keeps the answer until a heartbeat of an agent says more was written', async () => {
    const heartbeats = influxHeartbeats(
      testConnection({ url: influx.influxd.url, database: config.storage.influxdb?.database ?? '' }),
    );
    const sources: AnswerSource[] = [];
    const worker = workerComputations(config, { onAnswer: (source) => sources.push(source) });
    try {
      await heartbeats.write(heartbeat(2_880));
      const first = computed(await worker.credits(MONTH));
      expect(first).toEqual(
        computed(await inThreadComputations(config, { store, operatorRecords: records }).credits(MONTH)),
      );
      expect(await worker.credits(MONTH)).toEqual(first);
      expect(sources).toEqual(['computation', 'cache']);

      // New observations confirmed in InfluxDB: the answer holds until the writer's next heartbeat counts them.
      await storeDown(store, 'web-2', 0, 1);
      expect(await store.drain(10_000)).toBe(true);
      expect(await worker.credits(MONTH)).toEqual(first);
      await heartbeats.write(heartbeat(2_880 + 120));
      // The worker reads the heartbeats at most once every HEARTBEATS_READ_FOR_MS.
      await new Promise((resolve) => setTimeout(resolve, HEARTBEATS_READ_FOR_MS + 50));
      expect(await worker.credits(MONTH, undefined, { cachedOnly: true })).toBeUndefined();
      expect(computed(await worker.credits(MONTH))).not.toEqual(first);
      expect(sources).toEqual(['computation', 'cache', 'cache', 'computation']);
    } finally {
      await worker.close();
      await heartbeats.close();
    }
  });

  // The running month read incrementally (the API's credits, the refresh): its recent part is one read of every
  // server per pass (RunSource.readEveryServer, shared by the computation's groups of servers), and a new pass reads
  // it again. Real time: the worker bounds such reads by the clock. Skipped in a month's first half hour only.
  const MIN = 60_000;
  const runningStartMs = monthWindow(monthContaining(Date.now(), 'UTC'), 'UTC').fromMs;
  it.skipIf(Date.now() - runningStartMs < 30 * MIN)(
    'reads the running month’s recent part for every server once per pass, and anew at the next pass',
    async () => {
      const nowMs = Date.now();
      const running = monthContaining(nowMs, 'UTC');
      const fromMs = nowMs - 20 * MIN;
      const heartbeats = influxHeartbeats(
        testConnection({ url: influx.influxd.url, database: config.storage.influxdb?.database ?? '' }),
      );
      const worker = workerComputations(config);
      const whole = () => inThreadComputations(config, { store, operatorRecords: records }).credits(running);
      // Everything written lies after the settled mark, as a writer's mark promises.
      let marksTaken = 0;
      const read = (restart: boolean) => ({
        incremental: { settledThroughMs: fromMs - 1, markTaken: ++marksTaken, restart },
      });
      try {
        await store.write(observationsOf({ server: 'web-1', fromMs, toMs: nowMs - 10 * MIN, everyMs: 30_000 }));
        expect(await store.drain(10_000)).toBe(true);
        await heartbeats.write(heartbeat(10_000));
        const first = computed(await worker.credits(running, undefined, read(true)));
        expect(first).toEqual(computed(await whole()));

        const failing = { fromMs: nowMs - 10 * MIN, toMs: nowMs };
        await store.write(observationsOf({ server: 'web-2', ...failing, everyMs: 30_000, down: [failing] }));
        expect(await store.drain(10_000)).toBe(true);
        await heartbeats.write(heartbeat(10_020));
        const second = computed(await worker.credits(running, undefined, read(false)));
        expect(second).not.toEqual(first);
        expect(second).toEqual(computed(await whole()));
      } finally {
        await worker.close();
        await heartbeats.close();
      }
    },
  );
});
