// The month-end job on a simulated clock: when it closes, catch-up, and exactly once across runners.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/load.js';
import type { PublishResult } from '../../../src/close/publish.js';
import { createLogger } from '../../../src/logging.js';
import { CLAIM_FILE, createMonthEndJob, monthEndCronExpression, STALE_CLAIM_MS, type MonthEndJob } from '../../../src/scheduler/month-end.js';
import { openEmbeddedDatabase } from '../../../src/store/embedded/database.js';
import { FakeClock } from '../../support/fake-clock.js';

const dirs: string[] = [];
const jobs: MonthEndJob[] = [];
afterEach(async () => {
  await Promise.all(jobs.splice(0).map((j) => j.stop()));
  dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true }));
});

function setUp(nowIso: string, timezone = 'Europe/Warsaw') {
  const dir = mkdtempSync(join(tmpdir(), 'uc-month-end-'));
  dirs.push(dir);
  const reportsDir = join(dir, 'reports');
  const config = parseConfig(`timezone: ${timezone}\nsla: { closeDelay: 15m }\nreports: { dir: ${reportsDir} }\n`, join(dir, 'test.yaml'));
  const clock = new FakeClock(Date.parse(nowIso));
  const published: string[] = [];
  const options = { delayMs: 0, fail: false };
  /** A runner as a separate process would be: its own connection to the state file (or its own file). */
  const job = (owner: string, stateFile = 'state.db') => {
    const runner = createMonthEndJob({
      config,
      db: openEmbeddedDatabase(join(dir, stateFile)),
      logger: createLogger(),
      clock,
      owner,
      publish: async (month) => {
        await new Promise((r) => setTimeout(r, options.delayMs));
        if (options.fail) throw new Error('disk full');
        published.push(month);
        return { dir: join(reportsDir, month), status: 'published', written: [], differences: [] } satisfies PublishResult;
      },
    });
    jobs.push(runner);
    return runner;
  };
  return { clock, published, job, options, reportsDir };
}

describe('month-end cron expression', () => {
  it('fires closeDelay after local midnight on the 1st, to the second', () => {
    expect(monthEndCronExpression(15 * 60_000)).toBe('0 15 0 1 * *');
    expect(monthEndCronExpression(90 * 60_000)).toBe('0 30 1 1 * *');
    expect(monthEndCronExpression(90_000)).toBe('30 1 0 1 * *');
    expect(monthEndCronExpression(0)).toBe('0 0 0 1 * *');
    expect(monthEndCronExpression(2 * 86_400_000 + 3_600_000)).toBe('0 0 1 3 * *');
  });

  it('is scheduled in the configured time zone, in winter and in summer time', async () => {
    const { job } = setUp('2026-11-20T12:00:00Z');
    const runner = job('a');
    runner.start();
    const task = runner.task!;
    expect(task.getPattern()).toBe('0 15 0 1 * *');
    expect(task.match(new Date('2026-11-30T23:15:00Z'))).toBe(true); // 1 December 00:15 in Warsaw (UTC+1)
    expect(task.match(new Date('2026-12-01T00:15:00Z'))).toBe(false); // 01:15 in Warsaw
    expect(task.match(new Date('2026-06-30T22:15:00Z'))).toBe(true); // 1 July 00:15 in Warsaw (UTC+2)
    expect(task.match(new Date('2026-07-01T00:15:00Z'))).toBe(false);
    await runner.stop();
    expect(runner.task).toBeUndefined();
  });

  it('follows another time zone', async () => {
    const { job } = setUp('2026-11-20T12:00:00Z', 'America/New_York');
    const runner = job('a');
    runner.start();
    expect(runner.task!.match(new Date('2026-12-01T05:15:00Z'))).toBe(true); // 00:15 EST
    expect(runner.task!.match(new Date('2026-11-30T23:15:00Z'))).toBe(false);
  });
});

