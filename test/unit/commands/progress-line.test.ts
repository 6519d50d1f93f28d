// The progress line on a simulated clock and a stand-in stderr: drawn only on a terminal (or when forced), at most
// every 200 ms, cleared before anything else is written; the phase summary adds up where the time went.
import { describe, expect, it } from 'vitest';
import {
  progressShown,
  PROGRESS_ENV,
  REDRAW_EVERY_MS,
  startPhaseProgress,
  startProgressLine,
  type ProgressOutput,
} from '../../../src/commands/progress-line.js';
import { FakeClock } from '../../support/fake-clock.js';

const CLEAR = '\x1b[K';

/** A stderr stand-in that keeps what was written, and when (on the simulated clock). */
function output(clock: FakeClock, terminal: boolean, columns?: number) {
  const writes: { atMs: number; text: string }[] = [];
  const out: ProgressOutput & { writes: typeof writes; text: () => string } = {
    isTTY: terminal,
    write: (text: string) => writes.push({ atMs: clock.now(), text }),
    writes,
    text: () => writes.map((w) => w.text).join(''),
  };
  if (columns !== undefined) out.columns = columns;
  return out;
}

describe('progress line', () => {
  it('on a terminal draws at once, then at most every 200 ms, in place; stop clears it and ends the redraws', async () => {
    const clock = new FakeClock(0);
    const out = output(clock, true);
    let lines = 0;
    const line = startProgressLine(() => `read ${lines} lines`, { output: out, env: {}, clock });
    for (let t = 50; t <= 1_000; t += 50) {
      lines = t;
      await clock.advanceTo(t);
    }
    const frames = out.writes.filter((w) => w.text.startsWith('\r') && w.text.length > 1 + CLEAR.length);
    expect(frames.map((f) => f.atMs)).toEqual([0, 200, 400, 600, 800, 1_000]);
    expect(frames.map((f) => f.text)).toEqual([0, 200, 400, 600, 800, 1_000].map((n) => `\rread ${n} lines${CLEAR}`));
    expect(frames.every((f, i) => i === 0 || f.atMs - frames[i - 1]!.atMs >= REDRAW_EVERY_MS)).toBe(true);
    line.stop();
    expect(out.writes.at(-1)!.text).toBe(`\r${CLEAR}`);
    const written = out.writes.length;
    await clock.advanceTo(5_000);
    expect(out.writes).toHaveLength(written);
  });

  it('draws nothing when stderr is not a terminal: a note is its line alone, stop writes nothing', async () => {
    const clock = new FakeClock(0);
    const out = output(clock, false);
    const line = startProgressLine(() => 'busy', { output: out, env: {}, clock });
    await clock.advanceTo(1_000);
    line.note('obs.ndjson:7: not valid JSON');
    line.stop();
    expect(out.text()).toBe('obs.ndjson:7: not valid JSON\n');
  });

  it('clears the line before a note and draws it again at the next tick', async () => {
    const clock = new FakeClock(0);
    const out = output(clock, true);
    const line = startProgressLine(() => 'busy', { output: out, env: {}, clock });
    line.note('obs.ndjson:7: not valid JSON');
    await clock.advanceTo(REDRAW_EVERY_MS);
    line.stop();
    expect(out.text()).toBe(`\rbusy${CLEAR}\r${CLEAR}obs.ndjson:7: not valid JSON\n\rbusy${CLEAR}\r${CLEAR}`);
  });

  it('cuts the line to the terminal width, so it never wraps (a wrapped line cannot be redrawn in place)', () => {
    const clock = new FakeClock(0);
    const out = output(clock, true, 10);
    startProgressLine(() => 'a line longer than ten columns', { output: out, env: {}, clock }).stop();
    expect(out.writes[0]!.text).toBe(`\ra line lo${CLEAR}`);
  });

  it(`${PROGRESS_ENV}=1 forces it on any stderr, =0 off on a terminal; another value is an error`, () => {
    expect(progressShown({}, true)).toBe(true);
    expect(progressShown({}, false)).toBe(false);
    expect(progressShown({ [PROGRESS_ENV]: '1' }, false)).toBe(true);
    expect(progressShown({ [PROGRESS_ENV]: '0' }, true)).toBe(false);
    expect(() => progressShown({ [PROGRESS_ENV]: 'yes' }, true)).toThrow(`${PROGRESS_ENV}: "yes" is neither 1 nor 0`);
  });
});

describe('phase progress', () => {
  it('shows the phase with its counts, and sums up the time of each phase, a phase seen twice once', async () => {
    const clock = new FakeClock(0);
    const out = output(clock, true);
    const progress = startPhaseProgress('report', { output: out, env: {}, clock });
    await clock.advanceTo(100);
    progress.onProgress({ phase: 'waiting for evidence' });
    await clock.advanceTo(1_100);
    progress.onProgress({ phase: 'reading observations', done: 0, total: 10_000 });
    await clock.advanceTo(2_000);
    progress.onProgress({ phase: 'reading observations', done: 200, total: 10_000 });
    await clock.advanceTo(4_100);
    progress.onProgress({ phase: 'computing credits' });
    await clock.advanceTo(4_300);
    progress.onProgress({ phase: 'rendering PDFs', done: 0, total: 2 });
    await clock.advanceTo(5_300);
    progress.onProgress({ phase: 'computing credits' });
    await clock.advanceTo(5_400);
    progress.onProgress({ phase: 'rendering PDFs', done: 0, total: 1 });
    await clock.advanceTo(6_000);
    progress.stop();
    await clock.advanceTo(9_000);
    expect(out.writes.find((w) => w.atMs === 2_200)!.text).toBe(
      `\rreport: reading observations 200/10,000, 2.2 s${CLEAR}`,
    );
    expect(out.writes[0]!.text).toBe(`\rreport: starting, 0.0 s${CLEAR}`);
    expect(progress.summary()).toBe(
      'report: finished in 6.0 s: waiting for evidence 1.0 s; reading observations 10,000 in 3.0 s; computing credits 0.3 s; rendering PDFs 3 in 1.6 s',
    );
  });

  it('is silent off a terminal, and still has its summary', () => {
    const clock = new FakeClock(0);
    const out = output(clock, false);
    const progress = startPhaseProgress('credits', { output: out, env: {}, clock });
    progress.onProgress({ phase: 'computing credits' });
    progress.stop();
    expect(out.writes).toEqual([]);
    expect(progress.summary()).toBe('credits: finished in 0.0 s: computing credits 0.0 s');
  });
});
