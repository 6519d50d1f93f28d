// Indexed reads whose index is known to be in range (a loop bound, a position found earlier). Under
// noUncheckedIndexedAccess such a read is `T | undefined`; `at` says what happens when the invariant is broken:
// it throws, naming what was missing, instead of carrying `undefined` into the arithmetic. No allocation on the
// happy path, so it may sit in hot loops.

/** `items[index]`, or a RangeError naming `what` when there is no such element. */
export function at<T>(items: ArrayLike<T>, index: number, what: string): T {
  const item = items[index];
  if (item === undefined) throw new RangeError(`${what}: no element at index ${index} (length ${items.length})`);
  return item;
}
