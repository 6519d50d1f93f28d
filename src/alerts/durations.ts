// Durations as Prometheus and Alertmanager write them ("30m", "1h30m", "0s").

const UNITS: readonly (readonly [suffix: string, ms: number])[] = [
  ['h', 3_600_000],
  ['m', 60_000],
  ['s', 1_000],
  ['ms', 1],
];

/** Integer milliseconds as a Prometheus duration: 1_800_000 -> "30m", 5_400_000 -> "1h30m", 0 -> "0s". */
export function formatPromDuration(ms: number): string {
  if (!Number.isSafeInteger(ms) || ms < 0) throw new Error(`not a duration in whole milliseconds: ${ms}`);
  if (ms === 0) return '0s';
  let rest = ms;
  let text = '';
  for (const [suffix, unitMs] of UNITS) {
    const count = Math.floor(rest / unitMs);
    if (count > 0) text += `${count}${suffix}`;
    rest -= count * unitMs;
  }
  return text;
}
