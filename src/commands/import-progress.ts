// What `import` shows while it runs (see progress-line.ts for when): lines read, lines a second, how much of the
// file, and with InfluxDB how many stored lines it confirmed; then one summary line, terminal or not.
import { systemClock } from '../clock.js';
import type { StoreHealth } from '../store/store.js';
import { count, seconds, startProgressLine, type ProgressLineOptions } from './progress-line.js';

/** What the progress line reads from the import as it goes. */
export interface ImportSources {
  /** Lines the store took so far (stored, not duplicates). */
  stored: () => number;
  /** The store's outbox, with InfluxDB; none for the embedded store, which has nothing to confirm. */
  health?: () => StoreHealth;
}

export interface ImportProgress {
  /** Hears the size of each chunk read from the file. */
  read(bytes: number): void;
  /** Hears the number of the line reached. */
  reached(lineNumber: number): void;
  /** The file is read; what is left is waiting for InfluxDB to confirm. */
  awaitingConfirmation(): void;
  /** Writes a note about the input (a bad line) above the progress line. */
  note(text: string): void;
  stop(): void;
  /** `import FILE: 8,200,000 lines (812.3 MB) read in 180.0 s, 45,555 lines/s; waited 2.1 s for InfluxDB` */
  summary(): string;
}

const size = (bytes: number) =>
  bytes < 1_000_000 ? `${(bytes / 1_000).toFixed(1)} kB` : `${(bytes / 1_000_000).toFixed(1)} MB`;
const perSecond = (n: number, ms: number) => Math.round((n * 1_000) / Math.max(1, ms));

/** Starts the progress of importing `file` of `fileBytes` bytes. */
export function startImportProgress(
  file: string,
  fileBytes: number,
  sources: ImportSources,
  options: ProgressLineOptions = {},
): ImportProgress {
  const clock = options.clock ?? systemClock;
  const startedMs = clock.now();
  let readMs: number | undefined;
  let stoppedMs: number | undefined;
  let bytesRead = 0;
  let lines = 0;
  const parkedBefore = sources.health?.().parked ?? 0;
  // Waiting lines may include older ones of a shared outbox, which go first: never more than InfluxDB took.
  const confirmed = (health: StoreHealth) =>
    Math.max(0, sources.stored() - health.waiting - (health.parked - parkedBefore));
  const render = () => {
    const health = sources.health?.();
    const nowMs = clock.now();
    if (readMs === undefined) {
      const percent = fileBytes === 0 ? 100 : Math.floor((bytesRead * 100) / fileBytes);
      const reading = `import ${file}: ${count(lines)} lines, ${count(perSecond(lines, nowMs - startedMs))} lines/s, ${percent} % of ${size(fileBytes)}`;
      return health ? `${reading}; confirmed by InfluxDB ${count(confirmed(health))}` : reading;
    }
    const waiting = health
      ? `confirmed ${count(confirmed(health))} of ${count(sources.stored())}`
      : 'nothing to confirm';
    return `import ${file}: ${count(lines)} lines read; waiting for InfluxDB: ${waiting}, ${seconds(nowMs - readMs)}`;
  };
  const line = startProgressLine(render, options);
  return {
    read(bytes) {
      bytesRead += bytes;
    },
    reached(lineNumber) {
      lines = lineNumber;
    },
    awaitingConfirmation() {
      readMs = clock.now();
    },
    note: (text) => line.note(text),
    stop() {
      stoppedMs ??= clock.now();
      line.stop();
    },
    summary() {
      const endMs = stoppedMs ?? clock.now();
      const readingMs = (readMs ?? endMs) - startedMs;
      const waited = readMs !== undefined ? `; waited ${seconds(endMs - readMs)} for InfluxDB` : '';
      return `import ${file}: ${count(lines)} lines (${size(fileBytes)}) read in ${seconds(readingMs)}, ${count(perSecond(lines, readingMs))} lines/s${waited}`;
    },
  };
}
