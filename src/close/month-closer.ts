// The month close as a money process: the one service the CLI, the API and the month-end timer call.
//
//                    draft (any month, any time: marked PDFs in reports/M/draft/, nothing else)
//   (not issued) ──close──> closed (revision 1) ──restate──> restated (revision N+1) ──restate──> ...
//        │  └─ evidence still on its way ──> held (retried by the daemon every sla.closeRetry)
//        └──── too little evidence, parked lines, or a restatement that lowers a credit
//                  ──> needs-review ──approve(draft hash)──> closed / restated
//
// Nothing issued is rewritten: a revision is recorded (figures, terms snapshot, journal rows) in one transaction
// of the state database, then rendered into its own folder, then its journal rows are appended to the journal
// files. A crash between those steps is finished from the record by `recover`, which every entry point runs first.
import { readFileSync, statSync } from 'node:fs';
import { userInfo, hostname } from 'node:os';
import { join } from 'node:path';
import type { AppConfig } from '../config/types.js';
import { systemClock, type Clock } from '../clock.js';
import { isAbortOf, unlessAborted } from '../concurrency.js';
import type { Logger } from '../logging.js';
import type { ProgressListener } from '../progress.js';
import { creditIdOf, type Ledger } from '../reports/ledger.js';
import { underMonitoredServers, type UnderMonitoredServer } from '../sla/evidence.js';
import { formatGrosze, formatMicroPercent } from '../sla/money.js';
import { monthWindow } from '../sla/month.js';
import type { MonthCredits } from '../sla/types.js';
import type { Claim, CloseRecords, JournalRow, RevisionKind, RevisionRecord } from '../state/close-records.js';
import { NO_PENDING_REVISIONS, type OperatorRecordsReader, type PendingRevisions } from '../state/operator-records.js';
import type { ObservationStore } from '../store/store.js';
import { thisProcess, withJournalLock, withMonthClaim, type Claimant } from './claims.js';
import { monthReadRange, runLookbackMs } from './compute.js';
import { awaitCompleteEvidence, type EvidenceSource } from './evidence.js';
import {
  ComputationsClosedError,
  computed,
  inThreadComputations,
  type MonthComputations,
} from './month-computations.js';
import { appendJournal } from './journal-files.js';
import {
  changedCustomers,
  creditsSha256,
  hasManifest,
  heldDraftDir,
  MANIFEST,
  renderRevisionFiles,
  revisionDir,
  revisionSubdir,
  draftHash,
  writeDraftFiles,
  writeRevisionFiles,
} from './revision-files.js';
import { serverRecords } from './server-records.js';
import { jsonSha256, termsDifferences, termsSnapshot, type TermsSnapshot } from './terms-snapshot.js';

/** How long after a month's end it can be closed: the close delay, and at least the look-ahead. */
export const closeAfterEndMs = (config: AppConfig) => Math.max(config.sla.closeDelayMs, runLookbackMs(config));

/** The earliest instant a month can be closed. */
export function closableAtMs(config: AppConfig, month: string): number {
  return monthWindow(month, config.timeZone).toMs + closeAfterEndMs(config);
}

/** Who asked, for the records and the journal: `schedule`, `cli:user@host`, or the API token's name. */
export const cliActor = () => `cli:${userInfo().username}@${hostname()}`;

export type CloseOutcome =
  | {
      status: 'issued';
      month: string;
      revision: number;
      kind: RevisionKind;
      dir: string;
      totalGrosze: number;
      journalRows: number;
      differences: string[];
    }
  | { status: 'unchanged'; month: string; revision: number }
  | { status: 'differs'; month: string; revision: number; differences: string[] }
  | { status: 'not-closable'; month: string; closableAtMs: number }
  | { status: 'not-closed'; month: string }
  | { status: 'held'; month: string; reason: string }
  | {
      status: 'needs-review';
      month: string;
      reason: string;
      draftHash: string;
      draftDir: string;
      servers: UnderMonitoredServer[];
    }
  | { status: 'busy'; month: string; holder: Claim }
  /** Not done as asked: `invalid` when the request itself is wrong (an unknown draft hash, an empty reason). */
  | { status: 'rejected'; month: string; reason: string; invalid?: boolean }
  | { status: 'failed'; month: string; reason: string };

export interface DraftOutcome {
  status: 'draft';
  month: string;
  dir: string;
  hash: string;
  written: string[];
  /** Set for a month still running: the draft's figures stop here. */
  asOfMs?: number;
}

