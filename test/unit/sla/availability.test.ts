import { describe, expect, it } from 'vitest';
import { computeAvailability, type AvailabilityInput, type ObservationRun } from '../../../src/sla/index.js';

// Probes every 30 s (staleAfter 90 s) in a 1-hour window starting at 0, unless a case says otherwise.
const S = 1_000;
const WINDOW = { fromMs: 0, toMs: 3_600 * S };
const RULES = { confirmations: 3, staleAfterMs: 90 * S };

/** Raw observations as count-1 runs: `pattern` is one character per 30 s probe from `startMs`: u = up, d = down, . = none. */
function probes(
  pattern: string,
  options: { location?: string; check?: string; startMs?: number; everyMs?: number } = {},
): ObservationRun[] {
  const { location = 'waw', check = '', startMs = 0, everyMs = 30 * S } = options;
  const runs: ObservationRun[] = [];
  [...pattern].forEach((c, i) => {
    if (c === '.') return;
    const t = startMs + i * everyMs;
    runs.push({ location, check, up: c === 'u', firstMs: t, lastMs: t, count: 1 });
  });
  return runs;
}

const fullHour = (c: string) => c.repeat(120);
function compute(runs: ObservationRun[], extra: Partial<AvailabilityInput> = {}) {
  return computeAvailability({ window: WINDOW, maintenance: [], runs, rules: RULES, ...extra });
}

describe('confirmations (rule 3)', () => {
  it('2 failures with confirmations 3 are not downtime', () => {
    const result = compute(probes(`${'u'.repeat(10)}dd${'u'.repeat(108)}`));
    expect(result.downtimeMs).toBe(0);
    expect(result.outages).toEqual([]);
  });
  it('3 failures are downtime from the first failure until the next success', () => {
    // Failures at 300 s, 330 s, 360 s; success at 390 s -> 90 s down.
    const result = compute(probes(`${'u'.repeat(10)}ddd${'u'.repeat(107)}`));
    expect(result.outages).toEqual([{ fromMs: 300 * S, toMs: 390 * S }]);
    expect(result.downtimeMs).toBe(90 * S);
    expect(result.eligibleMs).toBe(3_600 * S);
    expect(result.unmonitoredMs).toBe(0);
  });
  it('2 failures are downtime when confirmations is 2', () => {
    const result = compute(probes(`${'u'.repeat(10)}dd${'u'.repeat(108)}`), { rules: { ...RULES, confirmations: 2 } });
    expect(result.outages).toEqual([{ fromMs: 300 * S, toMs: 360 * S }]);
  });
  it('a run crossing the window start counts from the window start', () => {
    // Window starts at 600 s; failures at 540, 570 (before), 600, 630 (inside); success at 660.
    const result = compute(probes(`${'u'.repeat(18)}dddd${'u'.repeat(98)}`), {
      window: { fromMs: 600 * S, toMs: 3_600 * S },
    });
    expect(result.outages).toEqual([{ fromMs: 600 * S, toMs: 660 * S }]);
  });
  it('the same data chunked into multi-observation runs gives the same result', () => {
    const raw = probes(`${'u'.repeat(10)}dddd${'u'.repeat(50)}ddd${'u'.repeat(53)}`);
    const chunked: ObservationRun[] = [
      { location: 'waw', check: '', up: true, firstMs: 0, lastMs: 270 * S, count: 10 },
      { location: 'waw', check: '', up: false, firstMs: 300 * S, lastMs: 330 * S, count: 2 },
      { location: 'waw', check: '', up: false, firstMs: 360 * S, lastMs: 390 * S, count: 2 },
      { location: 'waw', check: '', up: true, firstMs: 420 * S, lastMs: 1_890 * S, count: 50 },
      { location: 'waw', check: '', up: false, firstMs: 1_920 * S, lastMs: 1_980 * S, count: 3 },
      { location: 'waw', check: '', up: true, firstMs: 2_010 * S, lastMs: 3_570 * S, count: 53 },
    ];
    expect(compute(chunked)).toEqual(compute(raw));
    expect(compute(raw).outages).toEqual([
      { fromMs: 300 * S, toMs: 420 * S },
      { fromMs: 1_920 * S, toMs: 2_010 * S },
    ]);
  });
});

