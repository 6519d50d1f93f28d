// What `import` shows while it runs, on a simulated clock: lines, lines a second, the share of the file read, and
// with InfluxDB how many stored lines it confirmed (never counting older lines of a shared outbox as this file's).
import { describe, expect, it } from 'vitest';
import { startImportProgress } from '../../../src/commands/import-progress.js';
import type { ProgressOutput } from '../../../src/commands/progress-line.js';
import type { StoreHealth } from '../../../src/store/store.js';
import { FakeClock } from '../../support/fake-clock.js';

const terminal = () => {
  const frames: string[] = [];
  const out: ProgressOutput = {
    isTTY: true,
    write: (text: string) => frames.push(text.replace(/^\r/, '').replace('\x1b[K', '')),
  };
  return { out, frames };
};

describe('import progress', () => {
  it('shows lines, lines a second and the share of the file; sums up at the end', async () => {
    const clock = new FakeClock(0);
    const { out, frames } = terminal();
    const progress = startImportProgress('obs.ndjson', 8_200_000, { stored: () => 0 }, { output: out, env: {}, clock });
    progress.read(2_050_000);
    progress.reached(45_000);
    await clock.advanceTo(1_000);
    progress.read(2_050_000);
    progress.reached(90_000);
    await clock.advanceTo(2_000);
    progress.stop();
    expect(frames.filter(Boolean)).toEqual([
      'import obs.ndjson: 0 lines, 0 lines/s, 0 % of 8.2 MB',
      'import obs.ndjson: 45,000 lines, 225,000 lines/s, 25 % of 8.2 MB',
      'import obs.ndjson: 45,000 lines, 112,500 lines/s, 25 % of 8.2 MB',
      'import obs.ndjson: 45,000 lines, 75,000 lines/s, 25 % of 8.2 MB',
      'import obs.ndjson: 45,000 lines, 56,250 lines/s, 25 % of 8.2 MB',
      'import obs.ndjson: 45,000 lines, 45,000 lines/s, 25 % of 8.2 MB',
      'import obs.ndjson: 90,000 lines, 75,000 lines/s, 50 % of 8.2 MB',
      'import obs.ndjson: 90,000 lines, 64,286 lines/s, 50 % of 8.2 MB',
      'import obs.ndjson: 90,000 lines, 56,250 lines/s, 50 % of 8.2 MB',
      'import obs.ndjson: 90,000 lines, 50,000 lines/s, 50 % of 8.2 MB',
      'import obs.ndjson: 90,000 lines, 45,000 lines/s, 50 % of 8.2 MB',
    ]);
    expect(progress.summary()).toBe('import obs.ndjson: 90,000 lines (8.2 MB) read in 2.0 s, 45,000 lines/s');
  });

  it('with InfluxDB, counts as confirmed what it took and no longer waits, minus what it refused since the start', async () => {
    const clock = new FakeClock(0);
    const { out, frames } = terminal();
    let stored = 0;
    // 500 older lines of a shared outbox wait, and 2 were parked before: they are not this file's.
    let health: StoreHealth = { waiting: 500, parked: 2, remoteWriteErrorsTotal: 0, confirmedTotal: 0 };
    const progress = startImportProgress(
      'obs.ndjson',
      1_000,
      { stored: () => stored, health: () => health },
      { output: out, env: {}, clock },
    );
    progress.read(1_000);
    progress.reached(2_000);
    stored = 2_000;
    health = { waiting: 2_200, parked: 2, remoteWriteErrorsTotal: 0, confirmedTotal: 0 };
    await clock.advanceTo(200);
    progress.awaitingConfirmation();
    health = { waiting: 0, parked: 5, remoteWriteErrorsTotal: 0, confirmedTotal: 0 };
    await clock.advanceTo(1_700);
    progress.stop();
    expect(frames.filter(Boolean)[1]).toBe(
      'import obs.ndjson: 2,000 lines, 10,000 lines/s, 100 % of 1.0 kB; confirmed by InfluxDB 0',
    );
    expect(frames.filter(Boolean).at(-1)).toBe(
      'import obs.ndjson: 2,000 lines read; waiting for InfluxDB: confirmed 1,997 of 2,000, 1.4 s',
    );
    expect(progress.summary()).toBe(
      'import obs.ndjson: 2,000 lines (1.0 kB) read in 0.2 s, 10,000 lines/s; waited 1.5 s for InfluxDB',
    );
  });
});
