// What long work tells about how far it got, for whoever shows it (the CLI draws a line on a terminal). Plain data
// through a callback: the work itself knows nothing of terminals or streams.

/** The phases of computing a month's figures and writing its reports, in the order they come. */
export type ProgressPhase = 'waiting for evidence' | 'reading observations' | 'computing credits' | 'rendering PDFs';

/** Where the work is: its phase and, when the phase counts something (servers, PDFs), how many of how many. */
export interface ProgressStep {
  phase: ProgressPhase;
  done?: number;
  total?: number;
}

/** Told of each step; a display, so it must not throw. */
export type ProgressListener = (step: ProgressStep) => void;
