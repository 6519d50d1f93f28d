// `uptime-credits rules`: the Prometheus rule file (and an Alertmanager routing example) for this configuration.
import { basename } from 'node:path';
import type { Command } from 'commander';
import { alertmanagerExampleText } from '../alerts/alertmanager.js';
import { DEFAULT_JOB, ruleFileText } from '../alerts/rules.js';
import { writeFileAtomic } from '../files.js';
import { createLogger } from '../logging.js';
import { configPathOf, loadCommandConfig } from './context.js';

/** Registers `rules`. */
export function registerRules(program: Command): void {
  program
    .command('rules')
    .description('write the Prometheus alert and recording rules for this configuration (stdout, or --out FILE)')
    .option('--out <file>', 'write the rule file here instead of stdout')
    .option('--job <name>', 'the Prometheus job that scrapes the daemons', DEFAULT_JOB)
    .option('--alertmanager-out <file>', 'also write an Alertmanager routing example for the tiers here')
    .action((options: { out?: string; job: string; alertmanagerOut?: string }, command: Command) => {
      const logger = createLogger();
      const config = loadCommandConfig(command, logger);
      const source = basename(configPathOf(command));
      const rules = ruleFileText(config, { job: options.job }, source);
      if (options.out === undefined) process.stdout.write(rules);
      else writeFileAtomic(options.out, rules);
      if (options.alertmanagerOut !== undefined)
        writeFileAtomic(options.alertmanagerOut, alertmanagerExampleText(config, source));
      if (options.out !== undefined)
        process.stderr.write(
          `wrote ${options.out}${options.alertmanagerOut === undefined ? '' : ` and ${options.alertmanagerOut}`}\n`,
        );
    });
}
