// The month-end timer on a simulated clock, over a real closer (embedded store, state database, reports folder):
// which months it closes, catching up, retrying a held close, and exactly once across processes.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CLAIM_STALE_MS, thisProcess } from '../../../src/close/claims.js';
import { createMonthCloser } from '../../../src/close/month-closer.js';
import { createLogger } from '../../../src/logging.js';
import { createMonthEndJob, monthEndCronExpression, type MonthEndJob } from '../../../src/scheduler/month-end.js';
import type { ObservationStore } from '../../../src/store/store.js';
import { runCloseChild } from '../../support/close-child-process.js';
import { capturedLog } from '../../support/captured-log.js';
import { closeFixture, type CloseFixture } from '../../support/close-fixture.js';

const MIN = 60_000;
const at = (iso: string) => Date.parse(iso);

const fixtures: CloseFixture[] = [];
const jobs: MonthEndJob[] = [];
afterEach(async () => {
  await Promise.all(jobs.splice(0).map((j) => j.stop()));
  await Promise.all(fixtures.splice(0).map((f) => f.dispose()));
});

async function setUp(nowIso: string, yaml?: string) {
  const f = await closeFixture({ nowIso, ...(yaml ? { yaml } : {}) });
  fixtures.push(f);
  const job = (closer = f.closer) => {
    const runner = createMonthEndJob({
      config: f.config,
      closer,
      records: f.records,
      earliestObservationMs: () => f.store.earliestObservationMs(),
      logger: createLogger(),
      clock: f.clock,
    });
    jobs.push(runner);
    return runner;
  };
  return { f, job };
}

/** Observations of both fixture servers, every minute, over [fromIso, toIso). */
const watch = (f: CloseFixture, fromIso: string, toIso: string) =>
  f.observe(
    { server: 'oci-101', fromMs: at(fromIso), toMs: at(toIso), everyMs: MIN },
    { server: 'oci-5', fromMs: at(fromIso), toMs: at(toIso), everyMs: MIN },
  );

/** A closer whose only evidence is an outbox with `waiting()` observations unconfirmed; counts the questions. */
function closerWithOutbox(f: CloseFixture, waiting: () => number) {
  const asked = { count: 0 };
  const closer = createMonthCloser({
    config: f.config,
    store: f.store,
    operatorRecords: f.operatorRecords,
    records: f.records,
    evidence: [
      {
        name: 'the outbox',
        unconfirmed: async () => {
          asked.count++;
          return { waiting: waiting(), parked: 0 };
        },
      },
    ],
    logger: createLogger(),
    clock: f.clock,
  });
  return { closer, asked };
}

