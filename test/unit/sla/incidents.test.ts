// People's records in the SLA core (sla-terms.md rules 2-4): reported outages, monitoring faults, late maintenance.
// Exact money on a Gold server in November 2026 (720 h in Warsaw): 99.6 % allows 0.4 % x 720 h = 10,368,000 ms.
import { describe, expect, it } from 'vitest';
import {
  computeAvailability,
  computeMonthCredits,
  DEFAULT_TIERS,
  monthWindow,
  announcedInTime,
  type IncidentWindow,
  type Interval,
  type ObservationRun,
  type ServerAvailability,
} from '../../../src/sla/index.js';

const MIN = 60_000;
const H = 60 * MIN;
const NOV = monthWindow('2026-11', 'Europe/Warsaw');
const RULES = { confirmations: 3, staleAfterMs: 3 * MIN };
const at = (hours: number) => NOV.fromMs + hours * H;

/** One probe a minute over the whole month (and the look-around), down in `down`, up elsewhere, as runs. */
function probes(down: Interval[]): ObservationRun[] {
  const runs: ObservationRun[] = [];
  let cursor = NOV.fromMs - 10 * MIN;
  const end = NOV.toMs + 10 * MIN;
  for (const d of down) {
    runs.push({
      location: 'waw',
      check: '',
      up: true,
      firstMs: cursor,
      lastMs: d.fromMs - MIN,
      count: (d.fromMs - cursor) / MIN,
    });
    runs.push({
      location: 'waw',
      check: '',
      up: false,
      firstMs: d.fromMs,
      lastMs: d.toMs - MIN,
      count: (d.toMs - d.fromMs) / MIN,
    });
    cursor = d.toMs;
  }
  runs.push({ location: 'waw', check: '', up: true, firstMs: cursor, lastMs: end, count: (end - cursor) / MIN });
  return runs;
}

const reported = (id: number, fromH: number, toH: number, ticket?: string): IncidentWindow => ({
  id,
  kind: 'reported',
  fromMs: at(fromH),
  toMs: at(toH),
  reason: 'customer ticket',
  ...(ticket ? { ticket } : {}),
});
const fault = (id: number, fromH: number, toH: number): IncidentWindow => ({
  id,
  kind: 'monitoring-fault',
  fromMs: at(fromH),
  toMs: at(toH),
  reason: 'probe location lost its uplink',
});

function gold(availability: ServerAvailability) {
  const credits = computeMonthCredits({
    window: NOV,
    creditBase: 'server',
    customers: [{ id: 'acme', name: 'ACME', tier: DEFAULT_TIERS.get('gold')!, servers: [{ id: 'g1', name: 'G1' }] }],
    availability: new Map([['g1', availability]]),
  });
  return credits.customers[0]!.servers[0]!;
}

