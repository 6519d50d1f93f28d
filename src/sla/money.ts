// Exact money and percentage arithmetic: integer grosze, BigInt intermediates, rounding half up.

/** numerator / denominator rounded half up (away from zero at .5) for non-negative operands. */
export function roundHalfUpDiv(numerator: bigint, denominator: bigint): bigint {
  if (denominator <= 0n) throw new Error('denominator must be positive');
  if (numerator < 0n) return -roundHalfUpDiv(-numerator, denominator);
  return (numerator * 2n + denominator) / (denominator * 2n);
}

/** Integer grosze as a decimal string with 2 places: 123456 -> "1234.56". */
export function formatGrosze(grosze: number): string {
  if (!Number.isSafeInteger(grosze)) throw new Error(`${grosze} is not a whole number of grosze`);
  const sign = grosze < 0 ? '-' : '';
  const abs = Math.abs(grosze);
  return `${sign}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')}`;
}

/** A percentage in hundredths as a decimal string with 2 places: 1000 -> "10.00". */
export function formatPercentHundredths(hundredths: number): string {
  return formatGrosze(hundredths);
}

/** A threshold in millionths of a percent without trailing zeros: 99_800_000 -> "99.8", 99_000_000 -> "99". */
export function formatMicroPercent(micro: number): string {
  const whole = Math.floor(micro / 1_000_000);
  const fraction = String(micro % 1_000_000)
    .padStart(6, '0')
    .replace(/0+$/, '');
  return fraction ? `${whole}.${fraction}` : String(whole);
}

/**
 * Uptime 100 x (eligible - downtime) / eligible rounded DOWN to 4 places ("99.7999"); null without eligible
 * time. Rounding down means the text never shows a value at or above a threshold the exact value is below.
 */
export function uptimePercentText(eligibleMs: number, downtimeMs: number): string | null {
  if (eligibleMs <= 0) return null;
  const scaled = (BigInt(eligibleMs - downtimeMs) * 1_000_000n) / BigInt(eligibleMs); // 100 x 10^4
  const whole = scaled / 10_000n;
  return `${whole}.${String(scaled % 10_000n).padStart(4, '0')}`;
}

/**
 * Monitored share 100 x (eligible - unmonitored) / eligible rounded DOWN to 2 places ("96.66"); null without
 * eligible time. Rounded down for the same reason as the uptime: it never shows a minimum it does not reach.
 */
export function monitoredPercentText(eligibleMs: number, unmonitoredMs: number): string | null {
  if (eligibleMs <= 0) return null;
  const scaled = (BigInt(eligibleMs - unmonitoredMs) * 10_000n) / BigInt(eligibleMs); // 100 x 10^2
  return `${scaled / 100n}.${String(scaled % 100n).padStart(2, '0')}`;
}

/** Uptime as a ratio 0..1 for dashboards (display only: no decision is taken on it). */
export function uptimeRatio(eligibleMs: number, downtimeMs: number): number {
  return eligibleMs > 0 ? (eligibleMs - downtimeMs) / eligibleMs : 1;
}

/** fee x part / whole, rounded half up to the grosz (proration by covered time). */
export function prorateGrosze(feeGrosze: number, partMs: number, wholeMs: number): number {
  if (partMs >= wholeMs) return feeGrosze;
  return Number(roundHalfUpDiv(BigInt(feeGrosze) * BigInt(partMs), BigInt(wholeMs)));
}

/** base x percent / 100, with the percent in hundredths, rounded half up to the grosz. */
export function percentOfGrosze(baseGrosze: number, percentHundredths: number): number {
  return Number(roundHalfUpDiv(BigInt(baseGrosze) * BigInt(percentHundredths), 10_000n));
}