async function eventually<T>(what: string, probe: () => T | undefined, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('month-end cron expression', () => {
  it('fires the delay after local midnight on the 1st, to the second', () => {
    expect(monthEndCronExpression(15 * 60_000)).toBe('0 15 0 1 * *');
    expect(monthEndCronExpression(90 * 60_000)).toBe('0 30 1 1 * *');
    expect(monthEndCronExpression(90_000)).toBe('30 1 0 1 * *');
    expect(monthEndCronExpression(0)).toBe('0 0 0 1 * *');
    expect(monthEndCronExpression(2 * 86_400_000 + 3_600_000)).toBe('0 0 1 3 * *');
  });

  it('is scheduled in the configured time zone, in winter and in summer time', async () => {
    const { job } = await setUp('2026-11-20T12:00:00Z');
    const runner = job();
    runner.start();
    const task = runner.task!;
    expect(task.getPattern()).toBe('0 15 0 1 * *');
    expect(task.match(new Date('2026-11-30T23:15:00Z'))).toBe(true); // 1 December 00:15 in Warsaw (UTC+1)
    expect(task.match(new Date('2026-12-01T00:15:00Z'))).toBe(false);
    expect(task.match(new Date('2026-06-30T22:15:00Z'))).toBe(true); // 1 July 00:15 in Warsaw (UTC+2)
    await runner.stop();
    expect(runner.task).toBeUndefined();
  });
});

describe('month-end job', () => {
  it('a fresh store and a start on the 1st: no report for months before the first observation', async () => {
    const { f, job } = await setUp('2026-11-30T23:20:00Z'); // 1 December 00:20 in Warsaw
    const runner = job();
    expect(await runner.dueMonths()).toEqual([]); // no observation at all
    expect(await runner.runDue()).toEqual([]);

    // The daemon first ran on 29 November: November had it watching 2 of 30 days, October not at all.
    await watch(f, '2026-11-29T10:00:00Z', '2026-11-30T23:20:00Z');
    expect(await runner.dueMonths()).toEqual(['2026-11']);
    expect(await runner.runDue()).toEqual([]); // held for review: 6 % monitored is no evidence to pay on
    expect(f.records.month('2026-11')).toMatchObject({ state: 'needs-review', revision: 0 });
    expect(readdirSync(f.reportsDir).filter((name) => !name.startsWith('.'))).toEqual(['2026-11']);
    expect(readdirSync(join(f.reportsDir, '2026-11'))).toEqual(['draft']);
    expect(f.records.month('2026-10')).toBeUndefined();
    // A month waiting for review is not closed again by the timer.
    expect(await runner.dueMonths()).toEqual([]);
  });

  it('closes the previous month once it is closable, catches up missed months, and only once', async () => {
    const { f, job } = await setUp('2026-09-01T00:00:00Z');
    await watch(f, '2026-08-31T22:00:00Z', '2026-12-02T00:00:00Z'); // from 1 September 00:00 in Warsaw
    await f.clock.advanceTo(at('2026-11-30T23:14:59Z')); // November is not closable until 00:15 local on 1 December
    const runner = job();
    expect(await runner.runDue()).toEqual(['2026-09', '2026-10']); // August ended before the first observation
    await f.clock.advanceTo(at('2026-11-30T23:15:00Z'));
    expect(await runner.runDue()).toEqual(['2026-11']);
    expect(await runner.runDue()).toEqual([]);
    expect(f.records.months().map((m) => [m.month, m.state, m.revision])).toEqual([
      ['2026-11', 'closed', 1],
      ['2026-10', 'closed', 1],
      ['2026-09', 'closed', 1],
    ]);
  });

  it('a stop during a catch-up cuts short the close still reading, records nothing of it and starts no other; the next start closes them all', async () => {
    const { f, job } = await setUp('2026-09-01T00:00:00Z');
    await watch(f, '2026-08-31T22:00:00Z', '2026-12-02T00:00:00Z');
    await f.clock.advanceTo(at('2026-11-30T23:15:00Z'));
    let entered = false;
    let release = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const slow: ObservationStore = Object.create(f.store, {
      readRuns: {
        value: async (...args: Parameters<ObservationStore['readRuns']>) => {
          entered = true;
          await gate;
          return f.store.readRuns(...args);
        },
      },
    });
    const closer = createMonthCloser({
      config: f.config,
      store: slow,
      operatorRecords: f.operatorRecords,
      records: f.records,
      evidence: [],
      logger: createLogger(),
      clock: f.clock,
    });
    const { logger, lines } = capturedLog();
    const runner = createMonthEndJob({
      config: f.config,
      closer,
      records: f.records,
      earliestObservationMs: () => f.store.earliestObservationMs(),
      logger,
      clock: f.clock,
    });
    jobs.push(runner);
    const run = runner.runDue();
    await eventually('the first close to read the store', () => (entered ? true : undefined));
    // The read is still held at the gate: the stop does not wait for it (at a fleet's size it takes minutes).
    let stopped = false;
    const stopping = runner.stop().then(() => {
      stopped = true;
    });
    try {
      await eventually('the stop to end while the read is held', () => (stopped ? true : undefined));
    } finally {
      release(); // the abandoned read ends; its figures are dropped
      await stopping;
    }
    expect(await run).toEqual([]);
    expect(f.records.months()).toEqual([]); // not held, not closed: as if the run had not started
    expect(existsSync(join(f.reportsDir, '2026-09'))).toBe(false);
    expect(lines.filter((l) => l.level >= 50)).toEqual([]);
    expect(lines.map((l) => l.msg)).toContain(
      'the month-end run was cut short by the stop; what it had not recorded is taken up at the next start',
    );
    expect(await job().runDue()).toEqual(['2026-09', '2026-10', '2026-11']);
    expect(f.records.months().map((m) => [m.month, m.state, m.revision])).toEqual([
      ['2026-11', 'closed', 1],
      ['2026-10', 'closed', 1],
      ['2026-09', 'closed', 1],
    ]);
  });

  it('a stop while a close waits for evidence ends the wait at once and holds nothing', async () => {
    const { f, job } = await setUp('2026-11-30T23:20:00Z');
    await watch(f, '2026-10-31T20:00:00Z', '2026-11-30T23:20:00Z');
    const { closer, asked } = closerWithOutbox(f, () => 1_000);
    const runner = job(closer);
    runner.start();
    // The simulated clock stands still: the 2-minute evidence wait would never end by itself.
    await eventually('the close to ask for the evidence', () => (asked.count > 0 ? true : undefined));
    let stopped = false;
    const stopping = runner.stop().then(() => {
      stopped = true;
    });
    try {
      await eventually('the stop to end while the evidence is awaited', () => (stopped ? true : undefined));
    } finally {
      await f.clock.advanceTo(f.clock.now() + f.config.sla.evidenceWaitMs); // a stop that waited ends with the wait
      await stopping;
    }
    // October (its first close, cut short) and November are due: neither is held.
    expect(f.records.months()).toEqual([]);
    const askedAtStop = asked.count;
    await f.clock.advanceTo(f.clock.now() + f.config.sla.evidenceWaitMs + f.config.sla.closeRetryMs);
    await new Promise((r) => setTimeout(r, 20));
    expect(asked.count).toBe(askedAtStop); // no poll and no retry after the stop
    expect(f.records.months()).toEqual([]);
  });

  it('a start right after a stop: its catch-up follows the run cut short, and the next stop leaves no timer of either start', async () => {
    const { f, job } = await setUp('2026-11-30T23:20:00Z');
    await watch(f, '2026-10-31T20:00:00Z', '2026-11-30T23:20:00Z');
    let unconfirmed = 1_000;
    const { closer, asked } = closerWithOutbox(f, () => unconfirmed);
    let runs = 0;
    const counted = Object.create(closer, {
      recover: {
        value: () => {
          runs++;
          return closer.recover();
        },
      },
    }) as typeof closer;
    const runner = job(counted);
    runner.start();
    // The first run holds both months for want of evidence; the retry timer's run then waits for it again.
    await eventually('the first close to ask for evidence', () => (asked.count > 0 ? true : undefined));
    const startedMs = f.clock.now();
    while (f.records.month('2026-11')?.state !== 'held') {
      expect(f.clock.now() - startedMs).toBeLessThan(f.config.sla.closeRetryMs);
      await f.clock.advanceTo(f.clock.now() + f.config.sla.evidenceWaitMs / 8);
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(f.records.month('2026-10')?.state).toBe('held');
    const askedBeforeRetry = asked.count;
    await f.clock.advanceTo(startedMs + f.config.sla.closeRetryMs);
    await eventually('the retry to wait for evidence', () => (asked.count > askedBeforeRetry ? true : undefined));

    const stopping = runner.stop();
    runner.start();
    unconfirmed = 0; // the evidence is complete from here, and the simulated clock stands still
    await stopping;
    expect(runner.task).toBeDefined(); // the stop did not clear the task of the start that followed it
    // The start's catch-up takes both months up at once, without waiting for a retry (October, watched for its last
    // hours only, waits for a person's review).
    await eventually('the catch-up to close November', () =>
      f.records.month('2026-11')?.state === 'closed' ? true : undefined,
    );
    expect(f.records.month('2026-10')?.state).toBe('needs-review');

    await runner.stop();
    expect(runner.task).toBeUndefined();
    const runsAtStop = runs;
    await f.clock.advanceTo(f.clock.now() + 3 * f.config.sla.closeRetryMs);
    await new Promise((r) => setTimeout(r, 20));
    expect(runs).toBe(runsAtStop); // no retry chain of either start outlived the stop
  });

  it('a close that failed is retried by the running daemon within minutes', async () => {
    const { f } = await setUp('2026-11-30T23:20:00Z');
    await watch(f, '2026-10-31T20:00:00Z', '2026-11-30T23:20:00Z');
    let broken = true;
    const flaky: ObservationStore = Object.create(f.store, {
      readRuns: {
        value: (...args: Parameters<ObservationStore['readRuns']>) =>
          broken ? Promise.reject(new Error('the store does not answer')) : f.store.readRuns(...args),
      },
    });
    const closer = createMonthCloser({
      config: f.config,
      store: flaky,
      operatorRecords: f.operatorRecords,
      records: f.records,
      evidence: [],
      logger: createLogger(),
      clock: f.clock,
    });
    const runner = createMonthEndJob({
      config: f.config,
      closer,
      records: f.records,
      earliestObservationMs: () => f.store.earliestObservationMs(),
      logger: createLogger(),
      clock: f.clock,
    });
    jobs.push(runner);
    runner.start();
    await eventually('the first attempt to be held', () => f.records.month('2026-11'));
    expect(f.records.month('2026-11')).toMatchObject({
      state: 'held',
      revision: 0,
      reason: 'the store does not answer',
    });
    expect(existsSync(join(f.reportsDir, '2026-11'))).toBe(false);

    broken = false;
    await f.clock.advanceTo(f.clock.now() + f.config.sla.closeRetryMs - 1);
    expect(f.records.month('2026-11')?.state).toBe('held');
    await f.clock.advanceTo(f.clock.now() + 1); // 5 minutes after the failure
    await eventually('the retry to close November', () =>
      f.records.month('2026-11')?.state === 'closed' ? true : undefined,
    );
    expect(existsSync(join(f.reportsDir, '2026-11', 'manifest.json'))).toBe(true);
  });

  it('two processes racing on one state database close a month exactly once', async () => {
    const { f } = await setUp('2026-11-02T00:00:00Z');
    await watch(f, '2026-09-30T20:00:00Z', '2026-11-01T02:00:00Z');
    const outcomes = await Promise.all(
      [1, 2, 3].map(() => runCloseChild(f.configPath, '2026-10', 'never', '2026-11-02T00:00:00Z')),
    );
    const statuses = outcomes.map((o) => (JSON.parse(o.stdout) as { status: string }).status).sort();
    expect(statuses.filter((s) => s === 'issued')).toHaveLength(1);
    expect(statuses.every((s) => ['issued', 'busy', 'unchanged'].includes(s))).toBe(true);
    expect(f.records.revisions('2026-10')).toHaveLength(1);
    expect(f.records.journal('2026-10')).toHaveLength(0); // nothing down in October: no credit, no journal row
    expect(await f.closer.close('2026-10', { by: 'test' })).toEqual({
      status: 'unchanged',
      month: '2026-10',
      revision: 1,
    });
  });

  it('two calls in one process exclude each other too: an HTTP retry of a restatement issues one revision', async () => {
    const { f } = await setUp('2026-11-02T00:00:00Z');
    await watch(f, '2026-09-30T20:00:00Z', '2026-11-01T02:00:00Z');
    expect((await f.closer.close('2026-10', { by: 'test' })).status).toBe('issued');
    await f.observe({
      server: 'oci-101',
      check: 'http',
      fromMs: at('2026-10-03T12:00:00Z'),
      toMs: at('2026-10-03T15:00:00Z'),
      everyMs: MIN,
      down: [{ fromMs: 0, toMs: at('2026-10-04T00:00:00Z') }],
    });
    const outcomes = await Promise.all(
      [1, 2, 3].map(() => f.closer.restate('2026-10', { by: 'api', reason: 'ticket' })),
    );
    expect(outcomes.filter((o) => o.status === 'issued')).toHaveLength(1);
    expect(outcomes.every((o) => ['issued', 'busy', 'unchanged'].includes(o.status))).toBe(true);
    expect(f.records.revisions('2026-10').map((r) => r.revision)).toEqual([1, 2]);
  });

  it('a month held for incomplete evidence is closed by the timer once the evidence has arrived', async () => {
    const { f } = await setUp('2026-11-30T23:20:00Z');
    await watch(f, '2026-10-31T20:00:00Z', '2026-11-30T23:20:00Z');
    let waiting = 1_000;
    const closer = createMonthCloser({
      config: f.config,
      store: f.store,
      operatorRecords: f.operatorRecords,
      records: f.records,
      evidence: [{ name: 'the outbox', unconfirmed: async () => ({ waiting, parked: 0 }) }],
      logger: createLogger(),
      clock: f.clock,
    });
    const runner = createMonthEndJob({
      config: f.config,
      closer,
      records: f.records,
      earliestObservationMs: () => f.store.earliestObservationMs(),
      logger: createLogger(),
      clock: f.clock,
    });
    jobs.push(runner);
    runner.start();
    // The evidence wait (2 min) runs on the simulated clock: move it along until the month is held.
    for (let i = 0; i < 50 && f.records.month('2026-11') === undefined; i++) {
      await f.clock.advanceTo(f.clock.now() + 5_000);
      await new Promise((r) => setTimeout(r, 5));
    }
    expect(f.records.month('2026-11')).toMatchObject({
      state: 'held',
      reason: expect.stringContaining('1000 observations still waiting in the outbox'),
    });
    waiting = 0;
    await f.clock.advanceTo(f.clock.now() + f.config.sla.closeRetryMs);
    await eventually('the retry to close November', () =>
      f.records.month('2026-11')?.state === 'closed' ? true : undefined,
    );
  });

  it("a claim whose owner process is gone is taken over at once; another host's live claim only once stale", async () => {
    const { f } = await setUp('2026-11-02T00:00:00Z');
    await watch(f, '2026-09-30T20:00:00Z', '2026-11-01T02:00:00Z');
    const dead = spawnSync(process.execPath, ['-e', '0']).pid!; // a process that has ended
    const now = f.clock.now();
    f.records.tryClaim(
      {
        month: '2026-10',
        owner: `dead:${dead}`,
        host: thisProcess().host,
        pid: dead,
        claimedAtMs: now,
        heartbeatMs: now,
      },
      () => false,
    );
    expect((await f.closer.close('2026-10', { by: 'test' })).status).toBe('issued');

    f.records.tryClaim(
      { month: '2026-09', owner: 'elsewhere:1', host: 'elsewhere', pid: 1, claimedAtMs: now, heartbeatMs: now },
      () => false,
    );
    const busy = await f.closer.close('2026-09', { by: 'test' });
    expect(busy).toMatchObject({ status: 'busy', holder: { owner: 'elsewhere:1' } });
    await f.clock.advanceTo(now + CLAIM_STALE_MS + 1);
    expect((await f.closer.close('2026-09', { by: 'test' })).status).toBe('needs-review'); // September was hardly observed
  });
});
