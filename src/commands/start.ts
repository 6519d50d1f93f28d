// `uptime-credits start`: runs the daemon until SIGTERM or SIGINT, then stops gracefully.
import type { Command } from 'commander';
import { createLogger } from '../logging.js';
import { startDaemon } from '../main.js';
import { loadCommandConfig } from './context.js';

/** Registers `start`. */
export function registerStart(program: Command): void {
  program
    .command('start')
    .description('run the daemon: probe every covered server, store observations, serve /metrics')
    .action(async (_options: unknown, command: Command) => {
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
