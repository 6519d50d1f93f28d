// `uptime-credits start`: runs the daemon until SIGTERM or SIGINT, then stops gracefully.
import { setFlagsFromString } from 'node:v8';
import type { Command } from 'commander';
import { createLogger } from '../logging.js';
import { startDaemon } from '../main.js';
import { loadCommandConfig } from './context.js';

/** How far V8 may grow the daemon's heap past what survived a full collection, in percent. */
const HEAP_GROWING_PERCENT = 100;

/** Registers `start`. */
export function registerStart(program: Command): void {
  program
    .command('start')
    .description('run the daemon: probe every covered server, store observations, serve /metrics')
    .action(async (_options: unknown, command: Command) => {
      // A process that runs for months with a steady live heap: after each full collection V8 may let the heap grow
      // to up to 4 times what survived; here to at most twice. V8 reads this at every collection, so setting it now
      // works, for the compute worker too (test/bench/README.md has the figures).
      setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
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
