// What the incident and maintenance commands share: the record keeper over the closer, option parsing, output.
import type { Command } from 'commander';
import { createRecordKeeper, RecordInputError, type RecordChange, type RecordKeeper } from '../close/record-changes.js';
import { followUpJson } from '../close/record-json.js';
import { parseIsoInstantMs } from '../config/schema.js';
import type { AppConfig } from '../config/types.js';
import { RecordError } from '../state/operator-records.js';
import { CLOSE_EXIT, describeFollowUps } from './close-output.js';
import { withMonthCloser, type CloseContext } from './context.js';

/** An ISO time with an offset from an option, or an error naming the option. */
export function instantOption(option: string, text: string): number {
  const ms = parseIsoInstantMs(text);
  if (ms === undefined) throw new Error(`${option}: "${text}" is not an ISO-8601 time with an offset (e.g. 2026-10-03T02:00:00+02:00)`);
  return ms;
}

/** A record id from an argument, or an error naming it. */
export function idArgument(what: string, text: string): number {
  const id = Number(text);
  if (!Number.isSafeInteger(id) || id < 1) throw new Error(`${what}: "${text}" is not an id (a whole number, as \`list\` shows)`);
  return id;
}

/** Runs a change with the record keeper; the records' refusals become a message and exit code 2. */
export async function withRecordKeeper(command: Command, work: (keeper: RecordKeeper, context: CloseContext) => Promise<void>): Promise<void> {
  await withMonthCloser(command, async (context) => {
    const keeper = createRecordKeeper({ config: context.config, operatorRecords: context.operatorRecords, closer: context.closer });
    try {
      await work(keeper, context);
    } catch (error) {
      if (!(error instanceof RecordInputError) && !(error instanceof RecordError)) throw error;
      process.stderr.write(`uptime-credits: ${error.message}\n`);
      process.exitCode = CLOSE_EXIT.refused;
    }
  });
}

/** Prints a change: the record's own lines, then what became of each month, and sets the exit code. */
export function printChange(config: AppConfig, change: RecordChange<unknown>, recordLines: string[], json: unknown | undefined): void {
  const { lines, exitCode } = describeFollowUps(change.months, config.timeZone);
  process.stdout.write(json !== undefined ? `${JSON.stringify({ ...(json as object), months: change.months.map(followUpJson) }, null, 2)}\n` : `${[...recordLines, ...lines].join('\n')}\n`);
  process.exitCode = exitCode;
}
