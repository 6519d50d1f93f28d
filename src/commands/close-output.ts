// How the month-close commands (report, approve, incident, maintenance) print an outcome and which exit code it gives.
import { DateTime } from 'luxon';
import type { CloseOutcome, DraftOutcome, RevisionFollowUp } from '../close/month-closer.js';
import { formatGrosze } from '../sla/money.js';

/** Exit codes of `report` and `approve`, so a script can tell what happened. */
export const CLOSE_EXIT = {
  /** Issued, unchanged, or a draft written. */
  done: 0,
  /** The close failed (a store or file error); it is logged, and the daemon retries. */
  failed: 1,
  /** Not possible as asked: the month cannot be closed yet, is not closed (restate), or the input is wrong. */
  refused: 2,
  /** The month is closed and its figures would change: restate it. */
  differs: 3,
  /** Held for a person's review: approve the draft, or add the missing evidence first. */
  needsReview: 4,
  /** Nothing published yet: evidence still on its way, or another process is closing the month. Try again. */
  tryLater: 5,
} as const;

const local = (ms: number, timeZone: string) =>
  DateTime.fromMillis(ms, { zone: timeZone }).toFormat('yyyy-MM-dd HH:mm:ss ZZ');

/** The lines a person reads, and the exit code. */
export function describeCloseOutcome(
  outcome: CloseOutcome | DraftOutcome,
  timeZone: string,
): { lines: string[]; exitCode: number } {
  switch (outcome.status) {
    case 'draft':
      return {
        lines: [
          `draft of ${outcome.month} (not issued: no ledger, no journal): ${outcome.dir}`,
          ...outcome.written.map((f) => `  wrote ${f}`),
          ...(outcome.asOfMs !== undefined
            ? [
                `  the month is still running: figures up to ${local(outcome.asOfMs, timeZone)}; time not yet elapsed is not counted`,
              ]
            : []),
          `  draft hash ${outcome.hash}`,
        ],
        exitCode: CLOSE_EXIT.done,
      };
    case 'issued':
      return {
        lines: [
          `${outcome.revision === 1 ? 'closed' : 'restated'} ${outcome.month}: revision ${outcome.revision} in ${outcome.dir}`,
          `  total ${formatGrosze(outcome.totalGrosze)} PLN (net); ${outcome.journalRows} journal row(s) appended`,
          ...outcome.differences.map((d) => `  ${d}`),
        ],
        exitCode: CLOSE_EXIT.done,
      };
    case 'unchanged':
      return {
        lines: [
          `unchanged: ${outcome.month} revision ${outcome.revision} stands (the figures are the same); nothing was written`,
        ],
        exitCode: CLOSE_EXIT.done,
      };
    case 'differs':
      return {
        lines: [
          `${outcome.month} is closed (revision ${outcome.revision}) and its figures would change:`,
          ...outcome.differences.map((d) => `  ${d}`),
          `nothing was written; to issue a correction: uptime-credits report --month ${outcome.month} --restate --reason "..."`,
        ],
        exitCode: CLOSE_EXIT.differs,
      };
    case 'not-closable':
      return {
        lines: [
          `${outcome.month} cannot be closed before ${local(outcome.closableAtMs, timeZone)} (its end, plus the close delay and the look-ahead for late probes); nothing was written`,
          `to see its figures so far: uptime-credits report --month ${outcome.month} --draft`,
        ],
        exitCode: CLOSE_EXIT.refused,
      };
    case 'not-closed':
      return {
        lines: [
          `${outcome.month} has not been closed, so there is nothing to restate; close it first: uptime-credits report --month ${outcome.month}`,
        ],
        exitCode: CLOSE_EXIT.refused,
      };
    case 'rejected':
      return { lines: [`${outcome.month}: ${outcome.reason}`], exitCode: CLOSE_EXIT.refused };
    case 'held':
      return {
        lines: [
          `nothing was published for ${outcome.month}: ${outcome.reason}`,
          'try again once the observations have reached the store (the daemon retries by itself)',
        ],
        exitCode: CLOSE_EXIT.tryLater,
      };
    case 'busy':
      return {
        lines: [
          `${outcome.month} is being closed by ${outcome.holder.owner} since ${new Date(outcome.holder.claimedAtMs).toISOString()}; nothing was written`,
        ],
        exitCode: CLOSE_EXIT.tryLater,
      };
    case 'needs-review':
      return {
        lines: [
          `${outcome.month} is held for review, nothing was issued: ${outcome.reason}`,
          `  the draft to review: ${outcome.draftDir}`,
          `  to issue exactly that draft: uptime-credits approve --month ${outcome.month} --draft-hash ${outcome.draftHash} --reason "..."`,
          '  or add the missing evidence (import) and close again',
        ],
        exitCode: CLOSE_EXIT.needsReview,
      };
    case 'failed':
      return { lines: [`closing ${outcome.month} failed: ${outcome.reason}`], exitCode: CLOSE_EXIT.failed };
  }
}

/** What a record change did to each month it touches, and the exit code of the worst (0 when all went through). */
export function describeFollowUps(
  months: readonly RevisionFollowUp[],
  timeZone: string,
): { lines: string[]; exitCode: number } {
  const lines: string[] = [];
  let exitCode: number = CLOSE_EXIT.done;
  for (const followUp of months) {
    if (followUp.action === 'none') {
      lines.push(`${followUp.month}: ${followUp.why}`);
      continue;
    }
    const described = describeCloseOutcome(followUp.outcome, timeZone);
    lines.push(
      ...described.lines.map((line, i) =>
        i === 0
          ? `${followUp.month} (${followUp.action === 'restate' ? 'restatement' : 'close again'}): ${line}`
          : `  ${line}`,
      ),
    );
    exitCode = Math.max(exitCode, described.exitCode);
  }
  return { lines, exitCode };
}