describe('reported outages', () => {
  it('a reported outage the probes did not see tips a Gold server under 99.6 %: 2 h probed + 1 h reported = 10,800,000 ms -> 10 % of 300.00', () => {
    const runs = probes([{ fromMs: at(100), toMs: at(102) }]);
    const alone = computeAvailability({ window: NOV, maintenance: [], runs, rules: RULES });
    expect(gold(alone)).toMatchObject({ downtimeMs: 2 * H, uptimePercent: '99.7222', creditAmountGrosze: 0 });

    const a = computeAvailability({
      window: NOV,
      maintenance: [],
      runs,
      rules: RULES,
      incidents: [reported(7, 300, 301, '1234')],
    });
    expect(a.eligibleMs).toBe(720 * H);
    expect(a.downtimeMs).toBe(10_800_000);
    expect(a.outages).toEqual([
      { fromMs: at(100), toMs: at(102) },
      { fromMs: at(300), toMs: at(301) },
    ]);
    expect(a.incidentEffects).toEqual({
      reportedDowntimeMs: H,
      excludedDowntimeMs: 0,
      incidents: [
        {
          id: 7,
          kind: 'reported',
          fromMs: at(300),
          toMs: at(301),
          reason: 'customer ticket',
          ticket: '1234',
          effectMs: H,
        },
      ],
    });
    // 100 x (2,592,000,000 - 10,800,000) / 2,592,000,000 = 99.58333... -> below 99.6 -> 10 % of 300.00 PLN
    expect(gold(a)).toMatchObject({
      uptimePercent: '99.5833',
      creditPercentHundredths: 1_000,
      creditBaseGrosze: 30_000,
      creditAmountGrosze: 3_000,
    });
  });

  it('a reported outage overlapping a probe-confirmed one is counted once: [100 h, 102 h) probed, [101 h, 103 h) reported -> 3 h', () => {
    const a = computeAvailability({
      window: NOV,
      maintenance: [],
      runs: probes([{ fromMs: at(100), toMs: at(102) }]),
      rules: RULES,
      incidents: [reported(1, 101, 103)],
    });
    expect(a.outages).toEqual([{ fromMs: at(100), toMs: at(103) }]);
    expect(a.downtimeMs).toBe(3 * H);
    expect(a.incidentEffects?.reportedDowntimeMs).toBe(H);
    expect(a.incidentEffects?.incidents[0]?.effectMs).toBe(H);
    expect(gold(a)).toMatchObject({ uptimePercent: '99.5833', creditAmountGrosze: 3_000 });
  });

  it('two overlapping reports each show their own effect; the total counts the overlap once', () => {
    const a = computeAvailability({
      window: NOV,
      maintenance: [],
      runs: probes([]),
      rules: RULES,
      incidents: [reported(1, 10, 12), reported(2, 11, 13)],
    });
    expect(a.downtimeMs).toBe(3 * H);
    expect(a.incidentEffects?.reportedDowntimeMs).toBe(3 * H);
    expect(a.incidentEffects?.incidents.map((i) => i.effectMs)).toEqual([2 * H, 2 * H]);
  });

  it('counts a report in unmonitored time as downtime, not also as unmonitored; inside maintenance or outside the month it counts nothing', () => {
    const runs = probes([]).filter((r) => r.up); // one run over the month...
    const gap = { fromMs: at(50), toMs: at(60) }; // ...with no observation for 10 h
    const split: ObservationRun[] = [
      { ...runs[0]!, lastMs: gap.fromMs - MIN, count: 1 },
      { ...runs[0]!, firstMs: gap.toMs, count: 1 },
    ];
    const a = computeAvailability({
      window: NOV,
      maintenance: [{ fromMs: at(200), toMs: at(202) }],
      runs: split,
      rules: RULES,
      incidents: [
        reported(1, 55, 56),
        reported(2, 200, 201),
        { ...reported(3, 0, 1), fromMs: NOV.fromMs - 5 * H, toMs: NOV.fromMs - H },
      ],
    });
    expect(a.downtimeMs).toBe(H);
    // The gap: 10 h minus the 3 min the last observation stays fresh, minus the reported hour.
    expect(a.unmonitoredMs).toBe(10 * H - 2 * MIN - H);
    expect(a.incidentEffects?.incidents.map((i) => [i.id, i.effectMs])).toEqual([
      [1, H],
      [2, 0],
    ]);
  });

  it('an ongoing reported outage makes the server down at the window end (it pages)', () => {
    const window = { fromMs: NOV.fromMs, toMs: at(400) };
    const a = computeAvailability({
      window,
      maintenance: [],
      runs: probes([]),
      rules: RULES,
      incidents: [reported(1, 399, 500)],
    });
    expect(a.downAtEnd).toBe(true);
    expect(a.downtimeMs).toBe(H);
  });
});

