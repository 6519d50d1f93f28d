// `uptime-credits import FILE.ndjson`: loads observations, one JSON object per line, into the configured store.
import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { InvalidArgumentError, type Command } from 'commander';
import { parseDurationMs } from '../config/schema.js';
import { createLogger, type Logger } from '../logging.js';
import type { AppConfig } from '../config/types.js';
import { INFLUXDB_TIME_RANGE, parseObservationLine, type ParseOptions } from '../store/observation-line.js';
import { createObservationStore } from '../store/create.js';
import type { ObservationStore } from '../store/store.js';
import type { Observation } from '../sla/types.js';
import { loadCommandConfig } from './context.js';
import { startImportProgress, type ImportProgress } from './import-progress.js';
import { MAX_LINE_BYTES, readBoundedLines } from './ndjson-lines.js';
import { forwardedThroughMs, IMPORT_AGENT } from '../agents/heartbeat.js';
import { influxHeartbeats } from '../agents/influx-heartbeats.js';
import { influxConnection } from '../store/influx/connection.js';

const BATCH = 5_000;
/** Without --wait, how long import gives InfluxDB to confirm what was written: enough for a healthy server. */
const CONFIRM_WAIT_MS = 5_000;
/** --wait without a duration. */
const DEFAULT_WAIT_MS = 5 * 60_000;
/** Conflicting lines named one by one on stderr; the count in the summary covers the rest. */
const CONFLICTS_NAMED = 10;
/** Some lines were not stored: rejected, conflicting with stored observations, or refused by InfluxDB. */
const EXIT_LINES_NOT_STORED = 2;
/** --wait ran out before InfluxDB confirmed everything imported (takes precedence over 2). */
const EXIT_NOT_CONFIRMED = 4;
const LINE_LIMIT = `${MAX_LINE_BYTES / 1_048_576} MiB (${MAX_LINE_BYTES} bytes)`;

interface NumberedObservation {
  lineNumber: number;
  observation: Observation;
}

interface ImportOptions {
  /** Milliseconds, or true for --wait without a value. */
  wait?: number | true;
}

/** --wait's value: whole seconds, or a duration such as 30s, 5m. */
function parseWaitMs(text: string): number {
  const ms = /^\d+$/.test(text.trim()) ? Number(text) * 1_000 : parseDurationMs(text);
  if (ms === undefined || !Number.isSafeInteger(ms)) {
    throw new InvalidArgumentError(
      `"${text}" is not a number of seconds nor a duration such as 30s, 5m (put the file before --wait)`,
    );
  }
  return ms;
}

