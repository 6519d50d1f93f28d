// How a running month stands against its brackets: what the whole month allows, what is left, what is to come.
//
// The whole month's eligible time is known in advance (coverage minus announced maintenance), so a budget is
// measured against it rather than against the month so far: on the 1st a server has the whole month's
// allowance, and the budget only shrinks with downtime. The alert rules and the dashboards read these figures.
import { eligibleIntervals } from './availability.js';
import { downtimeBudgets, type DowntimeBudget } from './brackets.js';
import { containsInstant, intersectIntervals, mergeIntervals, totalMs } from './intervals.js';
import type { Bracket, Interval } from './types.js';

export interface MonthOutlook {
  /** Eligible time of the whole month: coverage minus maintenance. */
  monthEligibleMs: number;
  /** Eligible time still to come after asOf (what a burn rate is projected over). */
  remainingEligibleMs: number;
  /** Per bracket (in the tier's order): the whole month's allowance and what the downtime so far leaves of it. */
  budgets: DowntimeBudget[];
  /** Whether asOf is inside an announced maintenance window. */
  inMaintenance: boolean;
  /** Whether asOf is inside the server's coverage (since/until): outside it, nothing is promised. */
  coveredNow: boolean;
}

export interface OutlookInput {
  /** The whole month. */
  window: Interval;
  /** The instant the month to date ends at. */
  asOfMs: number;
  sinceMs?: number;
  untilMs?: number;
  maintenance: readonly Interval[];
  /** Confirmed downtime of the month to date. */
  downtimeMs: number;
  brackets: readonly Bracket[];
}

/** The month's outlook for one server at asOf. */
export function monthOutlook(input: OutlookInput): MonthOutlook {
  const { eligible } = eligibleIntervals(input);
  const monthEligibleMs = totalMs(eligible);
  return {
    monthEligibleMs,
    remainingEligibleMs: totalMs(intersectIntervals(eligible, [{ fromMs: input.asOfMs, toMs: input.window.toMs }])),
    budgets: downtimeBudgets(monthEligibleMs, input.downtimeMs, input.brackets),
    inMaintenance: containsInstant(mergeIntervals(input.maintenance), input.asOfMs),
    coveredNow: (input.sinceMs ?? -Infinity) <= input.asOfMs && input.asOfMs < (input.untilMs ?? Infinity),
  };
}

/**
 * Trailing windows whose downtime the view reports (the budget-burn alert's rates): confirmed downtime in eligible
 * time within the last 30 m, 1 h and 6 h, across a month's start too, so the burn rate does not restart at 0 on the 1st.
 */
export const RECENT_DOWNTIME_WINDOWS = [
  { label: '30m', ms: 1_800_000 },
  { label: '1h', ms: 3_600_000 },
  { label: '6h', ms: 21_600_000 },
] as const;

/** Downtime (confirmed, in eligible time) within the `windowMs` before asOf: how fast a budget burns. */
export function recentDowntimeMs(outages: readonly Interval[], asOfMs: number, windowMs: number): number {
  return totalMs(intersectIntervals(outages, [{ fromMs: asOfMs - windowMs, toMs: asOfMs }]));
}
