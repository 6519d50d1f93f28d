import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { entityTagOf, ifNoneMatchNames } from '../../../src/http/entity-tags.js';

describe('entity tags of byte answers', () => {
  it('is the quoted base64url SHA-256 of the bytes, equal for equal bytes in another object', () => {
    const bytes = new TextEncoder().encode('{"month":"2026-10"}');
    const expected = `"${createHash('sha256').update('{"month":"2026-10"}').digest('base64url')}"`;
    expect(entityTagOf(bytes)).toBe(expected);
    expect(entityTagOf(Uint8Array.from(bytes))).toBe(expected);
    expect(entityTagOf(new TextEncoder().encode('{"month":"2026-11"}'))).not.toBe(expected);
  });

  it('gives the gzip representation its own tag: the same hash with -gzip', () => {
    const bytes = new TextEncoder().encode('{"month":"2026-10"}');
    const hash = createHash('sha256').update('{"month":"2026-10"}').digest('base64url');
    expect(entityTagOf(bytes, 'gzip')).toBe(`"${hash}-gzip"`);
    expect(entityTagOf(bytes, 'identity')).toBe(`"${hash}"`);
    expect(entityTagOf(bytes)).toBe(`"${hash}"`);
  });

  it('matches If-None-Match by the weak comparison: "*", the tag, W/ the tag, the tag anywhere in a list', () => {
    const tag = '"abc"';
    for (const header of ['*', ' * ', '"abc"', 'W/"abc"', '"x", "abc"', '"x",W/"abc" ', '"a,b", "abc"'])
      expect(ifNoneMatchNames(header, tag), header).toBe(true);
    for (const header of [undefined, '', '"ab"', '"abcd"', 'abc', '"a,b"', '"x", "y"', '**', 'W/abc'])
      expect(ifNoneMatchNames(header, tag), String(header)).toBe(false);
    // A comma inside an opaque string does not split it.
    expect(ifNoneMatchNames('"a,b"', '"a,b"')).toBe(true);
    expect(ifNoneMatchNames('"a,b"', '"b"')).toBe(false);
  });
});