describe('unmonitored time (rule 4)', () => {
  it('a gap with no fresh observation is not downtime and is reported', () => {
    // Up until 570 s, nothing until 1,200 s, up after. Fresh until 570 + 90 = 660 s.
    const result = compute(probes('u'.repeat(20) + '.'.repeat(20) + 'u'.repeat(80)));
    expect(result.downtimeMs).toBe(0);
    expect(result.unmonitored).toEqual([{ fromMs: 660 * S, toMs: 1_200 * S }]);
    expect(result.unmonitoredMs).toBe(540 * S);
  });
  it('an outage whose probes stop stays down only while its last failure is fresh', () => {
    // Failures at 300..360 s, then silence until 1,200 s (up): down 300..450, unmonitored 450..1,200.
    const result = compute(probes(`${'u'.repeat(10)}ddd${'.'.repeat(27)}${'u'.repeat(80)}`));
    expect(result.outages).toEqual([{ fromMs: 300 * S, toMs: 450 * S }]);
    expect(result.unmonitored).toEqual([{ fromMs: 450 * S, toMs: 1_200 * S }]);
  });
  it('a stale gap breaks a run of failures', () => {
    // d d [gap of 120 s] d d: two runs of 2, neither confirmed with confirmations 3.
    const result = compute(probes(`${'u'.repeat(10)}dd...dd${'u'.repeat(103)}`));
    expect(result.downtimeMs).toBe(0);
    expect(result.unmonitored).toEqual([{ fromMs: 420 * S, toMs: 450 * S }]);
  });
  it('no observations at all: everything unmonitored, uptime 100 %', () => {
    const result = compute([]);
    expect(result).toMatchObject({ eligibleMs: 3_600 * S, downtimeMs: 0, unmonitoredMs: 3_600 * S });
  });
});

describe('maintenance and coverage (rule 2)', () => {
  it('maintenance overlapping an outage removes the overlap from downtime and from eligible time', () => {
    // Down 300..900 s (failures 300..870, success 900); maintenance 600..1,200 s.
    const runs = probes('u'.repeat(10) + 'd'.repeat(20) + 'u'.repeat(90));
    const result = compute(runs, { maintenance: [{ fromMs: 600 * S, toMs: 1_200 * S }] });
    expect(result.outages).toEqual([{ fromMs: 300 * S, toMs: 600 * S }]);
    expect(result.downtimeMs).toBe(300 * S);
    expect(result.maintenanceMs).toBe(600 * S);
    expect(result.eligibleMs).toBe(3_000 * S);
  });
  it('an outage spanning a maintenance window is split around it', () => {
    const runs = probes('u'.repeat(10) + 'd'.repeat(40) + 'u'.repeat(70));
    const result = compute(runs, { maintenance: [{ fromMs: 600 * S, toMs: 900 * S }] });
    expect(result.outages).toEqual([
      { fromMs: 300 * S, toMs: 600 * S },
      { fromMs: 900 * S, toMs: 1_500 * S },
    ]);
  });
  it('coverage from a point in the window counts only from then; maintenance outside coverage is ignored', () => {
    const runs = probes('d'.repeat(120));
    const result = compute(runs, { sinceMs: 1_800 * S, maintenance: [{ fromMs: 0, toMs: 1_900 * S }] });
    expect(result.coveredMs).toBe(1_800 * S);
    expect(result.maintenanceMs).toBe(100 * S);
    expect(result.eligibleMs).toBe(1_700 * S);
    expect(result.outages).toEqual([{ fromMs: 1_900 * S, toMs: 3_600 * S }]);
    expect(result.downAtEnd).toBe(true);
  });
  it('coverage ending before the window leaves no eligible time', () => {
    expect(compute(probes(fullHour('d')), { untilMs: 0 })).toMatchObject({
      eligibleMs: 0,
      downtimeMs: 0,
      coveredMs: 0,
    });
  });
});

