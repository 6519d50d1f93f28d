// How much of a month the observations cover (the evidence behind a credit), and the minimum a close needs.
import type { MonthCredits } from './types.js';

const PERCENT_MICRO = 100_000_000n; // 100 % in millionths of a percent

/** Whether the monitored share 100 x (E - U) / E is strictly below the minimum, exactly; false without eligible time. */
export function monitoredIsBelow(eligibleMs: number, unmonitoredMs: number, minimumMicroPercent: number): boolean {
  if (eligibleMs <= 0) return false;
  return BigInt(eligibleMs - unmonitoredMs) * PERCENT_MICRO < BigInt(minimumMicroPercent) * BigInt(eligibleMs);
}

/** A server whose month has too little evidence to be closed without a person's review. */
export interface UnderMonitoredServer {
  customer: string;
  server: string;
  eligibleMs: number;
  unmonitoredMs: number;
  /** As in ServerCredit ("42.10"). */
  monitoredPercent: string;
}

/** The servers of a month close whose monitored share is below the minimum (millionths of a percent). */
export function underMonitoredServers(credits: MonthCredits, minimumMicroPercent: number): UnderMonitoredServer[] {
  return credits.customers.flatMap((customer) =>
    customer.servers
      .filter((s) => monitoredIsBelow(s.eligibleMs, s.unmonitoredMs, minimumMicroPercent))
      .map((s) => ({
        customer: customer.id,
        server: s.id,
        eligibleMs: s.eligibleMs,
        unmonitoredMs: s.unmonitoredMs,
        monitoredPercent: s.monitoredPercent ?? 'n/a',
      })),
  );
}
