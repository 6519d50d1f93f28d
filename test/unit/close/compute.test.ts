// The month close service over a real embedded store: the runs it reads around the window edges and the SLA
// settings it hands to the core. Expected numbers are worked out by hand in the comments.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { computeCredits, computeServersAvailability, runLookbackMs } from '../../../src/close/compute.js';
import { NO_OPERATOR_RECORDS } from '../../../src/state/operator-records.js';
import { parseConfig } from '../../../src/config/load.js';
import type { Interval, Observation } from '../../../src/sla/types.js';
import { EmbeddedObservationStore } from '../../../src/store/embedded/embedded-store.js';

const MIN = 60_000;
const H = 60 * MIN;
const at = (iso: string) => Date.parse(iso);
// October 2026 in Warsaw: 2026-09-30T22:00Z to 2026-10-31T23:00Z (745 h, the clocks go back on the 25th).
const MONTH_FROM = at('2026-09-30T22:00:00Z');
const MONTH_TO = at('2026-10-31T23:00:00Z');

const inside = (t: number, intervals: Interval[]) => intervals.some((i) => t >= i.fromMs && t < i.toMs);

/** One probe a minute from `fromMs` to `toMs`, failing inside `down`, absent inside `silent`. */
function probes(server: string, down: Interval[] = [], silent: Interval[] = []): Observation[] {
  const observations: Observation[] = [];
  for (let t = at('2026-09-30T21:00:00Z'); t < at('2026-11-01T00:00:00Z'); t += MIN) {
    if (!inside(t, silent)) observations.push({ timeMs: t, server, location: 'waw', check: '', up: !inside(t, down) });
  }
  return observations;
}

const config = (sla: string) =>
  parseConfig(
    `
probing: { location: waw, interval: 60s, timeout: 10s, confirmations: 3 }
sla: ${sla}
customers:
  - id: edges
    name: Edges
    tier: platinum
    servers: [{ id: start-edge, name: A }, { id: gap-edge, name: B }]
  - id: worst
    name: Worst
    tier: gold
    servers: [{ id: down-day, name: C }]
`,
    'compute.test.yaml',
  );

