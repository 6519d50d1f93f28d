// Bounded concurrency for batches of independent async work (a fleet's reads, a round of checks).

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
  for (let start = 0; start < items.length; start += sliceSize) {
    if (start > 0) await new Promise((resolve) => setImmediate(resolve));
    for (const item of items.slice(start, start + sliceSize)) fn(item);
  }
}
