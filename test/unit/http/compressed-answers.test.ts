import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { contentCodingFor, gzipOf } from '../../../src/http/compressed-answers.js';

describe('answers compressed for the clients that accept it', () => {
  it('chooses gzip when Accept-Encoding accepts it, identity otherwise', () => {
    for (const header of ['gzip', 'gzip, deflate, br', 'deflate, gzip;q=0.5', '*', 'br;q=1, *;q=0.2', 'GZIP', 'x-gzip'])
      expect(contentCodingFor(header), header).toBe('gzip');
    for (const header of [undefined, '', 'identity', 'deflate, br', 'gzip;q=0', 'gzip;q=0, identity', 'br, *;q=0'])
      expect(contentCodingFor(header), String(header)).toBe('identity');
    // Identity preferred over gzip by quality.
    expect(contentCodingFor('identity, gzip;q=0.5')).toBe('identity');
  });

  it('compresses each answer once, whatever the number of clients, and the bytes inflate to the answer', async () => {
    const answer = new TextEncoder().encode(JSON.stringify({ servers: Array.from({ length: 2_000 }, (_, i) => i) }));
    const first = gzipOf(answer);
    expect(gzipOf(answer)).toBe(first);
    const compressed = await first;
    expect(gunzipSync(compressed).equals(Buffer.from(answer))).toBe(true);
    expect(compressed.length).toBeLessThan(answer.length / 2);
    // Equal bytes in another object are another answer (kept per object, as its entity tag is).
    const copy = Uint8Array.from(answer);
    expect(gzipOf(copy)).not.toBe(first);
    expect(gunzipSync(await gzipOf(copy)).equals(Buffer.from(answer))).toBe(true);
  });
});
