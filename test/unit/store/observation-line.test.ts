// One import line to an observation: the time range a store can hold, checked at its exact edges.
import { describe, expect, it } from 'vitest';
import { INFLUXDB_TIME_RANGE, parseObservationLine, type ParseOptions } from '../../../src/store/observation-line.js';

const servers = new Map([['p1', {}]]);
const influx: ParseOptions = { timeRange: INFLUXDB_TIME_RANGE };
const parse = (time: string | number, options: ParseOptions = {}) =>
  parseObservationLine(JSON.stringify({ time, server: 'p1', up: true }), servers, 'waw', options);
const OUTSIDE = 'is outside the times InfluxDB can store (1677-09-21T00:12:43.146Z to 2262-04-11T23:47:16.854Z)';

describe('parseObservationLine', () => {
  it('reads a line with its defaults', () => {
    expect(parse('2026-10-03T14:01:00+02:00')).toEqual({
      ok: true,
      observation: { timeMs: Date.parse('2026-10-03T12:01:00Z'), server: 'p1', location: 'waw', check: '', up: true },
    });
    expect(parseObservationLine('\uFEFF{}', servers, 'waw')).toEqual({ ok: false, reason: 'not valid JSON' }); // the file reader drops a BOM
  });

  it("InfluxDB's range is the whole ms whose nanoseconds fit int64 without its three reserved values", () => {
    const minNs = -(2n ** 63n) + 2n; // 1677-09-21T00:12:43.145224194Z; the two lower values are sentinels
    const maxNs = 2n ** 63n - 2n; // 2262-04-11T23:47:16.854775806Z; int64 max is reserved too
    const { minMs, maxMs } = INFLUXDB_TIME_RANGE;
    expect(BigInt(minMs) * 1_000_000n >= minNs && BigInt(minMs - 1) * 1_000_000n < minNs).toBe(true);
    expect(BigInt(maxMs) * 1_000_000n <= maxNs && BigInt(maxMs + 1) * 1_000_000n > maxNs).toBe(true);
    expect([minMs, maxMs]).toEqual([-9_223_372_036_854, 9_223_372_036_854]);
  });

  it('in InfluxDB mode takes times up to the last ms InfluxDB stores, and names the range beyond it', () => {
    expect(parse(9_223_372_036_854, influx)).toMatchObject({ ok: true, observation: { timeMs: 9_223_372_036_854 } });
    expect(parse('2262-04-11T23:47:16.854Z', influx)).toMatchObject({
      ok: true,
      observation: { timeMs: 9_223_372_036_854 },
    });
    expect(parse('1677-09-21T00:12:43.146Z', influx)).toMatchObject({
      ok: true,
      observation: { timeMs: -9_223_372_036_854 },
    });
    expect(parse(0, influx)).toMatchObject({ ok: true, observation: { timeMs: 0 } });

    expect(parse(9_223_372_036_855, influx)).toEqual({ ok: false, reason: `time: 9223372036855 ${OUTSIDE}` });
    expect(parse('2262-04-11T23:47:16.855Z', influx)).toEqual({
      ok: false,
      reason: `time: "2262-04-11T23:47:16.855Z" ${OUTSIDE}`,
    });
    expect(parse('1677-09-21T00:12:43.145Z', influx)).toEqual({
      ok: false,
      reason: `time: "1677-09-21T00:12:43.145Z" ${OUTSIDE}`,
    });
    expect(parse('1600-01-01T00:00:00Z', influx)).toEqual({
      ok: false,
      reason: `time: "1600-01-01T00:00:00Z" ${OUTSIDE}`,
    });
    expect(parse('9999-12-31T23:59:59+01:00', influx)).toEqual({
      ok: false,
      reason: `time: "9999-12-31T23:59:59+01:00" ${OUTSIDE}`,
    });
  });

  it('without a range (the embedded store) takes every time a Date holds', () => {
    expect(parse('1600-01-01T00:00:00Z')).toMatchObject({
      ok: true,
      observation: { timeMs: Date.parse('1600-01-01T00:00:00Z') },
    });
    expect(parse(9_223_372_036_855)).toMatchObject({ ok: true });
    expect(parse(8_640_000_000_000_000)).toMatchObject({ ok: true });
    expect(parse(8_640_000_000_000_001)).toEqual({ ok: false, reason: 'time: must be at most 8640000000000000' });
  });
});