/** Registers `import`. Exit code 0 when every line was stored or already there; see the EXIT_ constants. */
export function registerImport(program: Command): void {
  program
    .command('import')
    .description('import observations from an NDJSON file (one {"time","server","location","up"} object per line)')
    .argument('<file>', 'NDJSON file of observations')
    .option(
      '--wait [duration]',
      `InfluxDB only: wait until it confirmed every imported observation (default ${DEFAULT_WAIT_MS / 60_000}m); ` +
        `exit ${EXIT_NOT_CONFIRMED} if it did not`,
      parseWaitMs,
    )
    .action(async (file: string, options: ImportOptions, command: Command) => {
      const logger = createLogger();
      const config = loadCommandConfig(command, logger);
      const waitMs = options.wait === true ? DEFAULT_WAIT_MS : options.wait;
      // Check the file before opening the store, so a typo does not create an empty database.
      await access(file, constants.R_OK).catch((error: NodeJS.ErrnoException) => {
        throw new Error(error.code === 'ENOENT' ? `${file}: no such file` : `${file}: ${error.message}`, {
          cause: error,
        });
      });
      const fileBytes = (await stat(file)).size;
      const influx = config.storage.kind === 'influxdb';
      const parseOptions: ParseOptions = influx ? { timeRange: INFLUXDB_TIME_RANGE } : {};
      const startedMs = Date.now();
      const store = await createObservationStore(config, logger);
      const totals = { stored: 0, duplicates: 0, conflicts: 0, rejected: 0 };
      const conflictLines: { lineNumber: number; text: string }[] = [];
      let conflictLookupFailed = false;
      let timeRange: { fromMs: number; toMs: number } | undefined;
      let batch: NumberedObservation[] = [];
      const flush = async () => {
        if (batch.length === 0) return;
        const result = await store.write(batch.map((b) => b.observation));
        totals.stored += result.stored;
        totals.duplicates += result.duplicates;
        totals.conflicts += result.conflicts;
        if (result.conflicts > 0 && conflictLines.length < CONFLICTS_NAMED && !conflictLookupFailed) {
          try {
            const named = await findConflicts(store, file, batch, CONFLICTS_NAMED - conflictLines.length);
            conflictLines.push(...named);
          } catch (error) {
            // Naming them is a courtesy: the count is in the summary, and the store logged each one.
            conflictLookupFailed = true;
            logger.warn({ err: error }, 'cannot read the stored observations to name the conflicting lines');
          }
        }
        batch = [];
      };
      let confirmation: Confirmation | undefined;
      let progress: ImportProgress | undefined;
      try {
        const parkedBefore = store.health().parked;
        const sources = { stored: () => totals.stored, ...(influx ? { health: () => store.health() } : {}) };
        const shown = startImportProgress(file, fileBytes, sources);
        progress = shown;
        for await (const line of readBoundedLines(file, { onRead: (bytes) => shown.read(bytes) })) {
          shown.reached(line.lineNumber);
          if ('tooLongBytes' in line) {
            totals.rejected++;
            const reason = `line is ${line.tooLongBytes} bytes, longer than the limit of ${LINE_LIMIT}; skipped`;
            shown.note(`${file}:${line.lineNumber}: ${reason}`);
            continue;
          }
          if (line.text.trim() === '') continue;
          const parsed = parseObservationLine(line.text, config.servers, config.probing.location, parseOptions);
          if (!parsed.ok) {
            totals.rejected++;
            shown.note(`${file}:${line.lineNumber}: ${parsed.reason}`);
            continue;
          }
          const timeMs = parsed.observation.timeMs;
          timeRange = timeRange
            ? { fromMs: Math.min(timeRange.fromMs, timeMs), toMs: Math.max(timeRange.toMs, timeMs + 1) }
            : { fromMs: timeMs, toMs: timeMs + 1 };
          batch.push({ lineNumber: line.lineNumber, observation: parsed.observation });
          if (batch.length >= BATCH) await flush();
        }
        await flush();
        if (influx) {
          shown.awaitingConfirmation();
          // Without --wait, give a healthy InfluxDB a moment; one that reports a problem will not confirm in it.
          const wait =
            waitMs === undefined
              ? { timeoutMs: CONFIRM_WAIT_MS, untilRemoteProblem: true }
              : { timeoutMs: waitMs, untilRemoteProblem: false };
          const observations = totals.stored + totals.duplicates;
          confirmation = await awaitConfirmation(store, timeRange, wait, observations, parkedBefore);
          if (timeRange) await announceImport(config, store, timeRange.fromMs, startedMs, logger);
        }
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        const message = code === 'ENOENT' ? `${file}: no such file` : `${file}: ${(error as Error).message}`;
        throw new Error(message, { cause: error });
      } finally {
        progress?.stop();
        await store.close();
      }

      const outboxPath = config.storage.path;
      process.exitCode = printOutcome({ file, outboxPath, waitMs, totals, conflictLines, confirmation });
      // Last, on stderr: scripts keep stdout's summary to parse, a person sees how long it took either way.
      process.stderr.write(`${progress.summary()}\n`);
    });
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** Prints the summary line (stdout) and what needs attention (stderr); returns the exit code. */
function printOutcome(outcome: {
  file: string;
  outboxPath: string;
  waitMs: number | undefined;
  totals: { stored: number; duplicates: number; conflicts: number; rejected: number };
  conflictLines: { lineNumber: number; text: string }[];
  confirmation: Confirmation | undefined;
}): number {
  const { file, outboxPath, waitMs, conflictLines, confirmation } = outcome;
  const { stored, duplicates, conflicts, rejected } = outcome.totals;
  let summary = `imported ${stored}, duplicates ${duplicates}, conflicts ${conflicts}, rejected ${rejected}`;
  if (confirmation) {
    summary += `; confirmed by InfluxDB: ${confirmation.confirmed}, waiting in the outbox: ${confirmation.waiting}`;
    if (confirmation.refused > 0) summary += `, refused by InfluxDB: ${confirmation.refused}`;
  }
  process.stdout.write(`${summary}\n`);
  const say = (message: string) => process.stderr.write(`uptime-credits: ${message}\n`);
  if (conflicts > 0) {
    const lines = conflicts === 1 ? '1 line has' : `${conflicts} lines have`;
    say(
      `${lines} the key (server, location, check, time) of a stored observation but another outcome; the stored values stay`,
    );
    for (const { text } of conflictLines.sort((a, b) => a.lineNumber - b.lineNumber)) process.stderr.write(`${text}\n`);
    if (conflicts > conflictLines.length)
      say(`${plural(conflicts - conflictLines.length, 'more conflicting line')} not named here`);
  }
  if (confirmation && confirmation.refused > 0) {
    const refused = plural(confirmation.refused, 'observation');
    say(`InfluxDB refused ${refused}; they are parked in the outbox ${outboxPath} (the log has InfluxDB's reasons)`);
  }
  if (confirmation?.timeRange && confirmation.waitingInRange > 0) {
    const { fromMs, toMs } = confirmation.timeRange;
    const range = `${new Date(fromMs).toISOString()} to ${new Date(toMs - 1).toISOString()}`;
    const why = confirmation.remoteProblem ? ` (${confirmation.remoteProblem})` : '';
    const waited = waitMs === undefined ? 'yet' : `within ${waitMs / 1_000} s`;
    say(
      `InfluxDB has not confirmed ${plural(confirmation.waitingInRange, 'observation')} from ${range} ${waited}${why}; they stay in the ` +
        `outbox ${outboxPath}, and the daemon (uptime-credits start) or \`uptime-credits import ${file} --wait\` forwards them`,
    );
    if (waitMs !== undefined) return EXIT_NOT_CONFIRMED;
  }
  return rejected + conflicts + (confirmation?.refused ?? 0) > 0 ? EXIT_LINES_NOT_STORED : 0;
}

/**
 * Where the file's observations are after writing, as far as InfluxDB confirmed them. They are the imported ones
 * and the duplicates: a repeated import (`--wait` after InfluxDB was down) shows the earlier lines confirmed.
 */
interface Confirmation {
  /** The file's observations InfluxDB holds: the others minus waiting and refused ones. */
  confirmed: number;
  /** The file's observations still waiting in the outbox (waitingInRange, at most their number). */
  waiting: number;
  /** Observations InfluxDB refused by name while this command ran (parked in the outbox). */
  refused: number;
  /**
   * Observations waiting in the outbox with a time in the imported range. It includes any line of the same range
   * that waited before (a repeated import of a file InfluxDB never confirmed) or that a daemon sharing the outbox
   * queued meanwhile, which is what --wait has to see forwarded.
   */
  waitingInRange: number;
  /** The imported time range, [fromMs, toMs); none when no line was taken. */
  timeRange?: { fromMs: number; toMs: number };
  remoteProblem?: string;
}

/**
 * Gives InfluxDB up to `wait.timeoutMs` (less when `untilRemoteProblem` and the store reports a problem) to confirm
 * the observations in `timeRange` ([fromMs, toMs)), then counts what still waits. Counted by time range, because
 * the outbox does not say which of its lines this import queued.
 */
/**
 * Tells the other processes on this InfluxDB that observations arrived: a heartbeat as agent `import`, its `written`
 * moving their cached month answers on, and its forwarded-through mark at the earliest imported time, so that a
 * month-to-date view which had settled past it reads from there again (for as long as the heartbeat is fresh).
 */
async function announceImport(
  config: AppConfig,
  store: ObservationStore,
  earliestImportedMs: number,
  startedMs: number,
  logger: Logger,
): Promise<void> {
  if (!config.storage.influxdb) return;
  const heartbeats = influxHeartbeats(influxConnection(config.storage.influxdb));
  try {
    const health = store.health();
    const nowMs = Date.now();
    await heartbeats.write({
      agent: IMPORT_AGENT,
      location: IMPORT_AGENT,
      shard: '1/1',
      forwardedThroughMs: forwardedThroughMs(nowMs, earliestImportedMs, store.earliestUnconfirmedMs()),
      written: health.confirmedTotal,
      parked: health.parked,
      startedMs,
      atMs: nowMs,
    });
  } catch (error) {
    // The observations are stored either way; other processes then see them at their next full recompute.
    logger.warn({ err: error }, 'cannot write the import heartbeat; cached month answers elsewhere may lag');
  } finally {
    await heartbeats.close();
  }
}

async function awaitConfirmation(
  store: ObservationStore,
  timeRange: { fromMs: number; toMs: number } | undefined,
  wait: { timeoutMs: number; untilRemoteProblem: boolean },
  observations: number,
  parkedBefore: number,
): Promise<Confirmation> {
  let waitingInRange = 0;
  if (timeRange) {
    const deadlineMs = Date.now() + wait.timeoutMs;
    for (;;) {
      waitingInRange = (await store.unconfirmed(timeRange.fromMs, timeRange.toMs)).waiting;
      const leftMs = deadlineMs - Date.now();
      const remoteDown = wait.untilRemoteProblem && store.health().remoteProblem !== undefined;
      if (waitingInRange === 0 || leftMs <= 0 || remoteDown) break;
      // drain() waits for the whole outbox; a daemon may keep adding to it, so look at our range every 250 ms.
      await store.drain(Math.min(leftMs, 250));
    }
  }
  const health = store.health();
  const waiting = Math.min(waitingInRange, observations);
  const refused = Math.max(0, Math.min(health.parked - parkedBefore, observations - waiting));
  const confirmation: Confirmation = { confirmed: observations - waiting - refused, waiting, refused, waitingInRange };
  if (timeRange) confirmation.timeRange = timeRange;
  if (health.remoteProblem !== undefined) confirmation.remoteProblem = health.remoteProblem;
  return confirmation;
}

const keyOf = (o: Observation) => `${o.server}\u0000${o.location}\u0000${o.check}\u0000${o.timeMs}`;
const outcomeOf = (o: Observation) => JSON.stringify({ up: o.up, latencyMs: o.latencyMs, error: o.error });

/**
 * Names the lines of a written batch whose key the store holds with another outcome (at most `limit`), by reading
 * the stored observations back: WriteResult only counts conflicts. A key the store cannot show yet (waiting for
 * InfluxDB) is not named.
 */
async function findConflicts(
  store: ObservationStore,
  file: string,
  batch: readonly NumberedObservation[],
  limit: number,
): Promise<{ lineNumber: number; text: string }[]> {
  const byServer = new Map<string, NumberedObservation[]>();
  for (const item of batch) {
    const items = byServer.get(item.observation.server);
    if (items) items.push(item);
    else byServer.set(item.observation.server, [item]);
  }
  const found: { lineNumber: number; text: string }[] = [];
  for (const [server, items] of byServer) {
    let fromMs = Infinity;
    let toMs = -Infinity;
    for (const { observation } of items) {
      fromMs = Math.min(fromMs, observation.timeMs);
      toMs = Math.max(toMs, observation.timeMs + 1);
    }
    const held = new Map((await store.readObservations(server, fromMs, toMs)).map((o) => [keyOf(o), o]));
    for (const { lineNumber, observation } of items) {
      const stored = held.get(keyOf(observation));
      if (!stored || outcomeOf(stored) === outcomeOf(observation)) continue;
      const check = observation.check ? `, check ${observation.check}` : '';
      const where = `${server} at ${observation.location}${check}, ${new Date(observation.timeMs).toISOString()}`;
      const values = `stored ${outcomeOf(stored)}, this line ${outcomeOf(observation)}`;
      const text = `${file}:${lineNumber}: conflicts with the stored observation of ${where}: ${values}; the stored one stays`;
      found.push({ lineNumber, text });
      if (found.length >= limit) return found;
    }
  }
  return found;
}
