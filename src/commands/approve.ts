// `uptime-credits approve --month YYYY-MM --draft-hash H --reason TEXT`: issues exactly the held draft a person
// reviewed (a close held for too little evidence, or a restatement that lowers a credit).
import type { Command } from 'commander';
import { cliActor } from '../close/month-closer.js';
import { describeCloseOutcome } from './close-output.js';
import { withMonthCloser } from './context.js';

/** Registers `approve`. */
export function registerApprove(program: Command): void {
  program
    .command('approve')
    .description('issue a month held for review, exactly as its reviewed draft shows')
    .requiredOption('-m, --month <YYYY-MM>', 'the month held for review')
    .requiredOption(
      '--draft-hash <hash>',
      'the hash of the reviewed draft (draft.json, or the message that held the month)',
    )
    .requiredOption('--reason <text>', 'why it may be issued (kept in the records and the journal)')
    .option('--json', 'print the outcome as JSON')
    .action(async (options: { month: string; draftHash: string; reason: string; json?: boolean }, command: Command) => {
      await withMonthCloser(command, async ({ config, closer }) => {
        const outcome = await closer.approve(options.month, {
          by: cliActor(),
          draftHash: options.draftHash,
          reason: options.reason,
        });
        const { lines, exitCode } = describeCloseOutcome(outcome, config.timeZone);
        process.stdout.write(options.json ? `${JSON.stringify(outcome, null, 2)}\n` : `${lines.join('\n')}\n`);
        process.exitCode = exitCode;
      });
    });
}