describe('locations and quorum (rule 3)', () => {
  const threeLocations = (waw: string, fra: string, ams: string) => [
    ...probes(waw, { location: 'waw' }),
    ...probes(fra, { location: 'fra' }),
    ...probes(ams, { location: 'ams' }),
  ];
  it('one of three locations seeing the server down is not downtime (default majority = 2 of 3)', () => {
    const result = compute(threeLocations(fullHour('d'), fullHour('u'), fullHour('u')));
    expect(result.downtimeMs).toBe(0);
  });
  it('two of three locations seeing it down is downtime, only while both do', () => {
    // waw down 300..900 s, fra down 600..1,200 s: both down 600..900 s.
    const waw = 'u'.repeat(10) + 'd'.repeat(20) + 'u'.repeat(90);
    const fra = 'u'.repeat(20) + 'd'.repeat(20) + 'u'.repeat(80);
    const result = compute(threeLocations(waw, fra, fullHour('u')));
    expect(result.outages).toEqual([{ fromMs: 600 * S, toMs: 900 * S }]);
  });
  it('with one location stale, the majority is taken of the two fresh ones (2 of 2)', () => {
    // ams silent all hour: the majority of 2 fresh locations is 2. waw alone down: not downtime; both: downtime.
    const waw = 'u'.repeat(10) + 'd'.repeat(30) + 'u'.repeat(80); // down 300..1,200
    const fra = 'u'.repeat(30) + 'd'.repeat(20) + 'u'.repeat(70); // down 900..1,500
    const result = compute([...probes(waw, { location: 'waw' }), ...probes(fra, { location: 'fra' })]);
    expect(result.outages).toEqual([{ fromMs: 900 * S, toMs: 1_200 * S }]);
  });
  it('when a location goes stale the majority shrinks: the remaining fresh one decides alone', () => {
    // waw down all hour; fra up until 1,770 s then silent (stale from 1,860 s): 1 of 1 fresh is a majority.
    const result = compute([
      ...probes(fullHour('d'), { location: 'waw' }),
      ...probes('u'.repeat(60), { location: 'fra' }),
    ]);
    expect(result.outages).toEqual([{ fromMs: 1_860 * S, toMs: 3_600 * S }]);
  });
  it('an explicit quorum of 1 makes any one location enough', () => {
    const result = compute(threeLocations(fullHour('d'), fullHour('u'), fullHour('u')), {
      rules: { ...RULES, quorum: 1 },
    });
    expect(result.downtimeMs).toBe(3_600 * S);
  });
});

describe('several checks of one server', () => {
  it('the server is down at a location while any of its checks is down', () => {
    const http = probes('u'.repeat(10) + 'd'.repeat(10) + 'u'.repeat(100), { check: 'http' });
    const tcp = probes(fullHour('u'), { check: 'tcp' });
    expect(compute([...http, ...tcp]).outages).toEqual([{ fromMs: 300 * S, toMs: 600 * S }]);
  });
  it('one check stale and the other up is up, not unmonitored', () => {
    const http = probes('u'.repeat(10), { check: 'http' });
    const tcp = probes(fullHour('u'), { check: 'tcp' });
    expect(compute([...http, ...tcp])).toMatchObject({ downtimeMs: 0, unmonitoredMs: 0 });
  });
});

describe('DST month (rule 1 with rule 5)', () => {
  it('October 2026 in Warsaw: eligible is 745 h, an outage over the 02:00-03:00 repeat counts real time', async () => {
    const { monthWindow } = await import('../../../src/sla/index.js');
    const window = monthWindow('2026-10', 'Europe/Warsaw');
    // Failures every 30 s from 00:30 UTC to 01:30 UTC on Oct 25 (02:30 CEST .. 02:30 CET), success at 01:30 UTC.
    const start = Date.parse('2026-10-25T00:30:00Z');
    const runs: ObservationRun[] = [
      { location: 'waw', check: '', up: true, firstMs: window.fromMs, lastMs: start - 30 * S, count: 1 },
      { location: 'waw', check: '', up: false, firstMs: start, lastMs: start + 3_570 * S, count: 120 },
      { location: 'waw', check: '', up: true, firstMs: start + 3_600 * S, lastMs: window.toMs - 30 * S, count: 1 },
    ];
    const result = computeAvailability({ window, maintenance: [], runs, rules: RULES });
    expect(result.eligibleMs).toBe(745 * 3_600 * S);
    expect(result.downtimeMs).toBe(3_600 * S);
  });
});
