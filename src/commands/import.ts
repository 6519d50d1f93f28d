// `uptime-credits import FILE.ndjson`: loads observations, one JSON object per line, into the configured store.
import { constants, createReadStream } from 'node:fs';
import { access } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import type { Command } from 'commander';
import { createLogger } from '../logging.js';
import { parseObservationLine } from '../store/observation-line.js';
import { createObservationStore } from '../store/create.js';
import type { Observation } from '../sla/types.js';
import { loadCommandConfig } from './context.js';

const BATCH = 5_000;

/** Registers `import`. Exit code 0 when every line was stored or already there, 2 when some lines were rejected. */
export function registerImport(program: Command): void {
  program
    .command('import')
    .description('import observations from an NDJSON file (one {"time","server","location","up"} object per line)')
    .argument('<file>', 'NDJSON file of observations')
    .option('-c, --config <path>', 'configuration file')
    .action(async (file: string, _options: unknown, command: Command) => {
      const logger = createLogger();
      const config = loadCommandConfig(command, logger);
      // Check the file before opening the store, so a typo does not create an empty database.
      await access(file, constants.R_OK).catch((error: NodeJS.ErrnoException) => {
        throw new Error(error.code === 'ENOENT' ? `${file}: no such file` : `${file}: ${error.message}`, { cause: error });
      });
      const store = await createObservationStore(config, logger);
      let stored = 0;
      let duplicates = 0;
      let rejected = 0;
      let batch: Observation[] = [];
      const flush = async () => {
        if (batch.length === 0) return;
        const result = await store.write(batch);
        stored += result.stored;
        duplicates += result.duplicates;
        batch = [];
      };
      try {
        const lines = createInterface({ input: createReadStream(file, { encoding: 'utf8' }), crlfDelay: Infinity });
        let lineNumber = 0;
        for await (const line of lines) {
          lineNumber++;
          if (line.trim() === '') continue;
          const parsed = parseObservationLine(line, config.servers, config.probing.location);
          if (!parsed.ok) {
            rejected++;
            process.stderr.write(`${file}:${lineNumber}: ${parsed.reason}\n`);
            continue;
          }
          batch.push(parsed.observation);
          if (batch.length >= BATCH) await flush();
        }
        await flush();
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        throw new Error(code === 'ENOENT' ? `${file}: no such file` : `${file}: ${(error as Error).message}`, { cause: error });
      } finally {
        await store.close();
      }
      process.stdout.write(`imported ${stored}, duplicates ${duplicates}, rejected ${rejected}\n`);
      if (rejected > 0) process.exitCode = 2;
    });
}
