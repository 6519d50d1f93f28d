// Month answers kept until the data they were computed from changes. The key is a store-wide data version (see
// compute-worker.ts) that also changes when another process writes (an `import`, another agent) or when people's
// records change; any change drops every answer, whatever month it touched (cheap to know, and always right).
//
// A running month: credits(month) and availability(window) depend only on the data, the records and the
// configuration (time not yet observed counts the same at any hour), so their cached answers hold until the version
// changes, for the current month too. What moves with the clock alone (monthToDateCredits, the timeline) takes its
// instant from the caller, who floors it (MONTH_TO_DATE_STEP_MS): the same instant is the same answer.
import type { ComputeOptions, MonthComputations, RecordsGiven, RunningMonthOptions } from './month-computations.js';

/** A month to date is computed as of now floored to this step: a cached answer is at most this old. */
export const MONTH_TO_DATE_STEP_MS = 15_000;

/** `nowMs` floored to MONTH_TO_DATE_STEP_MS. */
export const monthToDateAsOf = (nowMs: number) => nowMs - (nowMs % MONTH_TO_DATE_STEP_MS);

/** The data's version now: equal strings, equal data. */
export type DataVersion = () => Promise<string>;

/** Whether an answer came from the cache or was computed (metrics, tests). */
export type AnswerSource = 'cache' | 'computation';

/** Answers kept at most (a fleet's month of credits is megabytes); a new version drops them all anyway. */
const MAX_ANSWERS = 16;

/**
 * `inner` with a cache keyed on (query, version). A query with records given by the caller (the month close) is
 * never cached: its records were read at some version the cache cannot name. The same query asked again while it
 * is computed shares that computation.
 */
export function cachedComputations(
  inner: MonthComputations,
  version: DataVersion,
  onAnswer?: (source: AnswerSource) => void,
): MonthComputations {
  const answers = new Map<string, { version: string; answer: Promise<unknown> }>();

  async function cached<T>(
    key: string,
    options: ComputeOptions | undefined,
    compute: () => Promise<T | undefined>,
  ): Promise<T | undefined> {
    // Read before computing: a write during the computation leaves the answer under the older version.
    const now = await version();
    const held = answers.get(key);
    if (held && held.version === now) {
      onAnswer?.('cache');
      return held.answer as Promise<T>;
    }
    if (options?.cachedOnly) return undefined;
    for (const [k, entry] of answers) if (entry.version !== now) answers.delete(k);
    if (answers.size >= MAX_ANSWERS) answers.delete(answers.keys().next().value as string);
    const answer = compute();
    answers.set(key, { version: now, answer });
    answer.catch(() => {
      if (answers.get(key)?.answer === answer) answers.delete(key); // a failure is not an answer
    });
    onAnswer?.('computation');
    return answer;
  }

  /**
   * Whether a query is computed every time, never answered from the cache nor kept in it: it comes with the caller's
   * records (read at a version the cache cannot name), or its incremental read restarts (the restart must reach the
   * kept runs). A read that does not restart gives a whole read's answer (store/incremental-runs.ts): cached as one.
   */
  const uncachable = (records: RecordsGiven, options: RunningMonthOptions | undefined) =>
    records !== undefined || options?.incremental?.restart === true;
  /** An uncachable query: computed (nothing cached to answer `cachedOnly` either). */
  const uncached = <T>(options: ComputeOptions | undefined, compute: () => Promise<T | undefined>) =>
    options?.cachedOnly ? Promise.resolve(undefined) : compute();

  return {
    credits: (month, records, options) =>
      uncachable(records, options)
        ? uncached(options, () => inner.credits(month, records, options))
        : cached(JSON.stringify(['credits', month]), options, () => inner.credits(month, undefined, options)),
    creditsJson: (month, options) =>
      uncachable(undefined, options)
        ? uncached(options, () => inner.creditsJson(month, options))
        : cached(JSON.stringify(['creditsJson', month]), options, () => inner.creditsJson(month, options)),
    monthToDateCredits: (month, asOfMs, records, options) =>
      uncachable(records, options)
        ? uncached(options, () => inner.monthToDateCredits(month, asOfMs, records, options))
        : cached(JSON.stringify(['monthToDate', month, asOfMs]), options, () =>
            inner.monthToDateCredits(month, asOfMs, undefined, options),
          ),
    availability: (window, serverIds, options) =>
      cached(JSON.stringify(['availability', window.fromMs, window.toMs, serverIds]), options, () =>
        inner.availability(window, serverIds, options),
      ),
    timeline: (serverId, window, options) =>
      cached(JSON.stringify(['timeline', serverId, window.fromMs, window.toMs]), options, () =>
        inner.timeline(serverId, window, options),
      ),
    close: () => inner.close(),
  };
}
