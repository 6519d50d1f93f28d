// Bounded concurrency for batches of independent async work (a fleet's reads, a round of checks), fleet-sized
// loops cut into slices, and waits a stop cuts short.
import { setImmediate as nextTurn } from 'node:timers/promises';

/** Maps `items` through `fn` with at most `limit` calls in flight; results keep the items' order. */
export async function mapWithLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array(items.length);
  // One iterator shared by the workers: each takes the next item when its previous call is done.
  const queue = items.entries();
  const worker = async () => {
    for (const [index, item] of queue) results[index] = await fn(item, index);
  };
  await Promise.all(Array.from({ length: Math.min(Math.max(1, limit), items.length) }, worker));
  return results;
}

/**
 * Calls `fn` on each item, `sliceSize` at a time, letting the event loop run between slices (timers, sockets): a
 * fleet-sized loop on the daemon's thread then holds a probe or a scrape for two slices at most.
 */
export async function forEachInSlices<T>(items: readonly T[], sliceSize: number, fn: (item: T) => void): Promise<void> {
  await forEachSlice(items, sliceSize, (slice) => {
    for (const item of slice) fn(item);
  });
}

/** As forEachInSlices, with `fn` given each slice whole (for work done once per slice). */
export async function forEachSlice<T>(items: readonly T[], sliceSize: number, fn: (slice: T[]) => void): Promise<void> {
  let first = true;
  for (const slice of slicesOf(items, sliceSize)) {
    if (!first) await nextTurn();
    first = false;
    fn(slice);
  }
}

/** `items` in consecutive slices of `sliceSize` (the last may be shorter); none for no items. */
export function* slicesOf<T>(items: readonly T[], sliceSize: number): Generator<T[]> {
  for (let start = 0; start < items.length; start += sliceSize) yield items.slice(start, start + sliceSize);
}

/**
 * `work`'s result, or a rejection with the signal's reason as soon as it aborts. The work itself goes on (its result
 * or failure is then dropped): for work that cannot be cancelled, which whoever stops also ends (a computation in
 * the compute worker, which the daemon's stop terminates).
 */
export function unlessAborted<T>(work: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return work;
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

/** Whether `error` is `signal`'s own abort (as unlessAborted rejects with), not a failure that came meanwhile. */
export function isAbortOf(signal: AbortSignal | undefined, error: unknown): boolean {
  return signal?.aborted === true && error === signal.reason;
}