/** What a month owing a revision for changed records became: restated, closed again (held for review), or nothing yet. */
export type RevisionFollowUp =
  | { month: string; action: 'restate' | 'reclose'; outcome: CloseOutcome }
  /** Not issued and not waiting for review (its close takes the records), or nothing owed any more. */
  | { month: string; action: 'none'; why: string };

/** The steps of issuing a revision, reported to an observer (logs; tests stop the process at each). */
export type CloseStep = 'recorded' | 'files-written' | 'journal-written';

export interface MonthCloser {
  /**
   * Closes an ended month (revision 1); for a closed month, says whether its figures still hold. An abort of `signal`
   * (the daemon stopping) while the close waits for evidence or computes makes it reject with the signal's reason,
   * having recorded nothing; once it records, it finishes.
   */
  close(month: string, options: { by: string; waitMs?: number; signal?: AbortSignal }): Promise<CloseOutcome>;
  /** Issues the next revision after new evidence; holds it for approval when it lowers a credit. `signal` as for close. */
  restate(
    month: string,
    options: { by: string; reason: string; waitMs?: number; signal?: AbortSignal },
  ): Promise<CloseOutcome>;
  /**
   * Takes a month whose records changed (incidents, maintenance) through the lifecycle: restates it when issued,
   * closes it again when its close waits for review (a new draft replaces the held one), else leaves it to its close.
   */
  revise(month: string, options: { by: string; signal?: AbortSignal }): Promise<RevisionFollowUp>;
  /** Issues exactly the held draft with this hash (or unique prefix of 12+ characters). */
  approve(month: string, options: { by: string; draftHash: string; reason: string }): Promise<CloseOutcome>;
  /** Renders drafts of any month (month to date for a running one); touches no record. */
  draft(month: string, options?: { customerId?: string }): Promise<DraftOutcome>;
  /** Finishes revisions whose files or journal rows a crash left unwritten; returns the months it could not. */
  recover(): Promise<string[]>;
}

export interface MonthCloserDeps {
  config: AppConfig;
  store: ObservationStore;
  /** Incidents and announced maintenance: evidence beside the observations. */
  operatorRecords: OperatorRecordsReader;
  /** The months owing a revision because those records changed (settled by a close or restatement that includes them). */
  pendingRevisions?: PendingRevisions;
  records: CloseRecords;
  /** Where observations may still be held back (the store's outbox, the probe loop's buffer). */
  evidence: readonly EvidenceSource[];
  logger: Logger;
  clock?: Clock;
  claimant?: Claimant;
  /** Sees every outcome (metrics). */
  onOutcome?: (outcome: CloseOutcome) => void;
  /** Sees each step of issuing a revision. */
  onStep?: (step: CloseStep, month: string, revision: number) => void;
  /** Hears the phases of each close, restatement or draft (the CLI shows them on a terminal). */
  onProgress?: ProgressListener;
  /** Where the figures are computed (the daemon: its compute worker); default: on this thread, from store and records. */
  computations?: MonthComputations;
}

/** Cumulative amount per credit id after every journal row of a month: what has been paid so far. */
function paidByCredit(
  rows: readonly JournalRow[],
): Map<string, { grosze: number; customerId: string; serverId: string }> {
  const paid = new Map<string, { grosze: number; customerId: string; serverId: string }>();
  for (const row of rows)
    paid.set(row.creditId, {
      grosze: (paid.get(row.creditId)?.grosze ?? 0) + row.deltaGrosze,
      customerId: row.customerId,
      serverId: row.serverId,
    });
  return paid;
}

/** Each server's credit in the figures, by credit id (zero amounts left out, as the ledger does). */
function creditsById(credits: MonthCredits): Map<string, { grosze: number; customerId: string; serverId: string }> {
  const out = new Map<string, { grosze: number; customerId: string; serverId: string }>();
  for (const customer of credits.customers) {
    for (const server of customer.servers) {
      if (server.creditAmountGrosze > 0)
        out.set(creditIdOf(credits.month, customer.id, server.id), {
          grosze: server.creditAmountGrosze,
          customerId: customer.id,
          serverId: server.id,
        });
    }
  }
  return out;
}

