// The close instance's delivery timer: every pass plans the e-mails of revisions issued since the last one (by this
// daemon or by a command) and sends what is due; a close that issues a revision asks for a pass at once. SMTP being
// down only delays messages (the deliverer retries them with backoff); it never stops the daemon.
import { systemClock, type Clock } from '../clock.js';
import type { Deliverer } from '../delivery/deliverer.js';
import type { Logger } from '../logging.js';

/** Time between passes (a revision issued by a command is mailed within this). */
export const DELIVERY_PASS_EVERY_MS = 15_000;

export interface DeliveryJob {
  start(): void;
  /** Asks for a pass now (after a close issued a revision). */
  wake(): void;
  /** Stops the timer and waits for a pass in progress. */
  stop(): Promise<void>;
}

export function createDeliveryJob(deps: {
  deliverer: Deliverer;
  logger: Logger;
  clock?: Clock;
  everyMs?: number;
  onPass?: () => void;
}): DeliveryJob {
  const clock = deps.clock ?? systemClock;
  const everyMs = deps.everyMs ?? DELIVERY_PASS_EVERY_MS;
  let timer: { cancel(): void } | undefined;
  let running: Promise<void> | undefined;
  let again = false;
  let stopped = true;

  const pass = async () => {
    try {
      deps.deliverer.planIssued();
      // Stopping ends the pass between messages, not after the whole queue.
      await deps.deliverer.send({}, () => stopped);
      deps.onPass?.();
    } catch (error) {
      deps.logger.error({ err: error }, 'the e-mail delivery pass failed');
    }
  };

  const run = (): void => {
    if (stopped) return;
    if (running !== undefined) {
      again = true;
      return;
    }
    timer?.cancel();
    running = pass().finally(() => {
      running = undefined;
      if (stopped) return;
      if (again) {
        again = false;
        run();
        return;
      }
      timer = clock.setTimeout(run, everyMs);
    });
  };

  return {
    start() {
      stopped = false;
      run();
    },
    wake: run,
    async stop() {
      stopped = true;
      timer?.cancel();
      await running;
    },
  };
}
