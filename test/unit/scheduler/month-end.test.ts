import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/load.js';
import type { PublishResult } from '../../../src/close/publish.js';
import { createLogger } from '../../../src/logging.js';
import { createMonthEndJob, monthEndCronExpression } from '../../../src/scheduler/month-end.js';
import { openEmbeddedDatabase } from '../../../src/store/embedded/database.js';
import { FakeClock } from '../../support/fake-clock.js';

const config = parseConfig('sla: { closeDelay: 15m }\n', 'test.yaml');
const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

function setUp(nowIso: string) {
  const dir = mkdtempSync(join(tmpdir(), 'uc-month-end-'));
  dirs.push(dir);
  const clock = new FakeClock(Date.parse(nowIso));
  const published: string[] = [];
  const job = (owner: string, delayMs = 0) =>
    createMonthEndJob({
      config,
      db: openEmbeddedDatabase(join(dir, 'state.db')), // each runner its own connection, as separate processes would
      logger: createLogger(),
      clock,
      owner,
      publish: async (month) => {
        await new Promise((r) => setTimeout(r, delayMs));
        published.push(month);
        return { dir, status: 'published', written: [], differences: [] } satisfies PublishResult;
      },
    });
  return { clock, published, job };
}

describe('month-end job', () => {
  it('runs 15 minutes after local midnight on the 1st', () => {
    expect(monthEndCronExpression(15 * 60_000)).toBe('15 0 1 * *');
    expect(monthEndCronExpression(90 * 60_000)).toBe('30 1 1 * *');
  });

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

  it('catches up every month missed since the last close, after a restart', async () => {
    const { clock, published, job } = setUp('2026-09-01T00:00:00Z');
    await job('a').runDue(); // closes 2026-08
    await clock.advanceTo(Date.parse('2026-12-05T10:00:00Z')); // the daemon was down through September to November
    expect(await job('b').runDue()).toEqual(['2026-09', '2026-10', '2026-11']);
    expect(published).toEqual(['2026-08', '2026-09', '2026-10', '2026-11']);
  });

  it('two replicas racing on the same data close a month exactly once', async () => {
    const { published, job } = setUp('2026-11-02T00:00:00Z');
    const [a, b] = [job('replica-a', 50), job('replica-b', 50)];
    const results = await Promise.all([a.runDue(), b.runDue(), a.closeMonth('2026-10'), b.closeMonth('2026-10')]);
    expect(published).toEqual(['2026-10']);
    expect(results.flat().filter((r) => r === '2026-10' || (typeof r === 'object' && r.status === 'published'))).toHaveLength(1);
  });

  it('a forced close re-renders a closed month', async () => {
    const { published, job } = setUp('2026-11-02T00:00:00Z');
    const runner = job('a');
    await runner.runDue();
    expect(await runner.closeMonth('2026-10', true)).toMatchObject({ status: 'published' });
    expect(published).toEqual(['2026-10', '2026-10']);
  });
});