/** The journal rows a new revision adds: one per credit whose amount changes against what was paid so far. */
function journalRowsFor(
  month: string,
  revision: number,
  paid: ReturnType<typeof paidByCredit>,
  credits: MonthCredits,
  common: Pick<JournalRow, 'reason' | 'closedAtMs' | 'closedBy'>,
): JournalRow[] {
  const entry = 'payable' as const;
  const now = creditsById(credits);
  const rows: JournalRow[] = [];
  for (const creditId of [...new Set([...paid.keys(), ...now.keys()])].sort()) {
    const before = paid.get(creditId);
    const after = now.get(creditId);
    const previousGrosze = before?.grosze ?? 0;
    const newGrosze = after?.grosze ?? 0;
    if (previousGrosze === newGrosze) continue;
    const who = after ?? before;
    if (!who) throw new Error(`credit ${creditId} is in neither the paid nor the new figures`);
    rows.push({
      entry,
      month,
      revision,
      creditId,
      customerId: who.customerId,
      serverId: who.serverId,
      previousGrosze,
      newGrosze,
      deltaGrosze: newGrosze - previousGrosze,
      ...common,
    });
  }
  return rows;
}

/** The credits whose amount these figures would change against what was paid so far (unrecorded journal rows). */
const creditChanges = (paid: ReturnType<typeof paidByCredit>, credits: MonthCredits) =>
  journalRowsFor(credits.month, 0, paid, credits, { reason: '', closedAtMs: 0, closedBy: '' });

/** What a person reads about a change of figures: credits that change, the total, customers whose details change. */
function figureDifferences(
  paid: ReturnType<typeof paidByCredit>,
  before: MonthCredits | null,
  after: MonthCredits,
): string[] {
  const changes = creditChanges(paid, after);
  const out = changes.map(
    (row) =>
      `credit ${row.creditId}: ${formatGrosze(row.previousGrosze)} -> ${formatGrosze(row.newGrosze)} PLN (${row.deltaGrosze > 0 ? '+' : ''}${formatGrosze(row.deltaGrosze)})`,
  );
  const paidTotal = [...paid.values()].reduce((sum, p) => sum + p.grosze, 0);
  if (paidTotal !== after.creditAmountGrosze)
    out.push(`total: ${formatGrosze(paidTotal)} -> ${formatGrosze(after.creditAmountGrosze)} PLN`);
  if (before) {
    const credited = new Set(changes.map((row) => row.customerId));
    for (const id of changedCustomers({ credits: before, terms: null }, { credits: after, terms: null })) {
      if (!credited.has(id))
        out.push(`customer ${id}: figures change (outages, maintenance or time) without a change of credit`);
    }
  }
  return out;
}

