// `uptime-credits start`: runs the daemon until SIGTERM or SIGINT, then stops gracefully.
import { setFlagsFromString } from 'node:v8';
import type { Command } from 'commander';
import { createLogger } from '../logging.js';
import { startDaemon } from '../main.js';
import { loadCommandConfig } from './context.js';

/**
 * V8 settings for a process that runs for months with a steady live heap, set at run time (V8 reads them at every
 * full collection, in the compute worker too). test/bench/README.md has the figures.
 * - The heap may grow past what survived a full collection by this much, not up to 4 times.
 * - Every full collection compacts: the survivors are moved together and the emptied pages returned, where V8's
 *   own choice left the old generation about twice its live size in partly used pages.
 * - No allocation is moved to the old generation ahead of time on V8's guess that it will live long. Under load V8
 *   came to allocate the probes' short-lived objects (undici's requests, their headers) there, and the old generation
 *   grew ~10 MB/s, a full collection every ~6.5 s; without, ~4.7 MB/s and one every ~8.5 s.
 */
export const HEAP_FLAGS = [
  '--heap-growing-percent=100',
  '--compact-on-every-full-gc',
  '--no-allocation-site-pretenuring',
];

/** Registers `start`. */
export function registerStart(program: Command): void {
  program
    .command('start')
    .description('run the daemon: probe every covered server, store observations, serve /metrics')
    .action(async (_options: unknown, command: Command) => {
      for (const flag of HEAP_FLAGS) setFlagsFromString(flag);
      const logger = createLogger();
      const config = loadCommandConfig(command, logger);
      const daemon = await startDaemon({ config, logger });
      await new Promise<void>((resolve) => {
        const onSignal = (signal: NodeJS.Signals) => {
          logger.info({ signal }, 'stopping');
          process.off('SIGTERM', onSignal);
          process.off('SIGINT', onSignal);
          resolve();
        };
        process.on('SIGTERM', onSignal);
        process.on('SIGINT', onSignal);
      });
      await daemon.stop();
    });
}
