// `uptime-credits outbox`: what waits in the local outbox for InfluxDB, and what InfluxDB refused by name and is
// parked; `--retry` queues the parked lines again once their cause is fixed (and waits for them to be sent).
import type { Command } from 'commander';
import { DateTime } from 'luxon';
import { createLogger } from '../logging.js';
import { openEmbeddedDatabase } from '../store/embedded/database.js';
import { influxConnection } from '../store/influx/connection.js';
import { OutboxedInfluxStore } from '../store/influx/influx-store.js';
import { InfluxOutbox } from '../store/influx/outbox.js';
import { formatTextTable } from '../text-table.js';
import { loadCommandConfig } from './context.js';

interface OutboxOptions {
  retry?: boolean;
  wait: string;
  limit: string;
  json?: boolean;
}

/** Registers `outbox`. Exit 0; with --retry, 4 when lines still wait or were parked again after --wait seconds. */
export function registerOutbox(program: Command): void {
  program
    .command('outbox')
    .description(
      'show the observations waiting for InfluxDB and those it refused (parked); --retry sends the parked ones again',
    )
    .option('--retry', 'queue the parked observations again and wait for InfluxDB to take them')
    .option('--wait <seconds>', 'with --retry: how long to wait for InfluxDB', '30')
    .option('--limit <n>', 'parked observations to list', '20')
    .option('--json', 'print JSON')
    .action(async (options: OutboxOptions, command: Command) => {
      const logger = createLogger();
      const config = loadCommandConfig(command, logger);
      const influx = config.storage.influxdb;
      if (config.storage.kind !== 'influxdb' || !influx) {
        process.stdout.write(
          `the embedded store has no outbox: observations are written to ${config.storage.path} directly\n`,
        );
        return;
      }
      const limit = Number.parseInt(options.limit, 10);
      if (!Number.isInteger(limit) || limit < 0) throw new Error(`--limit: "${options.limit}" is not a whole number`);
      const waitSeconds = Number(options.wait);
      if (!Number.isFinite(waitSeconds) || waitSeconds < 0)
        throw new Error(`--wait: "${options.wait}" is not a number of seconds`);
      if (options.retry) {
        const store = OutboxedInfluxStore.open(config.storage.path, influxConnection(influx), logger, {
          batchSize: influx.batchSize,
          gapFloorMs: config.availability.staleAfterMs,
        });
        const outbox = store.queue;
        const requeued = outbox.retryParked(Date.now());
        const drained = await store.drain(waitSeconds * 1_000);
        const parkedAgain = outbox.parkedCount();
        await store.close();
        process.stdout.write(
          `queued ${requeued} parked observations again; ${drained ? 'the outbox is empty' : 'some still wait for InfluxDB'}; parked now: ${parkedAgain}\n`,
        );
        if (!drained || parkedAgain > 0) process.exitCode = 4;
      }
      const outbox = new InfluxOutbox(openEmbeddedDatabase(config.storage.path));
      try {
        const at = (ms: number | undefined) =>
          ms === undefined ? '-' : DateTime.fromMillis(ms, { zone: config.timeZone }).toFormat('yyyy-MM-dd HH:mm:ss');
        const summary = {
          outbox: config.storage.path,
          waiting: outbox.waitingCount(),
          oldestQueuedMs: outbox.oldestQueuedMs(),
          observationTimes: { fromMs: outbox.earliestWaitingMs(), toMs: outbox.latestWaitingMs() },
          parked: outbox.parkedCount(),
          parkedRows: outbox.parkedRows(limit),
        };
        if (options.json) {
          process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
          return;
        }
        const lines = [
          `outbox ${summary.outbox} (InfluxDB ${influx.url})`,
          summary.waiting === 0
            ? 'waiting: none'
            : `waiting: ${summary.waiting} observations of ${at(summary.observationTimes.fromMs)} .. ${at(summary.observationTimes.toMs)}, queued since ${at(summary.oldestQueuedMs)}`,
          `parked: ${summary.parked === 0 ? 'none' : `${summary.parked} observations InfluxDB refused by name (send again with --retry once the cause is fixed)`}`,
        ];
        if (summary.parkedRows.length > 0) {
          lines.push(
            '',
            ...formatTextTable(
              ['id', 'parked at', 'reason', 'line'],
              summary.parkedRows.map((r) => [String(r.id), at(r.atMs), r.reason.slice(0, 80), r.line.slice(0, 120)]),
              { rightAligned: new Set([0]) },
            ),
          );
          if (summary.parked > summary.parkedRows.length)
            lines.push(`... and ${summary.parked - summary.parkedRows.length} more (--limit)`);
        }
        process.stdout.write(`${lines.join('\n')}\n`);
      } finally {
        outbox.close();
      }
    });
}