describe('monitoring faults', () => {
  it('removes a false outage: 4 h probe-confirmed inside the fault window become unmonitored, and the credit goes', () => {
    const runs = probes([{ fromMs: at(100), toMs: at(104) }]);
    const alone = computeAvailability({ window: NOV, maintenance: [], runs, rules: RULES });
    expect(gold(alone)).toMatchObject({
      downtimeMs: 4 * H,
      uptimePercent: '99.4444',
      creditPercentHundredths: 1_000,
      creditAmountGrosze: 3_000,
    });

    const a = computeAvailability({ window: NOV, maintenance: [], runs, rules: RULES, incidents: [fault(3, 99, 105)] });
    expect(a.downtimeMs).toBe(0);
    expect(a.outages).toEqual([]);
    expect(a.unmonitoredMs).toBe(6 * H);
    expect(a.unmonitored).toEqual([{ fromMs: at(99), toMs: at(105) }]);
    expect(a.incidentEffects).toMatchObject({
      reportedDowntimeMs: 0,
      excludedDowntimeMs: 4 * H,
      incidents: [{ id: 3, kind: 'monitoring-fault', effectMs: 4 * H }],
    });
    expect(gold(a)).toMatchObject({ uptimePercent: '100.0000', monitoredPercent: '99.16', creditAmountGrosze: 0 });
  });

  it('a report wins over a fault where both cover an instant', () => {
    const runs = probes([{ fromMs: at(100), toMs: at(104) }]);
    const a = computeAvailability({
      window: NOV,
      maintenance: [],
      runs,
      rules: RULES,
      incidents: [fault(1, 100, 104), reported(2, 103, 105)],
    });
    expect(a.outages).toEqual([{ fromMs: at(103), toMs: at(105) }]);
    // The probes' [103 h, 104 h) was the fault's, so all 2 h of the report are beyond what the probes (kept) confirm.
    expect(a.incidentEffects).toMatchObject({ reportedDowntimeMs: 2 * H, excludedDowntimeMs: 3 * H });
    expect(a.unmonitoredMs).toBe(3 * H);
  });

  it('a fault only partly over an outage removes only that part', () => {
    const a = computeAvailability({
      window: NOV,
      maintenance: [],
      runs: probes([{ fromMs: at(100), toMs: at(104) }]),
      rules: RULES,
      incidents: [fault(1, 103, 110)],
    });
    expect(a.outages).toEqual([{ fromMs: at(100), toMs: at(103) }]);
    expect(a.incidentEffects?.excludedDowntimeMs).toBe(H);
  });
});

describe('maintenance notice', () => {
  const window = { fromMs: at(10), toMs: at(12) };
  it('a window is in time when announced at least the notice before it starts; the file may state it was', () => {
    const notice = 48 * H;
    expect(announcedInTime({ ...window, announcedAtMs: window.fromMs - notice }, notice)).toBe(true);
    expect(announcedInTime({ ...window, announcedAtMs: window.fromMs - notice + 1 }, notice)).toBe(false);
    expect(announcedInTime({ ...window }, notice)).toBe(true);
    expect(announcedInTime({ ...window, announcedAtMs: window.fromMs }, 0)).toBe(true);
    expect(announcedInTime({ ...window, announcedAtMs: window.fromMs + 1 }, 0)).toBe(false);
  });

  it('lists a late window only where it was counted: not where a window announced in time covers it', () => {
    const a = computeAvailability({
      window: NOV,
      maintenance: [{ fromMs: at(11), toMs: at(20) }],
      lateMaintenance: [{ ...window, reason: 'kernel' }],
      runs: probes([]),
      rules: RULES,
    });
    expect(a.lateMaintenance).toEqual([{ fromMs: at(10), toMs: at(11), reason: 'kernel' }]);
  });

  it('a late window is not excluded: downtime in it counts, and it is listed', () => {
    const runs = probes([{ fromMs: at(10), toMs: at(14) }]);
    const a = computeAvailability({
      window: NOV,
      maintenance: [],
      lateMaintenance: [{ ...window, reason: 'kernel', announcedAtMs: at(9) }],
      runs,
      rules: RULES,
    });
    expect(a.maintenanceMs).toBe(0);
    expect(a.eligibleMs).toBe(720 * H);
    expect(a.downtimeMs).toBe(4 * H);
    expect(a.lateMaintenance).toEqual([{ ...window, reason: 'kernel', announcedAtMs: at(9) }]);
    expect(gold(a)).toMatchObject({ uptimePercent: '99.4444', creditAmountGrosze: 3_000 });
    const inTime = computeAvailability({ window: NOV, maintenance: [window], runs, rules: RULES });
    expect(gold(inTime)).toMatchObject({
      eligibleMs: 718 * H,
      downtimeMs: 2 * H,
      uptimePercent: '99.7214',
      creditAmountGrosze: 0,
    });
  });

  it('months without records keep their figures exactly as before (no new keys)', () => {
    const a = computeAvailability({
      window: NOV,
      maintenance: [],
      runs: probes([{ fromMs: at(10), toMs: at(14) }]),
      rules: RULES,
      incidents: [reported(1, 800, 801)],
    });
    expect(Object.keys(a)).not.toContain('incidentEffects');
    expect(Object.keys(gold(a))).not.toContain('incidentEffects');
    expect(Object.keys(gold(a))).not.toContain('lateMaintenance');
  });
});
