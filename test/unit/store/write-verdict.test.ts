// The verdict on each shape of InfluxDB answer: only lines InfluxDB named are ever parked.
import { describe, expect, it } from 'vitest';
import { fieldsOf, fieldTypeOf, measurementOf, seriesOf } from '../../../src/store/influx/line-protocol.js';
import { retryAfterMs, writeVerdict } from '../../../src/store/influx/write-verdict.js';

const lines = [
  'm,server=a up=1i 1000',
  'm,server=b up=1i,error="it\'s: bad" 2000',
  'm,server=c up=1i 3000',
  'm,server=d up=1.5 4000',
];

describe('writeVerdict', () => {
  it('2xx confirms the batch', () => {
    expect(writeVerdict(204, '', lines)).toEqual({ kind: 'ok' });
    expect(writeVerdict(200, '{}', lines)).toEqual({ kind: 'ok' });
  });

  it('1.x partial write: parks exactly the lines named by "unable to parse", even with a quote-colon inside a line', () => {
    // The shape influxd 1.6.7 answers (several refused lines joined by a newline, dropped=0 for parse errors).
    const body = `{"error":${JSON.stringify(`partial write: unable to parse '${lines[1]}': bad timestamp\nunable to parse '${lines[2]}': bad timestamp dropped=0`)}}\n`;
    const verdict = writeVerdict(400, body, lines);
    expect(verdict).toEqual({
      kind: 'refused',
      refused: new Map([
        [1, 'unable to parse: bad timestamp'],
        [2, 'unable to parse: bad timestamp'],
      ]),
    });
  });

  it('every line bad (1.x answers without "partial write"): all named lines are refused', () => {
    const body = JSON.stringify({
      error: `unable to parse '${lines[0]}': bad timestamp\nunable to parse '${lines[3]}': invalid number`,
    });
    expect(writeVerdict(400, body, lines)).toEqual({
      kind: 'refused',
      refused: new Map([
        [0, 'unable to parse: bad timestamp'],
        [3, 'unable to parse: invalid number'],
      ]),
    });
  });

  it('field type conflict names a field and a type: the lines with that field of that type are refused', () => {
    const body = JSON.stringify({
      error:
        'partial write: field type conflict: input field "up" on measurement "m" is type float, already exists as type integer dropped=1',
    });
    expect(writeVerdict(400, body, lines)).toEqual({
      kind: 'refused',
      refused: new Map([[3, 'field type conflict: up is float, InfluxDB holds integer']]),
    });
  });

  it('3.x names refused lines by number', () => {
    const body = JSON.stringify({
      error: 'parsing failed for write_lp endpoint',
      data: [{ original_line: 'x', line_number: 3, error_message: 'invalid column type' }],
    });
    expect(writeVerdict(400, body, lines)).toEqual({ kind: 'refused', refused: new Map([[2, 'invalid column type']]) });
  });

  it('a 400 that names no line we sent is retried like a 5xx, never parked', () => {
    expect(writeVerdict(400, '{"error":"bad request"}\n', lines)).toEqual({
      kind: 'retry',
      reason: 'HTTP 400: bad request',
      retryAfterMs: undefined,
      unnamedBadRequest: true,
    });
    expect(writeVerdict(400, '', lines)).toMatchObject({ kind: 'retry' });
    expect(
      writeVerdict(400, JSON.stringify({ error: "unable to parse 'a line we never sent': bad" }), lines),
    ).toMatchObject({ kind: 'retry' });
    expect(
      writeVerdict(400, JSON.stringify({ error: 'partial write: unable to parse dropped=0' }), lines),
    ).toMatchObject({ kind: 'retry' });
  });

  it('points beyond the retention policy (dropped for good, none named): split to find them; limits an operator lifts: retried', () => {
    expect(
      writeVerdict(400, JSON.stringify({ error: 'partial write: points beyond retention policy dropped=2' }), lines),
    ).toEqual({ kind: 'split', reason: 'HTTP 400: partial write: points beyond retention policy dropped=2' });
    expect(
      writeVerdict(
        400,
        JSON.stringify({ error: 'partial write: max-values-per-tag limit exceeded (100000/100000) dropped=3' }),
        lines,
      ),
    ).toMatchObject({ kind: 'retry', unnamedBadRequest: true });
  });

  it('a field type conflict naming more lines than InfluxDB dropped (other shards took them) is split, not parked', () => {
    const twoFloats = [...lines, 'm,server=e up=2.5 5000'];
    const body = JSON.stringify({
      error:
        'partial write: field type conflict: input field "up" on measurement "m" is type float, already exists as type integer dropped=1',
    });
    expect(writeVerdict(400, body, twoFloats)).toEqual({
      kind: 'split',
      reason: expect.stringContaining('field type conflict'),
    });
  });

  it('Cloud names one refused line by `line`', () => {
    expect(writeVerdict(400, JSON.stringify({ code: 'invalid', line: 2, message: 'no field' }), lines)).toEqual({
      kind: 'refused',
      refused: new Map([[1, 'no field']]),
    });
  });

  it('413 halves, 429/5xx/401/404 retry and honour Retry-After', () => {
    expect(writeVerdict(413, '{"error":"Request Entity Too Large"}', lines)).toEqual({
      kind: 'too-large',
      reason: 'HTTP 413: Request Entity Too Large',
    });
    expect(writeVerdict(429, '', lines, '7')).toEqual({ kind: 'retry', reason: 'HTTP 429', retryAfterMs: 7_000 });
    expect(writeVerdict(503, 'upstream down', lines)).toEqual({
      kind: 'retry',
      reason: 'HTTP 503: upstream down',
      retryAfterMs: undefined,
    });
    expect(writeVerdict(401, '{"error":"authorization failed"}', lines)).toMatchObject({
      kind: 'retry',
      reason: 'HTTP 401: authorization failed',
    });
    expect(writeVerdict(404, '{"error":"database not found: \\"x\\""}', lines)).toMatchObject({ kind: 'retry' });
  });

  it('reads Retry-After as seconds or an HTTP date', () => {
    expect(retryAfterMs('2', 0)).toBe(2_000);
    expect(retryAfterMs('86400', 0)).toBe(60_000); // capped: a day's pause would stop forwarding for a day
    expect(retryAfterMs('Thu, 01 Jan 1970 00:00:05 GMT', 1_000)).toBe(4_000);
    expect(retryAfterMs('soon', 0)).toBeUndefined();
    expect(retryAfterMs(undefined, 0)).toBeUndefined();
  });
});

describe('line protocol read back', () => {
  const line = 'obs,check=-,location=waw,server=a\\ b,x=1\\,2 error="x \\"y, z=1",gap_ms=5i,up=1i 1000';
  it('splits series, measurement and fields as Point wrote them', () => {
    expect(seriesOf(line)).toBe('obs,check=-,location=waw,server=a\\ b,x=1\\,2');
    expect(measurementOf(line)).toBe('obs');
    expect(measurementOf('my\\,m,server=a up=1i 1')).toBe('my\\,m');
    expect([...fieldsOf(line)]).toEqual([
      ['error', '"x \\"y, z=1"'],
      ['gap_ms', '5i'],
      ['up', '1i'],
    ]);
  });
  it('types field values', () => {
    expect(['1i', '-3i', '2u', '"s"', 't', 'false', '1.5', '1'].map(fieldTypeOf)).toEqual([
      'integer',
      'integer',
      'unsigned',
      'string',
      'boolean',
      'boolean',
      'float',
      'float',
    ]);
  });
});
