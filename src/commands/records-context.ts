// What the incident and maintenance commands share: the record keeper over the closer, option parsing, output.
import type { Command } from 'commander';
import { createRecordKeeper, RecordInputError, type RecordChange, type RecordKeeper } from '../close/record-changes.js';
import { followUpJson } from '../close/record-json.js';
import { parseInstant } from '../config/schema.js';
import type { AppConfig } from '../config/types.js';
import { monthWindow } from '../sla/month.js';
import { RecordError, type RecordQuery } from '../state/operator-records.js';
import { CLOSE_EXIT, describeFollowUps } from './close-output.js';
import { withMonthCloser, type CloseContext } from './context.js';

/** An ISO time with an offset from an option, or an error naming the option. */
export function instantOption(option: string, text: string): number {
  const parsed = parseInstant(text);
  if ('problem' in parsed) throw new Error(`${option}: ${parsed.problem}`);
  return parsed.ms;
}

/** The records a `list` asks for: those touching the month (all without one), of one server or all. */
export function recordQuery(config: AppConfig, options: { month?: string; server?: string }): RecordQuery {
  const window = options.month ? monthWindow(options.month, config.timeZone) : undefined;
  return {
    ...(window ? { fromMs: window.fromMs, toMs: window.toMs } : {}),
    ...(options.server ? { servers: [options.server] } : {}),
  };
}

/** A record id from an argument, or an error naming it. */
export function idArgument(what: string, text: string): number {
  const id = Number(text);
  if (!Number.isSafeInteger(id) || id < 1)
    throw new Error(`${what}: "${text}" is not an id (a whole number, as \`list\` shows)`);
  return id;
}

/** Runs a change with the record keeper; the records' refusals become a message and exit code 2. */
export async function withRecordKeeper(
  command: Command,
  work: (keeper: RecordKeeper, context: CloseContext) => Promise<void>,
): Promise<void> {
  await withMonthCloser(command, async (context) => {
    const keeper = createRecordKeeper({
      config: context.config,
      operatorRecords: context.operatorRecords,
      closer: context.closer,
    });
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
export function printChange(
  config: AppConfig,
  change: RecordChange<unknown>,
  recordLines: string[],
  json: unknown | undefined,
): void {
  const { lines, exitCode } = describeFollowUps(change.months, config.timeZone);
  process.stdout.write(
    json !== undefined
      ? `${JSON.stringify({ ...(json as object), months: change.months.map(followUpJson) }, null, 2)}\n`
      : `${[...recordLines, ...lines].join('\n')}\n`,
  );
  process.exitCode = exitCode;
}