describe('month-end job', () => {
  it('closes the previous month once the delay has passed, and only once', async () => {
    // 2026-11-01 00:10 in Warsaw (UTC+1): October is over but the 15-minute delay is not.
    const { clock, published, job } = setUp('2026-10-31T23:10:00Z');
    const runner = job('a');
    expect(await runner.runDue()).toEqual([]);
    await clock.advanceTo(Date.parse('2026-10-31T23:16:00Z'));
    expect(await runner.runDue()).toEqual(['2026-10']);
    expect(await runner.runDue()).toEqual([]);
    expect(await runner.closeMonth('2026-10')).toEqual({ status: 'already-closed', month: '2026-10' });
    expect(published).toEqual(['2026-10']);
  });

  it('a cron tick that comes early waits out the delay instead of skipping the month', async () => {
    const { clock, published, job } = setUp('2026-10-31T23:14:59Z'); // one second before the close is due
    const runner = job('a');
    runner.start();
    await clock.advanceTo(Date.parse('2026-10-31T23:14:59.500Z')); // the start's catch-up found nothing due
    expect(published).toEqual([]);
    await runner.task!.execute(); // node-cron's tick, as if its timer fired early
    expect(published).toEqual([]);
    await clock.advanceTo(Date.parse('2026-10-31T23:15:00Z'));
    await new Promise((r) => setTimeout(r, 20));
    expect(published).toEqual(['2026-10']);
  });

  it('catches up every month missed since the last close, after a restart, at most 12', async () => {
    const { clock, published, job } = setUp('2026-09-01T00:00:00Z');
    await job('a').runDue(); // closes 2026-08
    await clock.advanceTo(Date.parse('2026-12-05T10:00:00Z')); // the daemon was down through September to November
    const restarted = job('b');
    restarted.start(); // the start itself catches up
    await new Promise((r) => setTimeout(r, 50));
    expect(published).toEqual(['2026-08', '2026-09', '2026-10', '2026-11']);

    await clock.advanceTo(Date.parse('2028-06-10T10:00:00Z')); // down for 18 months
    expect(await job('c').runDue()).toEqual(['2027-06', '2027-07', '2027-08', '2027-09', '2027-10', '2027-11', '2027-12', '2028-01', '2028-02', '2028-03', '2028-04', '2028-05']);
  });

  it('a first start closes only the month just ended, not all of history', async () => {
    const { published, job } = setUp('2026-11-02T00:00:00Z');
    expect(await job('a').runDue()).toEqual(['2026-10']);
    expect(published).toEqual(['2026-10']);
  });

  it('two replicas racing on the same data close a month exactly once', async () => {
    const { published, job, options } = setUp('2026-11-02T00:00:00Z');
    options.delayMs = 50;
    const [a, b] = [job('replica-a'), job('replica-b')];
    const results = await Promise.all([a.runDue(), b.runDue(), a.closeMonth('2026-10'), b.closeMonth('2026-10')]);
    expect(published).toEqual(['2026-10']);
    expect(results.flat().filter((r) => r === '2026-10' || (typeof r === 'object' && r.status === 'published'))).toHaveLength(1);
  });

  it('replicas with their own data files but one reports folder close a month exactly once', async () => {
    const { published, job, options, reportsDir } = setUp('2026-11-02T00:00:00Z');
    options.delayMs = 50;
    const [a, b] = [job('location-waw', 'waw.db'), job('location-fra', 'fra.db')];
    const [closedA, closedB] = await Promise.all([a.runDue(), b.runDue()]);
    expect(published).toEqual(['2026-10']);
    expect([...closedA, ...closedB]).toEqual(['2026-10']);
    const claim = JSON.parse(readFileSync(join(reportsDir, '2026-10', CLAIM_FILE), 'utf8')) as { owner: string; status: string; finishedAtMs: number };
    expect(claim).toMatchObject({ owner: closedA.length ? 'location-waw' : 'location-fra', status: 'published', finishedAtMs: Date.parse('2026-11-02T00:00:00Z') });
    // Later runs of either see the month closed.
    expect(await a.closeMonth('2026-10')).toEqual({ status: 'already-closed', month: '2026-10' });
    expect(await b.closeMonth('2026-10')).toEqual({ status: 'already-closed', month: '2026-10' });
    expect(await job('location-fra-restarted', 'fra.db').runDue()).toEqual([]);
    expect(published).toEqual(['2026-10']);
  });

  it('a claim left by a process that died is taken over once stale, not before', async () => {
    const { clock, published, job, reportsDir } = setUp('2026-11-02T00:00:00Z');
    mkdirSync(join(reportsDir, '2026-10'), { recursive: true });
    writeFileSync(join(reportsDir, '2026-10', CLAIM_FILE), JSON.stringify({ owner: 'dead', claimedAtMs: clock.now() - 60_000 }));
    expect(await job('a').closeMonth('2026-10')).toEqual({ status: 'claimed-elsewhere', month: '2026-10' });
    expect(published).toEqual([]);
    await clock.advanceTo(clock.now() + STALE_CLAIM_MS);
    expect(await job('b').closeMonth('2026-10')).toMatchObject({ status: 'published', month: '2026-10' });
    expect(published).toEqual(['2026-10']);
  });

  it('a failed close releases its claims, so the next run retries', async () => {
    const { published, job, options, reportsDir } = setUp('2026-11-02T00:00:00Z');
    const runner = job('a');
    options.fail = true;
    expect(await runner.runDue()).toEqual([]);
    await expect(runner.closeMonth('2026-10')).rejects.toThrow('disk full');
    expect(existsSync(join(reportsDir, '2026-10', CLAIM_FILE))).toBe(false);
    options.fail = false;
    expect(await runner.runDue()).toEqual(['2026-10']);
    expect(published).toEqual(['2026-10']);
  });

  it('refuses to close a month that has not ended', async () => {
    const { published, job } = setUp('2026-11-30T22:59:59Z'); // the last second of November in Warsaw
    expect(await job('a').closeMonth('2026-11')).toEqual({ status: 'not-ended', month: '2026-11', endsAt: '2026-11-30T23:00:00.000Z' });
    expect(await job('a').closeMonth('2027-01', true)).toMatchObject({ status: 'not-ended' });
    expect(published).toEqual([]);
  });

  it('a forced close re-renders a closed month', async () => {
    const { published, job } = setUp('2026-11-02T00:00:00Z');
    const runner = job('a');
    await runner.runDue();
    expect(await runner.closeMonth('2026-10', true)).toMatchObject({ status: 'published', month: '2026-10' });
    expect(published).toEqual(['2026-10', '2026-10']);
  });
});
