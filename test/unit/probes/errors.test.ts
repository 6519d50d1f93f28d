import { describe, expect, it } from 'vitest';
import { classifyProbeError } from '../../../src/probes/errors.js';

const coded = (code: string) => Object.assign(new Error(code), { code });

describe('classifyProbeError', () => {
  it("classes this host's own errors as local (never downtime), the target's by kind", () => {
    for (const code of ['EMFILE', 'ENFILE', 'EADDRNOTAVAIL', 'ENOBUFS', 'ENOMEM'])
      expect(classifyProbeError(coded(code), false)).toBe('local');
    expect(classifyProbeError(new TypeError('fetch failed', { cause: coded('EMFILE') }), false)).toBe('local');
    expect(classifyProbeError(coded('ECONNREFUSED'), false)).toBe('refused');
    expect(classifyProbeError(coded('ECONNRESET'), false)).toBe('network');
    expect(classifyProbeError(coded('UND_ERR_HEADERS_TIMEOUT'), false)).toBe('timeout');
    expect(classifyProbeError(coded('ECONNREFUSED'), true)).toBe('timeout');
  });
});