/** Creates the month closer. */
export function createMonthCloser(deps: MonthCloserDeps): MonthCloser {
  const { config, records, logger } = deps;
  const computations =
    deps.computations ?? inThreadComputations(config, { store: deps.store, operatorRecords: deps.operatorRecords });
  const progress = deps.onProgress ? { onProgress: deps.onProgress } : {};
  const pending = deps.pendingRevisions ?? NO_PENDING_REVISIONS;
  const clock = deps.clock ?? systemClock;
  const claimant = deps.claimant ?? thisProcess();
  const reportsDir = config.reports.dir;

  const report = (outcome: CloseOutcome): CloseOutcome => {
    deps.onOutcome?.(outcome);
    return outcome;
  };

  /** Renders and writes a recorded revision's files, then appends its journal rows; each step marked when done. */
  const finish = async (record: RevisionRecord): Promise<void> => {
    const { month, revision } = record;
    if (!record.filesWritten) {
      if (!record.credits || !record.terms) throw new Error(`${month} revision ${revision} has no figures to render`);
      const all = records.revisions(month).filter((r) => r.revision <= revision);
      // Where each customer's latest report is: rendered again in a revision only when its figures changed.
      const reportOf = new Map<string, string>();
      let rendered: string[] = [];
      for (const [i, current] of all.entries()) {
        const previous = all[i - 1];
        const customers = current.credits
          ? previous
            ? changedCustomers(previous, { credits: current.credits, terms: current.terms })
            : current.credits.customers.map((c) => c.id)
          : [];
        for (const id of customers) reportOf.set(id, join(revisionSubdir(current.revision), `${id}.pdf`));
        if (current.revision === revision) rendered = customers;
      }
      const previous = all.find((r) => r.revision === revision - 1);
      const files = await renderRevisionFiles({
        credits: record.credits,
        terms: record.terms,
        revision,
        ...(previous ? { replaces: { revision: previous.revision, closedAtMs: previous.closedAtMs } } : {}),
        reason: record.reason,
        changes: record.changes,
        customers: rendered,
        reportFileOf: (id) => reportOf.get(id) ?? `${id}.pdf`,
        onProgress: deps.onProgress,
      });
      const manifestSha256 = writeRevisionFiles(record.dir, files);
      records.markFilesWritten(month, revision, manifestSha256);
      deps.onStep?.('files-written', month, revision);
    }
    if (!record.journalWritten) {
      const rows = records.journal(month).filter((row) => row.revision === revision);
      await withJournalLock({ reportsDir, claimant, clock, work: () => appendJournal(reportsDir, rows) });
      records.markJournalWritten(month, revision);
      deps.onStep?.('journal-written', month, revision);
    }
  };

  /** Finishes the month's unfinished revisions (the caller holds the month's claim). */
  const finishMonth = async (month: string) => {
    for (const record of records.unfinishedRevisions()) {
      if (record.month !== month) continue;
      logger.warn(
        { month, revision: record.revision },
        'finishing a revision whose files or journal rows were not all written',
      );
      await finish(record);
    }
  };

  /**
   * Records revision 1 for a month folder written before the state database existed, from its ledger. Its credits
   * were issued (and settled) then: the journal gets them as an opening balance, not as payments. A folder written
   * before the month could be closed (the old `report` allowed it) is recorded too, but held for a restatement.
   */
  const adoptLegacy = (month: string): void => {
    const dir = revisionDir(reportsDir, month, 1);
    if (records.latestSummary(month) || !hasManifest(dir)) return;
    const manifestText = readFileSync(join(dir, MANIFEST), 'utf8');
    if ((JSON.parse(manifestText) as { revision?: number }).revision !== undefined) {
      throw new Error(
        `${dir} holds revision files that ${records.description} does not know: is another state database closing into the same reports folder?`,
      );
    }
    let ledger: Ledger;
    try {
      ledger = JSON.parse(readFileSync(join(dir, 'ledger.json'), 'utf8')) as Ledger;
    } catch (error) {
      throw new Error(
        `${dir} was closed before the state database existed, but its ledger.json cannot be read: ${(error as Error).message}`,
        { cause: error },
      );
    }
    const closedAtMs = Math.floor(statSync(join(dir, MANIFEST)).mtimeMs);
    const toGrosze = (amount: string) => Number(amount.replace('.', ''));
    const reason = 'issued before the state database existed (opening balance, already settled)';
    const rows: JournalRow[] = ledger.rows.map((row) => ({
      entry: 'opening-balance',
      month,
      revision: 1,
      creditId: row.creditId,
      customerId: row.customerId,
      serverId: row.serverId,
      previousGrosze: 0,
      newGrosze: toGrosze(row.creditAmount),
      deltaGrosze: toGrosze(row.creditAmount),
      reason,
      closedAtMs,
      closedBy: 'adopted',
    }));
    records.issueRevision(
      {
        month,
        revision: 1,
        kind: 'adopted',
        credits: null,
        terms: null,
        creditsSha256: jsonSha256(ledger.rows),
        termsSha256: '',
        totalGrosze: toGrosze(ledger.summary.totalAmount),
        dir,
        closedAtMs,
        closedBy: 'adopted',
        reason,
        changes: [],
      },
      rows,
    );
    records.markFilesWritten(month, 1, jsonSha256(manifestText));
    logger.warn(
      { month, dir },
      'recorded a month closed before the state database existed as its revision 1 (its credits enter the journal as an opening balance)',
    );
    const closableAt = closableAtMs(config, month);
    if (closedAtMs < closableAt) {
      const why = `revision 1 of ${month} was written at ${new Date(closedAtMs).toISOString()}, before the month could be closed (${new Date(closableAt).toISOString()}); its figures may miss the end of the month: restate it`;
      records.hold(month, 'needs-review', why, clock.now());
      logger.error({ month, dir }, why);
    }
  };

  /**
   * The month's figures and terms as the store and configuration give them now, once the evidence is complete.
   * While observations are still on their way nothing is read (the store may not even answer); with parked lines,
   * which waiting cannot resolve, the figures are read for a person to review, with the reason.
   */
  const currentFigures = async (
    month: string,
    waitMs: number | undefined,
    signal: AbortSignal | undefined,
  ): Promise<
    { waiting: string } | { waiting?: undefined; parked?: string; credits: MonthCredits; terms: TermsSnapshot }
  > => {
    deps.onProgress?.({ phase: 'waiting for evidence' });
    const wait = waitMs ?? config.sla.evidenceWaitMs;
    const verdict = await awaitCompleteEvidence({
      sources: deps.evidence,
      ...monthReadRange(config, month),
      waitMs: wait,
      clock,
      ...(signal ? { signal } : {}),
      onWaiting: (reason) =>
        logger.info({ month, waitMs: wait }, `closing ${month} waits up to ${wait / 1_000} s for evidence: ${reason}`),
    });
    if (!verdict.complete && verdict.parked === 0) return { waiting: verdict.reason };
    // Read once: the figures and the terms snapshot beside them name the same records.
    const window = monthWindow(month, config.timeZone);
    const people = serverRecords(config, deps.operatorRecords, window);
    // Cut short by a stop: the worker's computation is dropped, and ends when the daemon's stop closes the worker.
    const credits = computed(await unlessAborted(computations.credits(month, people, progress), signal));
    const terms = termsSnapshot(config, people, month);
    return { ...(verdict.complete ? {} : { parked: verdict.reason }), credits, terms };
  };

  /** Holds a month for review with a draft of these figures in a folder of its own; `approve` names its hash. */
  const holdForReview = async (
    month: string,
    purpose: 'close' | 'restatement',
    reason: string,
    credits: MonthCredits,
    terms: TermsSnapshot,
    by: string,
    servers: UnderMonitoredServer[],
    restateReason?: string,
  ): Promise<CloseOutcome> => {
    const baseRevision = records.latestSummary(month)?.revision ?? 0;
    const basis = { purpose, baseRevision };
    const hash = draftHash(credits, terms, basis);
    const dir = heldDraftDir(reportsDir, month, hash);
    const draft = await writeDraftFiles({
      reportsDir,
      credits,
      terms,
      heldFor: reason,
      basis,
      dir,
      onProgress: deps.onProgress,
    });
    const previous = records.month(month);
    records.hold(
      month,
      'needs-review',
      reason,
      clock.now(),
      { servers },
      {
        hash,
        month,
        purpose,
        baseRevision,
        credits,
        terms,
        ...(restateReason ? { reason: restateReason } : {}),
        createdAtMs: clock.now(),
        createdBy: by,
      },
    );
    if (previous?.draftHash !== hash) {
      logger.error(
        { month, reason, servers, draftHash: hash, draftDir: draft.dir },
        `month ${month} is held for review: ${reason}; review the draft, then run: uptime-credits approve --month ${month} --draft-hash ${hash} --reason "..."`,
      );
    }
    return { status: 'needs-review', month, reason, draftHash: hash, draftDir: draft.dir, servers };
  };

  const hold = (month: string, reason: string): CloseOutcome => {
    records.hold(month, 'held', reason, clock.now());
    logger.error({ month, reason }, `closing ${month} is held, nothing was published: ${reason}`);
    return { status: 'held', month, reason };
  };

  /** Records and writes the revision after `base` (the one the decision was made on); the records refuse it when another was issued meanwhile. */
  const issue = async (
    month: string,
    base: RevisionRecord | undefined,
    figures: { credits: MonthCredits; terms: TermsSnapshot },
    kind: RevisionKind,
    why: { reason: string; approval?: string },
    by: string,
  ): Promise<CloseOutcome> => {
    const { credits, terms } = figures;
    const revision = (base?.revision ?? 0) + 1;
    const dir = revisionDir(reportsDir, month, revision);
    if (hasManifest(dir)) {
      throw new Error(
        `${dir} already holds an issued revision that ${records.description} does not know; is another state database closing into the same reports folder?`,
      );
    }
    const closedAtMs = clock.now();
    const paid = paidByCredit(records.journal(month));
    const changes = base
      ? [
          ...figureDifferences(paid, base.credits, credits),
          ...(base.terms ? termsDifferences(base.terms, terms).map((d) => `terms: ${d}`) : []),
        ]
      : [];
    const journalReason = why.approval ? `${why.reason} (approved: ${why.approval})` : why.reason;
    const rows = journalRowsFor(month, revision, paid, credits, { reason: journalReason, closedAtMs, closedBy: by });
    records.issueRevision(
      {
        month,
        revision,
        kind,
        credits,
        terms,
        creditsSha256: creditsSha256(credits),
        termsSha256: jsonSha256(terms),
        totalGrosze: credits.creditAmountGrosze,
        dir,
        closedAtMs,
        closedBy: by,
        reason: why.reason,
        ...(why.approval ? { approval: why.approval } : {}),
        changes,
      },
      rows,
    );
    deps.onStep?.('recorded', month, revision);
    const recorded = records.latestRevision(month);
    if (!recorded) throw new Error(`${month} revision ${revision} is not in the records right after it was recorded`);
    await finish(recorded);
    logger.info(
      {
        month,
        revision,
        kind,
        dir,
        total: formatGrosze(credits.creditAmountGrosze),
        journalRows: rows.length,
        by,
        changes,
      },
      revision === 1 ? 'month closed' : 'month restated',
    );
    return {
      status: 'issued',
      month,
      revision,
      kind,
      dir,
      totalGrosze: credits.creditAmountGrosze,
      journalRows: rows.length,
      differences: changes,
    };
  };

  /**
   * Runs `work` holding the month's claim, after finishing what a crash left and adopting a legacy folder. A failure
   * holds the month (when nothing is issued) and is reported; work cut short by a stop (`signal`, or the computations
   * closed) rejects and leaves no record: the month is taken up again as if this run had not started.
   */
  const claimed = async (
    month: string,
    signal: AbortSignal | undefined,
    work: () => Promise<CloseOutcome>,
  ): Promise<CloseOutcome> => {
    try {
      const result = await withMonthClaim({
        month,
        records,
        reportsDir,
        claimant,
        clock,
        work: async () => {
          adoptLegacy(month);
          await finishMonth(month);
          return work();
        },
      });
      return report(result.taken ? result.value : { status: 'busy', month, holder: result.holder });
    } catch (error) {
      // Cut short by a stop (this run's signal, or the computations closed under an API request): not a failure. A
      // failure that merely happens during a stop (once recording began) is one, and is reported as such.
      if (isAbortOf(signal, error) || error instanceof ComputationsClosedError) throw error;
      const reason = (error as Error).message;
      try {
        if (!records.latestSummary(month)) records.hold(month, 'held', reason, clock.now());
      } catch {
        // the state database itself failed; the error below says so
      }
      logger.error({ err: error, month }, `closing ${month} failed; it is retried`);
      return report({ status: 'failed', month, reason });
    }
  };

  const compareWithIssued = (month: string, base: RevisionRecord, credits: MonthCredits): CloseOutcome => {
    const paid = paidByCredit(records.journal(month));
    const equal = base.credits
      ? base.creditsSha256 === creditsSha256(credits)
      : creditChanges(paid, credits).length === 0;
    if (equal) {
      // A held restatement whose change was undone (a withdrawn correction) has nothing left to approve.
      if (records.month(month)?.state === 'needs-review') {
        records.releaseReview(month, clock.now());
        logger.info(
          { month, revision: base.revision },
          `the restatement of ${month} held for review is no longer needed: the figures equal revision ${base.revision} again`,
        );
      }
      return { status: 'unchanged', month, revision: base.revision };
    }
    return {
      status: 'differs',
      month,
      revision: base.revision,
      differences: figureDifferences(paid, base.credits, credits),
    };
  };

  const reviewReason = (under: UnderMonitoredServer[]) =>
    `${under.length} server(s) monitored for less than ${formatMicroPercent(config.sla.minMonitoredMicroPercent)} % of their eligible time: ${under.map((s) => `${s.server} ${s.monitoredPercent} %`).join(', ')}`;

  const isIssued = (month: string) =>
    records.latestSummary(month) !== undefined || hasManifest(revisionDir(reportsDir, month, 1));

  /**
   * Runs a close or restatement (under the month's claim) that reads the records after the pending requests it
   * settles: those up to the latest one seen before the figures were read are settled once the outcome includes them
   * (issued, unchanged, or a draft held for review). Later ones stay for the next pass.
   */
  const settling = async (
    month: string,
    work: (owed: ReturnType<PendingRevisions['pending']>) => Promise<CloseOutcome>,
  ): Promise<CloseOutcome> => {
    const owed = pending.pending(month);
    const outcome = await work(owed);
    if (owed && (outcome.status === 'issued' || outcome.status === 'unchanged' || outcome.status === 'needs-review'))
      pending.settle(month, owed.upToId, clock.now());
    return outcome;
  };

  /**
   * Why a restatement is made, as its journal rows and customers read it: the reason asked for, the record changes
   * it settles, and those of a restatement still waiting for approval that it replaces (settled when that was held,
   * but not issued yet). Undefined when there is none: nothing is owed any more.
   */
  const restatementReason = (
    month: string,
    baseRevision: number,
    asked: string | undefined,
    owed: ReturnType<PendingRevisions['pending']>,
  ): string | undefined => {
    const state = records.month(month);
    const replaced =
      state?.state === 'needs-review' && state.draftHash ? records.draft(month, state.draftHash) : undefined;
    const carried =
      replaced?.purpose === 'restatement' && replaced.baseRevision === baseRevision && replaced.reason
        ? replaced.reason.split('; ')
        : [];
    const parts = [...new Set([...(asked ? [asked] : []), ...carried, ...(owed?.reasons ?? [])])];
    return parts.length > 0 ? parts.join('; ') : undefined;
  };

  /**
   * The next revision of an issued month from the evidence as it is now, for the reason asked (none: for the record
   * changes it settles). Record changes that alter only what the reports show (a window's reason, an announcement
   * replaced by another) restate too, so no revision keeps showing a record that no longer stands.
   */
  const restateWith = async (
    month: string,
    by: string,
    asked: string | undefined,
    waitMs: number | undefined,
    signal: AbortSignal | undefined,
  ): Promise<CloseOutcome> => {
    if (!isIssued(month)) return report({ status: 'not-closed', month });
    return claimed(month, signal, () =>
      settling(month, async (owed) => {
        const base = records.latestRevision(month);
        if (!base) throw new Error(`${month} is issued but has no revision in the records`);
        const reason = restatementReason(month, base.revision, asked, owed);
        // A customer of an issued revision that is no longer configured would silently lose its credit.
        const gone = (base.credits?.customers ?? [])
          .map((c) => c.id)
          .filter((id) => !config.customers.some((c) => c.id === id));
        if (gone.length > 0) {
          return {
            status: 'rejected',
            month,
            reason: `customer(s) ${gone.join(', ')} of revision ${base.revision} are no longer in the configuration; keep them (end their servers' coverage with until) to restate ${month}`,
          };
        }
        const figures = await currentFigures(month, waitMs, signal);
        if (figures.waiting !== undefined) return { status: 'held', month, reason: figures.waiting };
        const { credits, terms } = figures;
        if (figures.parked !== undefined)
          return holdForReview(month, 'restatement', figures.parked, credits, terms, by, [], reason);
        const compared = compareWithIssued(month, base, credits);
        const recordsShownChanged = owed !== undefined && base.terms !== null && base.termsSha256 !== jsonSha256(terms);
        if (reason === undefined || (compared.status === 'unchanged' && !recordsShownChanged)) return compared;
        // Too little evidence holds a restatement only where it is new: a share already accepted in the revision it
        // replaces (approved then) is not asked about again unless it got worse.
        const accepted = new Map(
          base.credits?.customers.flatMap((c) => c.servers.map((s) => [s.id, s.unmonitoredMs] as const)) ?? [],
        );
        const under = underMonitoredServers(credits, config.sla.minMonitoredMicroPercent).filter(
          (s) => (accepted.get(s.server) ?? -1) < s.unmonitoredMs,
        );
        if (under.length > 0)
          return holdForReview(month, 'restatement', reviewReason(under), credits, terms, by, under, reason);
        const lowered = creditChanges(paidByCredit(records.journal(month)), credits).filter(
          (row) => row.deltaGrosze < 0,
        );
        if (lowered.length > 0) {
          const what = lowered
            .map((row) => `${row.creditId} ${formatGrosze(row.previousGrosze)} -> ${formatGrosze(row.newGrosze)}`)
            .join(', ');
          return holdForReview(
            month,
            'restatement',
            `the restatement lowers ${lowered.length} credit(s) already issued (${what})`,
            credits,
            terms,
            by,
            [],
            reason,
          );
        }
        return issue(month, base, { credits, terms }, 'restatement', { reason }, by);
      }),
    );
  };

  const closeMonth = async (
    month: string,
    { by, waitMs, signal }: { by: string; waitMs?: number; signal?: AbortSignal },
  ): Promise<CloseOutcome> => {
    const closableAt = closableAtMs(config, month);
    if (clock.now() < closableAt) return report({ status: 'not-closable', month, closableAtMs: closableAt });
    return claimed(month, signal, () =>
      settling(month, async () => {
        const figures = await currentFigures(month, waitMs, signal);
        const base = records.latestRevision(month);
        if (figures.waiting !== undefined)
          return base ? { status: 'held', month, reason: figures.waiting } : hold(month, figures.waiting);
        const { credits, terms } = figures;
        if (figures.parked !== undefined)
          return base
            ? { status: 'held', month, reason: figures.parked }
            : holdForReview(month, 'close', figures.parked, credits, terms, by, []);
        if (base) return compareWithIssued(month, base, credits);
        const under = underMonitoredServers(credits, config.sla.minMonitoredMicroPercent);
        if (under.length > 0) return holdForReview(month, 'close', reviewReason(under), credits, terms, by, under);
        return issue(month, undefined, { credits, terms }, 'close', { reason: 'monthly close' }, by);
      }),
    );
  };

  return {
    close: closeMonth,

    async restate(month, { by, reason, waitMs, signal }) {
      if (reason.trim() === '')
        return report({ status: 'rejected', month, reason: 'a restatement needs a reason', invalid: true });
      return restateWith(month, by, reason, waitMs, signal);
    },

    async revise(month, { by, signal }) {
      if (!pending.pending(month))
        return { month, action: 'none', why: 'nothing owed: its figures already include the records' };
      if (isIssued(month))
        return { month, action: 'restate', outcome: await restateWith(month, by, undefined, undefined, signal) };
      if (records.month(month)?.state === 'needs-review')
        return { month, action: 'reclose', outcome: await closeMonth(month, { by, ...(signal ? { signal } : {}) }) };
      const held = records.month(month)?.state === 'held';
      return {
        month,
        action: 'none',
        why: held
          ? 'held: its next close attempt takes the records as they are then'
          : 'not closed yet: its close will take the records as they are then',
      };
    },

    async approve(month, { by, draftHash: hashOrPrefix, reason }) {
      if (reason.trim() === '')
        return report({ status: 'rejected', month, reason: 'an approval needs a reason', invalid: true });
      if (!records.draft(month, hashOrPrefix)) {
        return report({
          status: 'rejected',
          month,
          reason: `no held draft of ${month} has the hash ${hashOrPrefix} (give the whole hash, or a unique prefix of 12 or more characters)`,
          invalid: true,
        });
      }
      return claimed(month, undefined, async () => {
        // Checked under the claim: nothing can replace the held draft between the check and the issue.
        const state = records.month(month);
        const draft = records.draft(month, hashOrPrefix);
        if (state?.state !== 'needs-review')
          return {
            status: 'rejected',
            month,
            reason: `${month} is not waiting for review (state: ${state?.state ?? 'not closed'})`,
          };
        if (!draft)
          return {
            status: 'rejected',
            month,
            reason: `no held draft of ${month} has the hash ${hashOrPrefix} any more`,
          };
        if (draft.hash !== state.draftHash) {
          return {
            status: 'rejected',
            month,
            reason: `draft ${draft.hash.slice(0, 12)} was replaced by ${state.draftHash ? `draft ${state.draftHash.slice(0, 12)}, made from newer evidence; review that one` : 'a newer hold without a draft'}`,
          };
        }
        const base = records.latestRevision(month);
        if ((base?.revision ?? 0) !== draft.baseRevision)
          return {
            status: 'rejected',
            month,
            reason: `revision ${base?.revision} was issued after this draft was made; make a new one`,
          };
        const kind = draft.purpose === 'close' ? 'approval' : 'restatement';
        return issue(
          month,
          base,
          { credits: draft.credits, terms: draft.terms },
          kind,
          { reason: draft.reason ?? 'monthly close', approval: reason },
          by,
        );
      });
    },

    async draft(month, options = {}) {
      const window = monthWindow(month, config.timeZone);
      const now = clock.now();
      const running = now < window.toMs;
      const people = serverRecords(config, deps.operatorRecords, window);
      const credits = running
        ? computed(await computations.monthToDateCredits(month, now, people, progress)).credits
        : computed(await computations.credits(month, people, progress));
      const terms = termsSnapshot(config, people, month);
      if (options.customerId && !credits.customers.some((c) => c.id === options.customerId))
        throw new Error(`customer "${options.customerId}" is not in the configuration`);
      const written = await writeDraftFiles({
        reportsDir,
        credits,
        terms,
        ...(options.customerId ? { customerId: options.customerId } : {}),
        ...(running ? { asOfMs: Math.max(now, window.fromMs) } : {}),
        onProgress: deps.onProgress,
      });
      return {
        status: 'draft',
        month,
        dir: written.dir,
        hash: written.hash,
        written: written.written,
        ...(running ? { asOfMs: Math.max(now, window.fromMs) } : {}),
      };
    },

    async recover() {
      const problems: string[] = [];
      for (const month of new Set(records.unfinishedRevisions().map((r) => r.month))) {
        try {
          const result = await withMonthClaim({
            month,
            records,
            reportsDir,
            claimant,
            clock,
            work: () => finishMonth(month),
          });
          if (!result.taken)
            logger.info(
              { month, holder: result.holder.owner },
              'an unfinished revision is being finished by another process',
            );
        } catch (error) {
          problems.push(month);
          logger.error(
            { err: error, month },
            `a revision of ${month} is recorded but its files or journal rows cannot be written; it is retried`,
          );
          report({ status: 'failed', month, reason: (error as Error).message });
        }
      }
      return problems;
    },
  };
}
