import { describe, expect, it } from 'vitest';
import { createComputeTurns } from '../../../src/http/month-queries.js';

describe('compute turns', () => {
  it('gives each client one computation per 1/perSecond seconds, and says how long until the next', () => {
    let now = 10_000;
    const turns = createComputeTurns(2, () => now);
    expect(turns.take('token alice')).toBeUndefined();
    expect(turns.take('token alice')).toBe(500);
    expect(turns.take('token bob')).toBeUndefined();
    now += 499;
    expect(turns.take('token alice')).toBe(1);
    now += 1;
    expect(turns.take('token alice')).toBeUndefined();
    // A refused ask does not push the next turn back: no burst is saved up either.
    now += 10_000;
    expect(turns.take('token alice')).toBeUndefined();
    expect(turns.take('token alice')).toBe(500);
  });
});
