// The support tiers and their compensation brackets (sla-terms.md tables and rule 6).
import type { Bracket, TierTerms } from './types.js';

const PERCENT_MICRO = 100_000_000n; // 100 % in millionths of a percent

function bracket(below: number, creditPercent: number): Bracket {
  return { belowMicroPercent: Math.round(below * 1_000_000), creditPercentHundredths: creditPercent * 100 };
}

/** The seed's tiers: Silver, Gold, Platinum, with fees in grosze and brackets from the highest threshold down. */
export const DEFAULT_TIERS: ReadonlyMap<string, TierTerms> = new Map([
  [
    'silver',
    {
      name: 'silver',
      baseFeeGrosze: 30_000,
      serverFeeGrosze: 15_000,
      brackets: [bracket(99.4, 10), bracket(99.2, 50), bracket(99.0, 100)],
    },
  ],
  [
    'gold',
    {
      name: 'gold',
      baseFeeGrosze: 30_000,
      serverFeeGrosze: 30_000,
      brackets: [bracket(99.6, 10), bracket(99.4, 25), bracket(99.2, 75), bracket(99.0, 200)],
    },
  ],
  [
    'platinum',
    {
      name: 'platinum',
      baseFeeGrosze: 30_000,
      serverFeeGrosze: 60_000,
      brackets: [bracket(99.8, 10), bracket(99.6, 25), bracket(99.4, 50), bracket(99.2, 100), bracket(99.0, 300)],
    },
  ],
]);

/** Whether the uptime 100 x (E - D) / E is strictly below the threshold, exactly. */
export function uptimeIsBelow(eligibleMs: number, downtimeMs: number, belowMicroPercent: number): boolean {
  return BigInt(eligibleMs - downtimeMs) * PERCENT_MICRO < BigInt(belowMicroPercent) * BigInt(eligibleMs);
}

/**
 * The bracket with the lowest threshold that the uptime is strictly below (they do not add up); null when the
 * uptime is at or above every threshold, or when there is no eligible time.
 */
export function creditBracket(eligibleMs: number, downtimeMs: number, brackets: readonly Bracket[]): Bracket | null {
  if (eligibleMs <= 0) return null;
  let found: Bracket | null = null;
  for (const candidate of brackets) {
    if (
      uptimeIsBelow(eligibleMs, downtimeMs, candidate.belowMicroPercent) &&
      (!found || candidate.belowMicroPercent < found.belowMicroPercent)
    ) {
      found = candidate;
    }
  }
  return found;
}

/** One bracket's share of a month's downtime: what the whole month allows and what is left of it. */
export interface DowntimeBudget {
  belowMicroPercent: number;
  creditPercentHundredths: number;
  /** The most downtime the month may have without the bracket applying: floor(E x (100 - threshold) / 100). */
  allowanceMs: number;
  /**
   * allowanceMs - downtime: 0 means exactly at the threshold (no credit yet), negative means the bracket applies.
   * Never clamped, so a month past a bracket says by how much.
   */
  remainingMs: number;
}

/** For each bracket: how much downtime a month with `eligibleMs` of eligible time allows, and what is left of it. */
export function downtimeBudgets(
  eligibleMs: number,
  downtimeMs: number,
  brackets: readonly Bracket[],
): DowntimeBudget[] {
  return brackets.map((b) => {
    // Largest D with 100 (E - D) >= threshold x E, i.e. D <= E (100 - threshold) / 100.
    const allowanceMs =
      eligibleMs > 0 ? Number((BigInt(eligibleMs) * (PERCENT_MICRO - BigInt(b.belowMicroPercent))) / PERCENT_MICRO) : 0;
    return {
      belowMicroPercent: b.belowMicroPercent,
      creditPercentHundredths: b.creditPercentHundredths,
      allowanceMs,
      remainingMs: allowanceMs - downtimeMs,
    };
  });
}
