// A gzip member joined from parts deflated apart must be the parts' texts in order to any gzip reader: node's zlib
// and GNU gzip here (Prometheus reads it with Go's compress/gzip). The CRC-32 combination must equal the CRC-32 of
// the joined text, which zlib computes directly.
import { spawnSync } from 'node:child_process';
import { crc32, gunzipSync } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { crc32Combine, deflatePart, gzipMember } from '../../../src/metrics/gzip-parts.js';

/** Texts that compress well (repeated lines) and badly (random bytes), empty ones among them. */
const text = fc.oneof(
  fc.uint8Array({ maxLength: 3_000 }),
  fc
    .tuple(fc.constantFrom('probe_success{server="a"} 1\n', 'zażółć gęślą jaźń\n', ''), fc.nat({ max: 4_000 }))
    .map(([line, times]) => new TextEncoder().encode(line.repeat(times))),
);

describe('gzip parts', () => {
  it('combines CRC-32s into the CRC-32 of the joined bytes', () => {
    fc.assert(
      fc.property(text, text, (a, b) => {
        expect(crc32Combine(crc32(a), crc32(b), b.length)).toBe(crc32(Buffer.concat([a, b])));
      }),
      { numRuns: 500 },
    );
    // Parts of megabytes, as a page of a large fleet's family is: more of the length's bits in play.
    const long = Buffer.from('uptime_credits_sla_eligible_seconds{customer="c",server="s"} 172800\n'.repeat(60_000));
    for (const at of [1, 65_536, 1_000_003, long.length - 1])
      expect(crc32Combine(crc32(long.subarray(0, at)), crc32(long.subarray(at)), long.length - at)).toBe(crc32(long));
  });

  it("joins parts into one gzip member whose text is the parts' texts in order", () => {
    fc.assert(
      fc.property(fc.array(text, { maxLength: 8 }), (texts) => {
        const member = Buffer.concat(gzipMember(texts.map(deflatePart)));
        expect(gunzipSync(member).equals(Buffer.concat(texts))).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('is read whole by GNU gzip, which checks the CRC-32 and length', () => {
    const texts = ['# HELP m help\n# TYPE m gauge\n', 'm{server="a"} 1\n'.repeat(5_000), '', 'm{server="ü"} NaN\n'];
    const member = Buffer.concat(gzipMember(texts.map((t) => deflatePart(Buffer.from(t)))));
    const result = spawnSync('gzip', ['--decompress', '--stdout'], { input: member });
    expect(result.stderr.toString()).toBe('');
    expect(result.status).toBe(0);
    expect(result.stdout.toString()).toBe(texts.join(''));
    // A byte of the text changed after its CRC was taken: gzip refuses it, so the trailer is checked.
    const bad = Buffer.concat(gzipMember([{ ...deflatePart(Buffer.from('x')), crc: crc32('y') }]));
    expect(spawnSync('gzip', ['--decompress', '--stdout'], { input: bad }).status).not.toBe(0);
  });
});
