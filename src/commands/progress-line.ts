// How a long command shows how far it got: one line on stderr, redrawn in place at most 5 times a second while
// stderr is a terminal, and nothing while it is not (scripts, cron, CI), whose stderr then holds only what needs
// attention and the command's summary line. UPTIME_CREDITS_PROGRESS=1 draws it on any stderr, 0 never. Stdout is
// never touched: it stays the command's output (--json, tables).
import { systemClock, type Clock } from '../clock.js';
import type { ProgressListener, ProgressPhase, ProgressStep } from '../progress.js';

/** The environment variable that forces the progress line on (`1`) or off (`0`) whatever stderr is. */
export const PROGRESS_ENV = 'UPTIME_CREDITS_PROGRESS';
/** The line is redrawn at most this often: live enough for a person, no cost to the work. */
export const REDRAW_EVERY_MS = 200;

/** Where the line goes: stderr, or a stand-in in tests. */
export interface ProgressOutput {
  isTTY?: boolean;
  /** The terminal's width: a longer line would wrap, and a wrapped line cannot be redrawn in place. */
  columns?: number;
  write(text: string): unknown;
}

export interface ProgressLineOptions {
  output?: ProgressOutput;
  env?: NodeJS.ProcessEnv;
  clock?: Clock;
}

export interface ProgressLine {
  /** Writes a line of its own (a note about the input) above the progress line, terminal or not. */
  note(text: string): void;
  /** Stops redrawing and clears the line, before the command prints its outcome. */
  stop(): void;
}

/** Whether the line is drawn: as PROGRESS_ENV forces it, else when the output is a terminal. */
export function progressShown(env: NodeJS.ProcessEnv, outputIsTerminal: boolean): boolean {
  const forced = env[PROGRESS_ENV];
  if (forced === undefined || forced === '') return outputIsTerminal;
  if (forced === '1' || forced === '0') return forced === '1';
  throw new Error(`${PROGRESS_ENV}: "${forced}" is neither 1 nor 0`);
}

const CLEAR_TO_END = '\x1b[K';

/** Shows `render()` now and every REDRAW_EVERY_MS until stopped (when shown at all). */
export function startProgressLine(render: () => string, options: ProgressLineOptions = {}): ProgressLine {
  const output = options.output ?? process.stderr;
  const clock = options.clock ?? systemClock;
  const shown = progressShown(options.env ?? process.env, output.isTTY === true);
  let drawn = false;
  let stopped = false;
  let timer: { cancel(): void } | undefined;
  const cutToWidth = (text: string) => (output.columns ? text.slice(0, output.columns - 1) : text);
  const clear = () => {
    if (drawn) output.write(`\r${CLEAR_TO_END}`);
    drawn = false;
  };
  const tick = () => {
    output.write(`\r${cutToWidth(render())}${CLEAR_TO_END}`);
    drawn = true;
    timer = clock.setTimeout(tick, REDRAW_EVERY_MS);
  };
  if (shown) tick();
  return {
    note(text) {
      clear(); // the next tick draws it again below the note
      output.write(`${text}\n`);
    },
    stop() {
      if (stopped) return;
      stopped = true;
      timer?.cancel();
      clear();
    },
  };
}

/** A progress line for work that reports its phases (report, credits), and the summary of where its time went. */
export interface PhaseProgress {
  onProgress: ProgressListener;
  stop(): void;
  /** `label: finished in 14.2 s: reading observations 10,000 in 9.1 s; computing credits 0.2 s; ...` */
  summary(): string;
}

/** A count as the progress lines write it: `10,000`. */
export const count = (n: number) => n.toLocaleString('en-US');
/** A duration as the progress lines write it: `14.2 s`. */
export const seconds = (ms: number) => `${(ms / 1_000).toFixed(1)} s`;

/** Starts a phase progress line: `label: phase done/total, 12.3 s`. */
export function startPhaseProgress(label: string, options: ProgressLineOptions = {}): PhaseProgress {
  const clock = options.clock ?? systemClock;
  const startedMs = clock.now();
  let stoppedMs: number | undefined;
  // Each run of a phase, in order; a phase can come again (a report that holds a month draws PDFs twice).
  const runs: { phase: ProgressPhase; fromMs: number; last: ProgressStep }[] = [];
  const render = () => {
    const run = runs.at(-1);
    const at = run
      ? `${run.phase}${run.last.total !== undefined ? ` ${count(run.last.done ?? 0)}/${count(run.last.total)}` : ''}`
      : 'starting';
    return `${label}: ${at}, ${seconds(clock.now() - startedMs)}`;
  };
  const line = startProgressLine(render, options);
  return {
    onProgress(step) {
      const run = runs.at(-1);
      if (run?.phase === step.phase) run.last = step;
      else runs.push({ phase: step.phase, fromMs: clock.now(), last: step });
    },
    stop() {
      stoppedMs ??= clock.now();
      line.stop();
    },
    summary() {
      const endMs = stoppedMs ?? clock.now();
      const byPhase = new Map<ProgressPhase, { ms: number; total?: number }>();
      runs.forEach((run, i) => {
        const spent = byPhase.get(run.phase) ?? { ms: 0 };
        spent.ms += (runs[i + 1]?.fromMs ?? endMs) - run.fromMs;
        if (run.last.total !== undefined) spent.total = (spent.total ?? 0) + run.last.total;
        byPhase.set(run.phase, spent);
      });
      const phases = [...byPhase].map(
        ([phase, { ms, total }]) => `${phase} ${total !== undefined ? `${count(total)} in ` : ''}${seconds(ms)}`,
      );
      return `${label}: finished in ${seconds(endMs - startedMs)}${phases.length > 0 ? `: ${phases.join('; ')}` : ''}`;
    },
  };
}