describe('computeCredits', () => {
  let dir: string;
  let store: EmbeddedObservationStore;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'uc-close-'));
    store = EmbeddedObservationStore.open(join(dir, 'store.db'));
    await store.write([
      // Failures at 21:58, 21:59 and 22:00 (only the last inside October), success at 22:01; and failures at
      // 22:59 (inside), 23:00 and 23:01 (after the month), success at 23:02.
      ...probes('start-edge', [
        { fromMs: at('2026-09-30T21:58:00Z'), toMs: at('2026-09-30T22:01:00Z') },
        { fromMs: at('2026-10-31T22:59:00Z'), toMs: at('2026-10-31T23:02:00Z') },
      ]),
      // Last probe before the month at 21:59, the next at 22:05.
      ...probes('gap-edge', [], [{ fromMs: at('2026-09-30T22:00:00Z'), toMs: at('2026-09-30T22:05:00Z') }]),
      // Down 8 h on October 5th.
      ...probes('down-day', [{ fromMs: at('2026-10-05T10:00:00Z'), toMs: at('2026-10-05T18:00:00Z') }]),
    ]);
  });
  afterAll(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('reads confirmations x staleAfter around the month', () => {
    // staleAfter defaults to 3 x 60 s = 180 s; 3 confirmations -> 540 s.
    expect(runLookbackMs(config('{}'))).toBe(540_000);
  });

  it('judges failure runs and fresh data across the month edges as mid-month', async () => {
    const credits = await computeCredits(config('{}'), { store, operatorRecords: NO_OPERATOR_RECORDS }, '2026-10');
    expect([credits.fromMs, credits.toMs, credits.monthMs]).toEqual([MONTH_FROM, MONTH_TO, 745 * H]);
    const [startEdge, gapEdge] = credits.customers[0]!.servers;
    // Three failures in a row confirm both runs, though only one failure of each lies inside the month:
    // down from the month's start to the success at 22:01, and from 22:59 to the month's end. 2 min in all.
    expect(startEdge!.outages).toEqual([
      { fromMs: MONTH_FROM, toMs: at('2026-09-30T22:01:00Z') },
      { fromMs: at('2026-10-31T22:59:00Z'), toMs: MONTH_TO },
    ]);
    expect(startEdge!.downtimeMs).toBe(2 * MIN);
    // (745 h - 2 min) / 745 h = 99.99552...% -> shown rounded down, no platinum bracket.
    expect(startEdge!.uptimePercent).toBe('99.9955');
    expect(startEdge!.creditAmountGrosze).toBe(0);
    // The 21:59 probe stays fresh for 180 s, so only 22:02-22:05 is unmonitored (not 22:00-22:05).
    expect(gapEdge!.unmonitored).toEqual([{ fromMs: at('2026-09-30T22:02:00Z'), toMs: at('2026-09-30T22:05:00Z') }]);
    expect(gapEdge!.unmonitoredMs).toBe(3 * MIN);
    expect(gapEdge!.downtimeMs).toBe(0);
  });

  it('applies the per-server base and brackets by default', async () => {
    const credits = await computeCredits(config('{}'), { store, operatorRecords: NO_OPERATOR_RECORDS }, '2026-10');
    const downDay = credits.customers[1]!.servers[0]!;
    // 737 h / 745 h = 98.92617...% < 99.0 -> gold 200 % of the server fee 300.00 = 600.00.
    expect(downDay).toMatchObject({
      downtimeMs: 8 * H,
      uptimePercent: '98.9261',
      creditPercentHundredths: 20_000,
      creditBaseGrosze: 30_000,
      creditAmountGrosze: 60_000,
    });
    expect(credits.creditAmountGrosze).toBe(60_000);
  });

  it('passes creditBase and maxCreditPercent from the configuration to the core', async () => {
    const credits = await computeCredits(
      config('{ creditBase: customer, maxCreditPercent: 100 }'),
      { store, operatorRecords: NO_OPERATOR_RECORDS },
      '2026-10',
    );
    const downDay = credits.customers[1]!.servers[0]!;
    // Capped at 100 %, of the customer's whole fee: base 300.00 + server 300.00 = 600.00.
    expect(downDay).toMatchObject({
      creditPercentHundredths: 10_000,
      creditBaseGrosze: 60_000,
      creditAmountGrosze: 60_000,
    });
    expect(credits.creditBase).toBe('customer');
  });

  it("one server's availability reads that server's observations only (the outages API for one server)", async () => {
    const asked: string[][] = [];
    const recording = {
      readRuns(query: Parameters<typeof store.readRuns>[0]) {
        asked.push([...query.servers]);
        return store.readRuns(query);
      },
    };
    const window = { fromMs: at('2026-10-05T00:00:00Z'), toMs: at('2026-10-06T00:00:00Z') };
    const one = await computeServersAvailability(
      config('{}'),
      { store: recording, operatorRecords: NO_OPERATOR_RECORDS },
      window,
      ['down-day'],
    );
    expect(asked).toEqual([['down-day']]);
    expect([...one.keys()]).toEqual(['down-day']);
    expect(one.get('down-day')!.outages).toEqual([
      { fromMs: at('2026-10-05T10:00:00Z'), toMs: at('2026-10-05T18:00:00Z') },
    ]);
    await expect(
      computeServersAvailability(config('{}'), { store, operatorRecords: NO_OPERATOR_RECORDS }, window, ['nope']),
    ).rejects.toThrow('no configured server "nope"');
  });

  it('rejects a month that is not YYYY-MM', async () => {
    await expect(
      computeCredits(config('{}'), { store, operatorRecords: NO_OPERATOR_RECORDS }, '2026-13'),
    ).rejects.toThrow('"2026-13" is not a month in the form YYYY-MM');
  });
});
