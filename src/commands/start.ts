// `uptime-credits start`: runs the daemon until SIGTERM or SIGINT, then stops gracefully.
import { setFlagsFromString } from 'node:v8';
import type { Command } from 'commander';
import { createLogger } from '../logging.js';
import { startDaemon } from '../main.js';
import { loadCommandConfig } from './context.js';
import { HEAP_FLAGS, missingMallocSettings, missingNodeFlags } from './process-settings.js';

/** Registers `start`. */
export function registerStart(program: Command): void {
  program
    .command('start')
    .description('run the daemon: probe every covered server, store observations, serve /metrics')
    .action(async (_options: unknown, command: Command) => {
      for (const flag of HEAP_FLAGS) setFlagsFromString(flag);
      const logger = createLogger();
      const missing = missingMallocSettings(process.env, process.platform);
      if (missing.length > 0)
        logger.info(
          { missing },
          'the allocator settings npm start and the Docker image use are not in the environment: expect ~90 MiB more resident memory at 10,000 servers (README, Memory and threads)',
        );
      const missingFlags = missingNodeFlags(process.execArgv, process.env.NODE_OPTIONS);
      if (missingFlags.length > 0)
        logger.info(
          { missing: missingFlags },
          "node options npm start and the Docker image give are not on node's command line: expect slower scrapes and probes on a machine with busy cores (README, Memory and threads)",
        );
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
