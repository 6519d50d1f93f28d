// The one owner of how the running month is read incrementally (store/incremental-runs.ts) by this daemon: the
// writers' settled mark, and when the kept runs must be forgotten (recompute on demand, another process wrote to
// the store). Every computation of the running month takes its read from here, whether the refresh or an API
// query asks, because they share the compute worker's one incremental source: a restart seen by one is a restart
// of that source for all.
import type { IncrementalRead } from '../close/month-computations.js';
import type { Logger } from '../logging.js';

export interface IncrementalReads {
  /**
   * Runs a computation of the running month with the next read: `compute` is called as soon as the read is known (so
   * the read carrying a restart is the first of them to reach the worker); when it fails, a restart it carried is
   * asked again of the next read.
   */
  withRead<T>(compute: (read: IncrementalRead) => Promise<T>): Promise<T>;
  /** The next read forgets the month's kept runs and reads it whole (POST /api/v1/month-to-date/recompute). */
  restartNext(): void;
}

/**
 * How many settled marks this process has taken (IncrementalRead.markTaken): one count for every IncrementalReads, so
 * that marks from two of them given to one computations service are still ordered.
 */
let marksTaken = 0;

export function createIncrementalReads(deps: {
  /** The writers' settled mark (settled-mark.ts). */
  settledThroughMs: () => Promise<number>;
  /**
   * When it changed, another process wrote to the store behind the settled mark's back (an import into the
   * embedded file), and the month is read whole again (ObservationStore.writesByOthersVersion). Asked on this
   * thread, not in the worker: this thread's connection sees only other connections' commits, the worker's own
   * read-only connection would see this process's writes too.
   */
  writesByOthersVersion?: () => number | undefined;
  logger: Logger;
}): IncrementalReads {
  let restart = false;
  let seenOthersVersion: number | undefined;
  // Marks are taken one at a time and numbered as each is taken, so that a later number is a later mark.
  let marking: Promise<unknown> = Promise.resolve();
  const takeMark = () => {
    const mark = marking.then(async () => ({
      settledThroughMs: await deps.settledThroughMs(),
      markTaken: ++marksTaken,
    }));
    marking = mark.catch(() => undefined);
    return mark;
  };
  const next = async (): Promise<IncrementalRead> => {
    const { settledThroughMs, markTaken } = await takeMark();
    // Taken after the await, so that the read carrying a restart is also the first of them to reach the worker.
    const othersVersion = deps.writesByOthersVersion?.();
    if (othersVersion !== seenOthersVersion) {
      if (seenOthersVersion !== undefined)
        deps.logger.info('another process wrote observations to the store: the month to date is read whole again');
      seenOthersVersion = othersVersion;
      restart = true;
    }
    const read = { settledThroughMs, markTaken, restart };
    restart = false;
    return read;
  };
  return {
    async withRead(compute) {
      const read = await next();
      try {
        return await compute(read);
      } catch (error) {
        if (read.restart) restart = true;
        throw error;
      }
    },
    restartNext() {
      restart = true;
    },
  };
}
