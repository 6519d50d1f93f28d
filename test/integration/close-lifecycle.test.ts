// The month close as a money process, on real files: drafts, closes, restatements, holds and approvals, terms
// in force. The closer runs in this process on a simulated clock; the store and the state database are real.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { afterEach, describe, expect, it } from 'vitest';
import { readJournalFile } from '../../src/close/journal-files.js';
import { createRecordKeeper } from '../../src/close/record-changes.js';
import type { CloseOutcome } from '../../src/close/month-closer.js';
import { ComputationsClosedError, inThreadComputations } from '../../src/close/month-computations.js';
import { createLogger } from '../../src/logging.js';
import { createMonthEndJob } from '../../src/scheduler/month-end.js';
import { closeFixture, DEFAULT_CUSTOMERS, type CloseFixture } from '../support/close-fixture.js';
import { capturedLog } from '../support/captured-log.js';

const H = 3_600_000;
const MIN = 60_000;
const at = (iso: string) => Date.parse(iso);
/** A reported outage of oci-101: 3 h of October on Platinum (99.5973 %, a 25 % credit of 600.00 PLN). */
const OUTAGE_OCT_20 = {
  serverId: 'oci-101',
  kind: 'reported' as const,
  fromMs: at('2026-10-20T08:00:00Z'),
  toMs: at('2026-10-20T11:00:00Z'),
  reason: 'ticket',
};
const pdfText = (path: string) => execFileSync('pdftotext', ['-layout', path, '-'], { encoding: 'utf8' });
const sha256 = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

/** SHA-256 of every file directly in a folder (not its sub-folders). */
function hashes(dir: string): Record<string, string> {
  return Object.fromEntries(
    readdirSync(dir)
      .filter((name) => statSync(join(dir, name)).isFile())
      .sort()
      .map((name) => [name, sha256(join(dir, name))]),
  );
}

const fixtures: CloseFixture[] = [];
afterEach(async () => {
  await Promise.all(fixtures.splice(0).map((f) => f.dispose()));
});
async function fixture(options: Parameters<typeof closeFixture>[0]): Promise<CloseFixture> {
  const f = await closeFixture(options);
  fixtures.push(f);
  return f;
}

// October 2026 in Warsaw: 2026-09-30T22:00Z to 2026-10-31T23:00Z (745 h). November: to 2026-11-30T23:00Z (720 h).
const OCT = { fromMs: at('2026-09-30T20:00:00Z'), toMs: at('2026-11-01T02:00:00Z') };
const NOV = { fromMs: at('2026-10-31T20:00:00Z'), toMs: at('2026-12-01T02:00:00Z') };
const NOV_CLOSABLE = '2026-11-30T23:15:00Z'; // its end plus closeDelay 15 min (more than 3 x staleAfter 3 min)

function expectIssued(outcome: CloseOutcome): Extract<CloseOutcome, { status: 'issued' }> {
  expect(outcome.status, JSON.stringify(outcome)).toBe('issued');
  return outcome as Extract<CloseOutcome, { status: 'issued' }>;
}

const ledgerRows = (path: string) =>
  parse(readFileSync(path, 'utf8'), { bom: true, columns: true }) as Record<string, string>[];
const journalSum = (f: CloseFixture, month: string) =>
  f.records.journal(month).reduce((sum, row) => sum + row.deltaGrosze, 0);

describe('closing too early is refused; the money owed reaches the ledger when the month is over', () => {
  it('report-too-early regression: an 8-hour outage after the attempt is credited in full', async () => {
    const f = await fixture({ nowIso: '2026-11-20T12:00:00Z' });
    await f.observe(
      { server: 'oci-101', fromMs: NOV.fromMs, toMs: f.clock.now(), everyMs: MIN },
      { server: 'oci-5', fromMs: NOV.fromMs, toMs: f.clock.now(), everyMs: MIN },
    );

    expect(await f.closer.close('2026-11', { by: 'test' })).toEqual({
      status: 'not-closable',
      month: '2026-11',
      closableAtMs: at(NOV_CLOSABLE),
    });
    expect(existsSync(join(f.reportsDir, '2026-11'))).toBe(false);
    expect(f.records.months()).toEqual([]);

    // The rest of November, with 8 hours down on the 25th: 712/720 h = 98.8888 % -> Platinum < 99 -> 300 % of 600.00.
    const rest = { fromMs: f.clock.now(), toMs: NOV.toMs, everyMs: MIN };
    await f.observe(
      { server: 'oci-101', ...rest, down: [{ fromMs: at('2026-11-25T10:00:00Z'), toMs: at('2026-11-25T18:00:00Z') }] },
      { server: 'oci-5', ...rest },
    );
    await f.clock.advanceTo(at(NOV_CLOSABLE) - 1);
    expect((await f.closer.close('2026-11', { by: 'test' })).status).toBe('not-closable');
    await f.clock.advanceTo(at(NOV_CLOSABLE));
    const issued = expectIssued(await f.closer.close('2026-11', { by: 'schedule' }));
    expect(issued).toMatchObject({ revision: 1, kind: 'close', totalGrosze: 180_000, journalRows: 1 });
    const rows = ledgerRows(join(f.reportsDir, '2026-11', 'ledger.csv'));
    expect(
      rows.map((r) => [
        r.credit_id,
        r.revision,
        r.uptime_percent,
        r.monitored_percent,
        r.credit_percent,
        r.credit_amount,
        r.amount_basis,
      ]),
    ).toEqual([['UC-2026-11-acme-oci-101', '1', '98.8888', '100.00', '300.00', '1800.00', 'net']]);
    expect(
      readJournalFile(f.reportsDir).map((r) => [r.credit_id, r.previous_amount, r.new_amount, r.delta, r.closed_by]),
    ).toEqual([['UC-2026-11-acme-oci-101', '0.00', '1800.00', '1800.00', 'schedule']]);
    expect(f.records.month('2026-11')).toMatchObject({ state: 'closed', revision: 1 });
  });
});

describe('drafts', () => {
  it('a draft of a running month is marked on every page, counts only elapsed time, and touches no record', async () => {
    const f = await fixture({ nowIso: '2026-11-20T12:00:00Z' });
    const soFar = { fromMs: NOV.fromMs, toMs: f.clock.now(), everyMs: MIN };
    await f.observe(
      { server: 'oci-101', ...soFar, down: [{ fromMs: at('2026-11-05T09:00:00Z'), toMs: at('2026-11-05T12:00:00Z') }] },
      { server: 'oci-5', ...soFar },
    );
    const draft = await f.closer.draft('2026-11');
    expect(draft).toMatchObject({
      status: 'draft',
      dir: join(f.reportsDir, '2026-11', 'draft'),
      asOfMs: f.clock.now(),
    });
    expect(readdirSync(draft.dir).sort()).toEqual(['acme.pdf', 'calm.pdf', 'draft.json']);
    expect(readdirSync(join(f.reportsDir, '2026-11'))).toEqual(['draft']);
    expect(existsSync(join(f.reportsDir, 'journal.csv'))).toBe(false);
    expect(f.records.months()).toEqual([]);

    // 1 Nov 00:00 local (31 Oct 23:00 UTC) to 20 Nov 12:00 UTC is 469 h; 3 h down: 466/469 = 99.3603 % -> 50 % of 600.00.
    const document = JSON.parse(readFileSync(join(draft.dir, 'draft.json'), 'utf8'));
    expect(document.hash).toBe(draft.hash);
    expect(document.asOf).toBe('2026-11-20T12:00:00.000Z');
    expect(document.credits.customers[0].servers[0]).toMatchObject({
      eligibleMs: 469 * H,
      downtimeMs: 3 * H,
      uptimePercent: '99.3603',
      creditAmount: '300.00',
    });
    const polish = pdfText(join(draft.dir, 'acme.pdf'));
    expect(polish).toContain('PROJEKT');
    expect(polish).toContain('Miesiąc w toku');
    expect(pdfText(join(draft.dir, 'calm.pdf'))).toContain('DRAFT');

    // Drafts can be rendered any number of times; a customer-only draft renders just that PDF.
    const again = await f.closer.draft('2026-11', { customerId: 'calm' });
    expect(again.written).toEqual(['calm.pdf']);
    expect(f.records.months()).toEqual([]);
  });
});

describe('restatements', () => {
  it('issue revision 2 beside revision 1, which keeps its bytes; the journal deltas sum to the new total', async () => {
    const f = await fixture({ nowIso: '2026-11-02T00:00:00Z' });
    await f.observe(
      {
        server: 'oci-101',
        ...OCT,
        everyMs: MIN,
        down: [{ fromMs: at('2026-10-03T12:00:00Z'), toMs: at('2026-10-03T15:00:00Z') }],
      },
      { server: 'oci-5', ...OCT, everyMs: MIN },
    );
    expect(expectIssued(await f.closer.close('2026-10', { by: 'test' })).totalGrosze).toBe(15_000);
    const monthDir = join(f.reportsDir, '2026-10');
    const revision1 = hashes(monthDir);
    expect(Object.keys(revision1)).toEqual([
      'acme.pdf',
      'calm.pdf',
      'ledger.csv',
      'ledger.json',
      'manifest.json',
      'terms.json',
    ]);

    // New evidence: the silver server's web check failed for 6 h on 20 Oct (a ticket's outage, imported).
    await f.observe({
      server: 'oci-5',
      check: 'http',
      fromMs: at('2026-10-20T08:00:00Z'),
      toMs: at('2026-10-20T14:00:00Z'),
      everyMs: MIN,
      down: [{ fromMs: 0, toMs: at('2026-10-20T13:59:00Z') }],
    });
    const differs = await f.closer.close('2026-10', { by: 'test' });
    expect(differs).toMatchObject({
      status: 'differs',
      revision: 1,
      differences: ['credit UC-2026-10-calm-oci-5: 0.00 -> 75.00 PLN (+75.00)', 'total: 150.00 -> 225.00 PLN'],
    });
    expect(hashes(monthDir)).toEqual(revision1);

    const restated = expectIssued(
      await f.closer.restate('2026-10', { by: 'test', reason: 'ticket 1234: outage of WWW on 20 Oct' }),
    );
    expect(restated).toMatchObject({
      revision: 2,
      kind: 'restatement',
      dir: join(monthDir, 'rev-2'),
      totalGrosze: 22_500,
      journalRows: 1,
    });
    expect(hashes(monthDir)).toEqual(revision1);
    // Only the customer whose figures changed gets a new PDF; it says what it replaces and why.
    expect(readdirSync(join(monthDir, 'rev-2')).sort()).toEqual([
      'calm.pdf',
      'ledger.csv',
      'ledger.json',
      'manifest.json',
      'terms.json',
    ]);
    const correction = pdfText(join(monthDir, 'rev-2', 'calm.pdf')).replace(/\s+/g, ' ');
    expect(correction).toContain('replaces revision 1');
    expect(correction).toContain('ticket 1234: outage of WWW on 20 Oct');
    expect(
      ledgerRows(join(monthDir, 'rev-2', 'ledger.csv')).map((r) => [
        r.credit_id,
        r.revision,
        r.credit_amount,
        r.report_file,
      ]),
    ).toEqual([
      ['UC-2026-10-acme-oci-101', '2', '150.00', 'acme.pdf'],
      ['UC-2026-10-calm-oci-5', '2', '75.00', 'rev-2/calm.pdf'],
    ]);
    expect(journalSum(f, '2026-10')).toBe(22_500);
    expect(readJournalFile(f.reportsDir).map((r) => [r.revision, r.credit_id, r.delta, r.reason])).toEqual([
      [1, 'UC-2026-10-acme-oci-101', '150.00', 'monthly close'],
      [2, 'UC-2026-10-calm-oci-5', '75.00', 'ticket 1234: outage of WWW on 20 Oct'],
    ]);

    // Restating again with the same evidence writes nothing and appends nothing.
    const journalBefore = [
      readFileSync(join(f.reportsDir, 'journal.csv')),
      readFileSync(join(f.reportsDir, 'journal.jsonl')),
    ];
    expect(await f.closer.restate('2026-10', { by: 'test', reason: 'again' })).toEqual({
      status: 'unchanged',
      month: '2026-10',
      revision: 2,
    });
    expect(readFileSync(join(f.reportsDir, 'journal.csv')).equals(journalBefore[0]!)).toBe(true);
    expect(readFileSync(join(f.reportsDir, 'journal.jsonl')).equals(journalBefore[1]!)).toBe(true);
    expect(existsSync(join(monthDir, 'rev-3'))).toBe(false);
    expect(f.records.month('2026-10')).toMatchObject({ state: 'restated', revision: 2 });
  });

  it('a restatement that lowers a credit is held for approval, then issued with a negative delta', async () => {
    const f = await fixture({ nowIso: '2026-11-02T00:00:00Z' });
    await f.observe(
      {
        server: 'oci-101',
        ...OCT,
        everyMs: MIN,
        down: [{ fromMs: at('2026-10-03T12:00:00Z'), toMs: at('2026-10-03T15:00:00Z') }],
      },
      { server: 'oci-5', ...OCT, everyMs: MIN },
    );
    expectIssued(await f.closer.close('2026-10', { by: 'test' }));
    // The outage turns out to have been announced maintenance: 1 h of it is now excluded. 2 h of 744 h: 99.7311 %.
    f.reconfigure(
      `${DEFAULT_CUSTOMERS}\nmaintenance:\n  - { server: oci-101, from: "2026-10-03T14:00:00+02:00", to: "2026-10-03T15:00:00+02:00", reason: "announced on 1 Oct", announcedAt: "2026-10-01T10:00:00+02:00" }\n`,
    );
    const held = await f.closer.restate('2026-10', { by: 'test', reason: 'maintenance of 3 Oct was announced' });
    expect(held.status).toBe('needs-review');
    const review = held as Extract<CloseOutcome, { status: 'needs-review' }>;
    expect(review.reason).toContain('lowers 1 credit(s) already issued (UC-2026-10-acme-oci-101 150.00 -> 60.00)');
    expect(f.records.month('2026-10')).toMatchObject({
      state: 'needs-review',
      revision: 1,
      draftHash: review.draftHash,
    });
    expect(existsSync(join(f.reportsDir, '2026-10', 'rev-2'))).toBe(false);
    expect(f.records.journal('2026-10')).toHaveLength(1);

    expect(await f.closer.approve('2026-10', { by: 'finance', draftHash: 'f'.repeat(64), reason: 'ok' })).toMatchObject(
      { status: 'rejected' },
    );
    const approved = expectIssued(
      await f.closer.approve('2026-10', {
        by: 'finance',
        draftHash: review.draftHash.slice(0, 16),
        reason: 'checked with the customer',
      }),
    );
    expect(approved).toMatchObject({ revision: 2, kind: 'restatement', totalGrosze: 6_000 });
    expect(
      f.records.journal('2026-10').map((r) => [r.revision, r.creditId, r.deltaGrosze, r.reason, r.closedBy]),
    ).toEqual([
      [1, 'UC-2026-10-acme-oci-101', 15_000, 'monthly close', 'test'],
      [
        2,
        'UC-2026-10-acme-oci-101',
        -9_000,
        'maintenance of 3 Oct was announced (approved: checked with the customer)',
        'finance',
      ],
    ]);
    expect(journalSum(f, '2026-10')).toBe(6_000);
    expect(f.records.month('2026-10')).toMatchObject({ state: 'restated', revision: 2 });
    // The terms changed too (a maintenance window): the restatement says so.
    expect(approved.differences).toContain('credit UC-2026-10-acme-oci-101: 150.00 -> 60.00 PLN (-90.00)');
    expect(approved.differences.some((d) => d.startsWith('terms: customers[acme].servers[oci-101].maintenance'))).toBe(
      true,
    );
  });
});

describe('evidence', () => {
  it('a month with a server monitored below the minimum is held for review, and approve issues exactly the reviewed draft', async () => {
    const f = await fixture({ nowIso: '2026-11-02T00:00:00Z' });
    // oci-5 was not observed for 4 days: (745 - 96 h - the 3 min its last probe stays fresh) / 745 = 87.11 %.
    await f.observe(
      { server: 'oci-101', ...OCT, everyMs: MIN },
      {
        server: 'oci-5',
        ...OCT,
        everyMs: MIN,
        silent: [{ fromMs: at('2026-10-10T00:00:00Z'), toMs: at('2026-10-14T00:00:00Z') }],
      },
    );
    const held = await f.closer.close('2026-10', { by: 'schedule' });
    expect(held).toMatchObject({
      status: 'needs-review',
      servers: [{ customer: 'calm', server: 'oci-5', monitoredPercent: '87.11' }],
    });
    const { draftHash, draftDir } = held as Extract<CloseOutcome, { status: 'needs-review' }>;
    expect(readdirSync(join(f.reportsDir, '2026-10'))).toEqual(['draft']);
    expect(JSON.parse(readFileSync(join(draftDir, 'draft.json'), 'utf8'))).toMatchObject({
      hash: draftHash,
      heldFor: expect.stringContaining('oci-5 87.11 %'),
    });
    expect(pdfText(join(draftDir, 'calm.pdf'))).toContain('DRAFT');
    expect(existsSync(join(f.reportsDir, 'journal.jsonl'))).toBe(false);
    expect(f.records.month('2026-10')).toMatchObject({ state: 'needs-review', revision: 0, draftHash });
    // Asking again with the same evidence holds the same draft.
    expect(await f.closer.close('2026-10', { by: 'schedule' })).toMatchObject({ status: 'needs-review', draftHash });

    const approved = expectIssued(
      await f.closer.approve('2026-10', {
        by: 'ops',
        draftHash,
        reason: 'probe location outage 10-14 Oct, customer confirmed no downtime',
      }),
    );
    expect(approved).toMatchObject({ revision: 1, kind: 'approval', totalGrosze: 0 });
    expect(hashes(join(f.reportsDir, '2026-10'))).toHaveProperty('ledger.csv');
    const issuedFigures = JSON.parse(readFileSync(join(f.reportsDir, '2026-10', 'ledger.json'), 'utf8'));
    expect(issuedFigures).toMatchObject({ revision: 1, amounts: 'net', summary: { totalAmount: '0.00' } });
    expect(f.records.latestRevision('2026-10')!.creditsSha256).toBe(
      createHash('sha256')
        .update(JSON.stringify(JSON.parse(readFileSync(join(draftDir, 'draft.json'), 'utf8')).credits))
        .digest('hex'),
    );
    // The approval is not repeatable.
    expect(await f.closer.approve('2026-10', { by: 'ops', draftHash, reason: 'again' })).toMatchObject({
      status: 'rejected',
    });
  });

  it("a close cut short by the daemon's stop (its computations closed under an API request) records nothing and is no failure", async () => {
    const outcomes: CloseOutcome[] = [];
    const f = await fixture({ nowIso: '2026-11-02T00:00:00Z' });
    await f.observe({ server: 'oci-101', ...OCT, everyMs: MIN }, { server: 'oci-5', ...OCT, everyMs: MIN });
    const computations = inThreadComputations(f.config, { store: f.store, operatorRecords: f.operatorRecords });
    f.reconfigure(DEFAULT_CUSTOMERS, {
      computations: { ...computations, credits: () => Promise.reject(new ComputationsClosedError()) },
      onOutcome: (outcome) => outcomes.push(outcome),
    });
    await expect(f.closer.close('2026-10', { by: 'api' })).rejects.toBeInstanceOf(ComputationsClosedError);
    expect(f.records.month('2026-10')).toBeUndefined(); // not held: the next start closes it as if never asked
    expect(outcomes).toEqual([]); // no close problem counted
    expect(existsSync(join(f.reportsDir, '2026-10'))).toBe(false);

    f.reconfigure(DEFAULT_CUSTOMERS);
    expectIssued(await f.closer.close('2026-10', { by: 'schedule' }));
  });

  it('a failure after the close began recording is reported as one, even when the stop came meanwhile', async () => {
    const outcomes: CloseOutcome[] = [];
    const f = await fixture({ nowIso: '2026-11-02T00:00:00Z' });
    await f.observe({ server: 'oci-101', ...OCT, everyMs: MIN }, { server: 'oci-5', ...OCT, everyMs: MIN });
    const stopping = new AbortController();
    f.reconfigure(DEFAULT_CUSTOMERS, {
      onStep: (step) => {
        if (step !== 'recorded') return;
        stopping.abort(new Error('the month-end job is stopping'));
        throw new Error('cannot write the revision files: disk full');
      },
      onOutcome: (outcome) => outcomes.push(outcome),
    });
    const outcome = await f.closer.close('2026-10', { by: 'schedule', signal: stopping.signal });
    expect(outcome).toMatchObject({ status: 'failed', reason: 'cannot write the revision files: disk full' });
    expect(outcomes).toEqual([outcome]); // counted as a close problem, not passed off as cut short
    expect(f.records.latestRevision('2026-10')).toMatchObject({ revision: 1, filesWritten: false });
  });
  it('an incident recorded as the daemon stops keeps its record and owes its revision, answered as cut short', async () => {
    const f = await fixture({ nowIso: '2026-11-02T00:00:00Z' });
    await f.observe({ server: 'oci-101', ...OCT, everyMs: MIN }, { server: 'oci-5', ...OCT, everyMs: MIN });
    expectIssued(await f.closer.close('2026-10', { by: 'schedule' }));
    // The stop comes while the restatement waits for observations still on their way.
    const stopping = new AbortController();
    f.reconfigure(DEFAULT_CUSTOMERS, {
      evidence: [
        {
          name: 'the outbox',
          unconfirmed: async () => {
            stopping.abort(new ComputationsClosedError());
            return { waiting: 1, parked: 0 };
          },
        },
      ],
    });
    const keeper = createRecordKeeper({
      config: f.config,
      operatorRecords: f.operatorRecords,
      closer: f.closer,
      clock: f.clock,
      signal: stopping.signal,
    });
    const change = await keeper.addIncident(OUTAGE_OCT_20, 'ops');
    expect(change.record).toMatchObject({ serverId: 'oci-101', reason: 'ticket' });
    expect(change.months).toEqual([
      {
        month: '2026-10',
        action: 'none',
        why: 'the daemon stopped before the revision was done: it is owed, and taken up at the next start',
      },
    ]);
    expect(f.records.latestRevision('2026-10')).toMatchObject({ revision: 1 });
    expect(f.operatorRecords.pendingMonths()).toEqual(['2026-10']);

    // The next start serves what is owed: 3 h of 745 h on Platinum, 99.5973 % -> 25 % of 600.00.
    f.reconfigure(DEFAULT_CUSTOMERS);
    expect(await f.closer.revise('2026-10', { by: 'schedule' })).toMatchObject({
      action: 'restate',
      outcome: { status: 'issued', revision: 2, totalGrosze: 15_000 },
    });
  });
});

describe("people's records through the lifecycle", () => {
  const heldMonth = async () => {
    const f = await fixture({ nowIso: '2026-11-02T00:00:00Z' });
    await f.observe(
      { server: 'oci-101', ...OCT, everyMs: MIN },
      {
        server: 'oci-5',
        ...OCT,
        everyMs: MIN,
        silent: [{ fromMs: at('2026-10-10T00:00:00Z'), toMs: at('2026-10-14T00:00:00Z') }],
      },
    );
    return {
      f,
      held: (await f.closer.close('2026-10', { by: 'schedule' })) as Extract<CloseOutcome, { status: 'needs-review' }>,
    };
  };

  it('an incident recorded while a month waits for review replaces the held draft: the old one can no longer be approved', async () => {
    const { f, held } = await heldMonth();
    const change = await f.keeper().addIncident(OUTAGE_OCT_20, 'ops');
    expect(change.months).toEqual([
      { month: '2026-10', action: 'reclose', outcome: expect.objectContaining({ status: 'needs-review' }) },
    ]);
    const replaced = (change.months[0] as { outcome: Extract<CloseOutcome, { status: 'needs-review' }> }).outcome;
    expect(replaced.draftHash).not.toBe(held.draftHash);
    expect(await f.closer.approve('2026-10', { by: 'ops', draftHash: held.draftHash, reason: 'stale' })).toMatchObject({
      status: 'rejected',
      reason: expect.stringContaining('was replaced by draft'),
    });
    // 3 h of 745 h on Platinum: 99.5973 % -> 25 % of 600.00 = 150.00.
    expect(
      expectIssued(await f.closer.approve('2026-10', { by: 'ops', draftHash: replaced.draftHash, reason: 'reviewed' })),
    ).toMatchObject({ revision: 1, totalGrosze: 15_000 });
  });

  it("figures returning to an earlier held draft's (a withdrawn correction) are held as a new draft, which can be approved", async () => {
    const { f, held } = await heldMonth();
    expectIssued(
      await f.closer.approve('2026-10', { by: 'ops', draftHash: held.draftHash, reason: 'probe location outage' }),
    );
    const added = await f.keeper().addIncident(
      {
        serverId: 'oci-101',
        kind: 'reported',
        fromMs: at('2026-10-20T08:00:00Z'),
        toMs: at('2026-10-20T11:00:00Z'),
        reason: 'ticket 1',
      },
      'ops',
    );
    expect(added.months[0]).toMatchObject({
      action: 'restate',
      outcome: { status: 'issued', revision: 2, totalGrosze: 15_000 },
    });
    const withdrawn = await f.keeper().withdrawIncident(added.record.id, 'wrong server', 'ops');
    const lowered = (withdrawn.months[0] as { outcome: Extract<CloseOutcome, { status: 'needs-review' }> }).outcome;
    expect(lowered).toMatchObject({ status: 'needs-review' });
    // The same figures and terms as the first held draft, held on another basis: a draft of its own.
    expect(lowered.draftHash).not.toBe(held.draftHash);
    expect(
      expectIssued(
        await f.closer.approve('2026-10', { by: 'finance', draftHash: lowered.draftHash, reason: 'agreed' }),
      ),
    ).toMatchObject({ revision: 3, totalGrosze: 0 });
    expect(f.records.journal('2026-10').map((row) => [row.revision, row.deltaGrosze, row.reason])).toEqual([
      [
        2,
        15_000,
        'incident 1 recorded: reported outage of oci-101, 2026-10-20T08:00:00.000Z to 2026-10-20T11:00:00.000Z: ticket 1',
      ],
      [3, -15_000, 'incident 1 withdrawn (reported outage of oci-101): wrong server (approved: agreed)'],
    ]);
    // The record stays, withdrawn, with who and why; the database refuses to delete or rewrite it.
    expect(f.operatorRecords.incident(1)).toMatchObject({
      reason: 'ticket 1',
      withdrawn: { by: 'ops', reason: 'wrong server' },
    });
  });
});

describe('record changes the command could not finish', () => {
  // oci-101 (Platinum) 3 h down on 3 Oct: 99.5973 % -> 25 % of 600.00 = 150.00 in revision 1.
  const closed = async () => {
    const f = await fixture({ nowIso: '2026-11-02T00:00:00Z' });
    await f.observe(
      {
        server: 'oci-101',
        ...OCT,
        everyMs: MIN,
        down: [{ fromMs: at('2026-10-03T12:00:00Z'), toMs: at('2026-10-03T15:00:00Z') }],
      },
      { server: 'oci-5', ...OCT, everyMs: MIN },
    );
    expect(expectIssued(await f.closer.close('2026-10', { by: 'schedule' }))).toMatchObject({
      revision: 1,
      totalGrosze: 15_000,
    });
    return f;
  };
  const fault = {
    serverId: 'oci-101',
    kind: 'monitoring-fault' as const,
    fromMs: at('2026-10-03T11:00:00Z'),
    toMs: at('2026-10-03T16:00:00Z'),
    reason: 'probe host stalled',
  };

  it('a correction undone while its restatement waits for approval ends the review: the held draft can no longer be issued', async () => {
    const f = await closed();
    const added = await f.keeper().addIncident(fault, 'ops');
    const held = (added.months[0] as { outcome: Extract<CloseOutcome, { status: 'needs-review' }> }).outcome;
    expect(held).toMatchObject({ status: 'needs-review', reason: expect.stringContaining('lowers 1 credit') });
    const withdrawn = await f.keeper().withdrawIncident(added.record.id, 'the probes were right', 'ops');
    expect(withdrawn.months).toEqual([
      { month: '2026-10', action: 'restate', outcome: { status: 'unchanged', month: '2026-10', revision: 1 } },
    ]);
    expect(f.records.month('2026-10')).toMatchObject({ state: 'closed', revision: 1 });
    expect(f.records.month('2026-10')!.draftHash).toBeUndefined();
    expect(
      await f.closer.approve('2026-10', { by: 'finance', draftHash: held.draftHash, reason: 'too late' }),
    ).toMatchObject({ status: 'rejected', reason: expect.stringContaining('not waiting for review') });
    expect(f.records.revisions('2026-10')).toHaveLength(1);
    expect(f.operatorRecords.pendingMonths()).toEqual([]);
  });

  it('a change made while a restatement waits for approval replaces its draft, and the journal names both changes', async () => {
    const f = await closed();
    await f.keeper().addIncident(fault, 'ops'); // lowers oci-101: held for review
    const second = await f.keeper().addIncident(
      {
        serverId: 'oci-5',
        kind: 'reported',
        fromMs: at('2026-10-20T08:00:00Z'),
        toMs: at('2026-10-20T14:00:00Z'),
        reason: 'ticket 88',
        ticket: '88',
      },
      'ops',
    );
    const held = (second.months[0] as { outcome: Extract<CloseOutcome, { status: 'needs-review' }> }).outcome;
    expect(held.status).toBe('needs-review');
    expectIssued(await f.closer.approve('2026-10', { by: 'finance', draftHash: held.draftHash, reason: 'ok' }));
    const why =
      'incident 1 recorded: monitoring fault on oci-101, 2026-10-03T11:00:00.000Z to 2026-10-03T16:00:00.000Z: probe host stalled; ' +
      'incident 2 recorded: reported outage of oci-5 (ticket 88), 2026-10-20T08:00:00.000Z to 2026-10-20T14:00:00.000Z: ticket 88 (approved: ok)';
    expect(
      f.records
        .journal('2026-10')
        .filter((row) => row.revision === 2)
        .map((row) => [row.creditId, row.deltaGrosze, row.reason]),
    ).toEqual([
      ['UC-2026-10-acme-oci-101', -15_000, why],
      ['UC-2026-10-calm-oci-5', 7_500, why],
    ]);
  });

  it('a change that alters only what the reports show still restates, without journal rows', async () => {
    const f = await closed();
    const window = {
      serverId: 'oci-101',
      fromMs: at('2026-10-03T12:00:00Z'),
      toMs: at('2026-10-03T15:00:00Z'),
      announcedAtMs: at('2026-10-01T08:00:00Z'),
    };
    const first = await f.keeper().announceMaintenance({ ...window, reason: 'kernel upgrade' }, 'ops');
    expectIssued(
      await f.closer.approve('2026-10', {
        by: 'finance',
        draftHash: (first.months[0] as { outcome: Extract<CloseOutcome, { status: 'needs-review' }> }).outcome
          .draftHash,
        reason: 'announced',
      }),
    );
    // The same window announced again with the right reason, and the first cancelled: money stays, the reason changes.
    const second = await f.keeper().announceMaintenance({ ...window, reason: 'storage controller swap' }, 'ops');
    expect(second.months[0]).toMatchObject({
      action: 'restate',
      outcome: { status: 'issued', revision: 3, journalRows: 0 },
    });
    const cancelled = await f.keeper().cancelMaintenance(first.record.id, 'wrong reason', 'ops');
    expect(cancelled.months[0]).toMatchObject({
      action: 'restate',
      outcome: { status: 'issued', revision: 4, journalRows: 0 },
    });
    const terms = JSON.parse(readFileSync(join(f.reportsDir, '2026-10', 'rev-4', 'terms.json'), 'utf8')) as {
      customers: { servers: { id: string; maintenance: { reason: string }[] }[] }[];
    };
    expect(terms.customers[0]!.servers[0]!.maintenance.map((m) => m.reason)).toEqual(['storage controller swap']);
    expect(pdfText(join(f.reportsDir, '2026-10', 'rev-4', 'acme.pdf'))).toContain('storage controller swap');
    expect(f.records.journal('2026-10').map((row) => row.revision)).toEqual([1, 2]);
    expect(f.operatorRecords.pendingMonths()).toEqual([]);
  });

  it('a restatement another process blocks stays owed, and the month-end job issues it once the month is free', async () => {
    const f = await closed();
    const nowMs = f.clock.now();
    expect(
      f.records.tryClaim(
        { month: '2026-10', owner: 'other-closer', host: 'elsewhere', pid: 1, claimedAtMs: nowMs, heartbeatMs: nowMs },
        () => false,
      ),
    ).toEqual({ taken: true });
    const added = await f.keeper().addIncident(
      {
        serverId: 'oci-5',
        kind: 'reported',
        fromMs: at('2026-10-20T08:00:00Z'),
        toMs: at('2026-10-20T14:00:00Z'),
        reason: 'ticket 88',
        ticket: '88',
      },
      'ops',
    );
    expect(added.months[0]).toMatchObject({ action: 'restate', outcome: { status: 'busy' } });
    expect(f.operatorRecords.pendingMonths()).toEqual(['2026-10']);
    f.records.releaseClaim('2026-10', 'other-closer');

    const job = createMonthEndJob({
      config: f.config,
      closer: f.closer,
      records: f.records,
      earliestObservationMs: () => f.store.earliestObservationMs(),
      pendingRevisionMonths: () => f.operatorRecords.pendingMonths(),
      logger: createLogger(),
      clock: f.clock,
    });
    expect(await job.runDue()).toEqual(['2026-10']);
    // Silver, 6 h of 745 h reported: 99.1946 % < 99.2 % -> 50 % of 150.00 = 75.00, with the change as the reason.
    expect(
      f.records
        .journal('2026-10')
        .map((row) => [row.revision, row.creditId, row.deltaGrosze, row.reason, row.closedBy]),
    ).toEqual([
      [1, 'UC-2026-10-acme-oci-101', 15_000, 'monthly close', 'schedule'],
      [
        2,
        'UC-2026-10-calm-oci-5',
        7_500,
        'incident 1 recorded: reported outage of oci-5 (ticket 88), 2026-10-20T08:00:00.000Z to 2026-10-20T14:00:00.000Z: ticket 88',
        'schedule',
      ],
    ]);
    expect(f.operatorRecords.pendingMonths()).toEqual([]);
    expect(await job.runDue()).toEqual([]);
  });

  it('a restatement that is refused stays owed, and the close instance says so once, not on every run', async () => {
    const f = await closed();
    // calm is no longer configured: a restatement would silently drop its credit line, so it is refused.
    f.reconfigure(
      `customers:\n  - { id: acme, name: "ACME Sp. z o.o.", tier: platinum, servers: [{ id: oci-101, name: Shop }] }\n`,
    );
    const added = await f.keeper().addIncident(
      {
        serverId: 'oci-101',
        kind: 'reported',
        fromMs: at('2026-10-25T00:00:00Z'),
        toMs: at('2026-10-25T01:00:00Z'),
        reason: 'ticket',
      },
      'ops',
    );
    expect(added.months[0]).toMatchObject({
      action: 'restate',
      outcome: { status: 'rejected', reason: expect.stringContaining('calm') },
    });
    const { logger, lines: logged } = capturedLog('error');
    const job = createMonthEndJob({
      config: f.config,
      closer: f.closer,
      records: f.records,
      earliestObservationMs: () => f.store.earliestObservationMs(),
      pendingRevisionMonths: () => f.operatorRecords.pendingMonths(),
      logger,
      clock: f.clock,
    });
    expect(await job.runDue()).toEqual([]);
    expect(await job.runDue()).toEqual([]);
    expect(
      logged.filter((line) =>
        line.msg.includes('owes a revision for changed incidents or maintenance, but it cannot be made'),
      ),
    ).toHaveLength(1);
    expect(f.operatorRecords.pendingMonths()).toEqual(['2026-10']);
    expect(f.records.revisions('2026-10')).toHaveLength(1);
  });

  it('a change recorded with no follow-up at all (the command crashed) is restated by the month-end job with every reason owed', async () => {
    const f = await closed();
    // As addIncident does, without the follow-up: the record and its request, one transaction.
    const request = (reason: string) => (r: { id: number }) => ({
      months: ['2026-10'],
      reason: `incident ${r.id}: ${reason}`,
      by: 'ops',
      atMs: f.clock.now(),
    });
    f.operatorRecords.addIncident({ ...fault, recordedAtMs: f.clock.now(), recordedBy: 'ops' }, request('fault'));
    f.operatorRecords.addIncident(
      {
        serverId: 'oci-101',
        kind: 'reported',
        fromMs: at('2026-10-25T00:00:00Z'),
        toMs: at('2026-10-25T06:00:00Z'),
        reason: 'r',
        recordedAtMs: f.clock.now(),
        recordedBy: 'ops',
      },
      request('report'),
    );
    const job = createMonthEndJob({
      config: f.config,
      closer: f.closer,
      records: f.records,
      earliestObservationMs: () => f.store.earliestObservationMs(),
      pendingRevisionMonths: () => f.operatorRecords.pendingMonths(),
      logger: createLogger(),
      clock: f.clock,
    });
    // The fault removes 3 h, the report adds 6 h: 6 h of 745 h -> 99.1946 % -> Platinum 100 % of 600.00 (a rise, issued).
    expect(await job.runDue()).toEqual(['2026-10']);
    expect(f.records.latestRevision('2026-10')).toMatchObject({
      revision: 2,
      totalGrosze: 60_000,
      reason: 'incident 1: fault; incident 2: report',
    });
  });
});

describe('terms in force', () => {
  const TERMS = (withChanges: boolean) => `
tiers:
  platinum:
    serverFee: "600.00"
${withChanges ? '    versions: [{ from: "2026-11", serverFee: "700.00" }]' : ''}
customers:
  - id: acme
    name: ACME
    tier: platinum
    servers: [{ id: oci-101, name: Shop }]
  - id: calm
    name: Calm
    tier: silver
${withChanges ? '    tierHistory: [{ from: "2026-11", tier: gold }]' : ''}
    servers: [{ id: oci-5, name: WWW }]
`;

  it('a fee change dated from the next month leaves this month alone; a tier change applies from its 1st', async () => {
    const f = await fixture({ nowIso: '2026-11-02T00:00:00Z', yaml: TERMS(false) });
    const outage = (day: string) => [{ fromMs: at(`${day}T08:00:00Z`), toMs: at(`${day}T11:00:00Z`) }];
    // 3 h down in each month on both servers.
    await f.observe(
      { server: 'oci-101', ...OCT, everyMs: MIN, down: outage('2026-10-20') },
      { server: 'oci-5', ...OCT, everyMs: MIN, down: outage('2026-10-20') },
    );
    await f.observe(
      { server: 'oci-101', ...NOV, everyMs: MIN, down: outage('2026-11-20') },
      { server: 'oci-5', ...NOV, everyMs: MIN, down: outage('2026-11-20') },
    );
    // October: Platinum 742/745 = 99.5973 % -> 25 % of 600.00; Silver 99.5973 % earns nothing below 99.4.
    expect(expectIssued(await f.closer.close('2026-10', { by: 'test' })).totalGrosze).toBe(15_000);

    f.reconfigure(TERMS(true));
    expect(await f.closer.restate('2026-10', { by: 'test', reason: 'terms edited' })).toEqual({
      status: 'unchanged',
      month: '2026-10',
      revision: 1,
    });

    await f.clock.advanceTo(at(NOV_CLOSABLE));
    expectIssued(await f.closer.close('2026-11', { by: 'test' }));
    // November: Platinum 717/720 = 99.5833 % -> 25 % of 700.00 = 175.00; Calm is Gold from 1 Nov: < 99.6 -> 10 % of 300.00.
    expect(
      ledgerRows(join(f.reportsDir, '2026-11', 'ledger.csv')).map((r) => [
        r.credit_id,
        r.tier,
        r.credit_base,
        r.credit_amount,
      ]),
    ).toEqual([
      ['UC-2026-11-acme-oci-101', 'platinum', '700.00', '175.00'],
      ['UC-2026-11-calm-oci-5', 'gold', '300.00', '30.00'],
    ]);
    const terms = JSON.parse(readFileSync(join(f.reportsDir, '2026-11', 'terms.json'), 'utf8'));
    expect(
      terms.customers.map((c: { id: string; tier: { name: string; serverFeeGrosze: number } }) => [
        c.id,
        c.tier.name,
        c.tier.serverFeeGrosze,
      ]),
    ).toEqual([
      ['acme', 'platinum', 70_000],
      ['calm', 'gold', 30_000],
    ]);
    const manifest = JSON.parse(readFileSync(join(f.reportsDir, '2026-11', 'manifest.json'), 'utf8'));
    expect(manifest.termsSha256).toBe(createHash('sha256').update(JSON.stringify(terms)).digest('hex'));
  });
});

describe('months closed before the state database existed', () => {
  /** Writes reports/<month>/ as the first version did: PDFs, ledger.csv/json and a manifest without a revision. */
  function legacyFolder(
    f: CloseFixture,
    month: string,
    rows: { creditId: string; customerId: string; serverId: string; creditAmount: string }[],
    writtenAtIso: string,
  ) {
    const dir = join(f.reportsDir, month);
    mkdirSync(dir, { recursive: true });
    const total = rows.reduce((sum, r) => sum + Number(r.creditAmount.replace('.', '')), 0);
    writeFileSync(
      join(dir, 'ledger.json'),
      JSON.stringify({
        month,
        timeZone: 'Europe/Warsaw',
        currency: 'PLN',
        rows,
        summary: { totalAmount: `${Math.floor(total / 100)}.${String(total % 100).padStart(2, '0')}` },
      }),
    );
    writeFileSync(join(dir, 'manifest.json'), JSON.stringify({ month, timeZone: 'Europe/Warsaw', files: [] }));
    const at = new Date(writtenAtIso);
    utimesSync(join(dir, 'manifest.json'), at, at);
  }

  it('are recorded as revision 1 with their credits as an opening balance, not as new payments', async () => {
    const f = await fixture({ nowIso: '2026-11-02T00:00:00Z' });
    await f.observe(
      {
        server: 'oci-101',
        ...OCT,
        everyMs: MIN,
        down: [{ fromMs: at('2026-10-03T12:00:00Z'), toMs: at('2026-10-03T15:00:00Z') }],
      },
      { server: 'oci-5', ...OCT, everyMs: MIN },
    );
    legacyFolder(
      f,
      '2026-10',
      [{ creditId: 'UC-2026-10-acme-oci-101', customerId: 'acme', serverId: 'oci-101', creditAmount: '150.00' }],
      '2026-11-01T00:30:00Z',
    );
    expect(await f.closer.close('2026-10', { by: 'schedule' })).toEqual({
      status: 'unchanged',
      month: '2026-10',
      revision: 1,
    });
    expect(f.records.latestRevision('2026-10')).toMatchObject({ kind: 'adopted', totalGrosze: 15_000 });
    expect(readJournalFile(f.reportsDir).map((r) => [r.entry, r.credit_id, r.delta, r.closed_by])).toEqual([
      ['opening-balance', 'UC-2026-10-acme-oci-101', '150.00', 'adopted'],
    ]);
    expect(f.records.month('2026-10')).toMatchObject({ state: 'closed', revision: 1 });

    // A later restatement pays only the difference, as a payable row.
    await f.observe({
      server: 'oci-5',
      check: 'http',
      fromMs: at('2026-10-20T08:00:00Z'),
      toMs: at('2026-10-20T14:00:00Z'),
      everyMs: MIN,
      down: [{ fromMs: 0, toMs: at('2026-10-20T13:59:00Z') }],
    });
    expectIssued(await f.closer.restate('2026-10', { by: 'test', reason: 'ticket 77' }));
    expect(readJournalFile(f.reportsDir).map((r) => [r.entry, r.revision, r.credit_id, r.delta])).toEqual([
      ['opening-balance', 1, 'UC-2026-10-acme-oci-101', '150.00'],
      ['payable', 2, 'UC-2026-10-calm-oci-5', '75.00'],
    ]);
    // Revision 2 renders every customer: the adopted revision has no figures to compare with.
    expect(
      readdirSync(join(f.reportsDir, '2026-10', 'rev-2'))
        .filter((n) => n.endsWith('.pdf'))
        .sort(),
    ).toEqual(['acme.pdf', 'calm.pdf']);
  });

  it('one written before the month could be closed is recorded, but held for a restatement and shouted about', async () => {
    const f = await fixture({ nowIso: '2026-12-02T00:00:00Z' });
    // The old `report --month 2026-11` on 20 November wrote a 0.00 ledger; an 8-hour outage came after it.
    legacyFolder(f, '2026-11', [], '2026-11-20T12:00:00Z');
    await f.observe(
      {
        server: 'oci-101',
        ...NOV,
        everyMs: MIN,
        down: [{ fromMs: at('2026-11-25T10:00:00Z'), toMs: at('2026-11-25T18:00:00Z') }],
      },
      { server: 'oci-5', ...NOV, everyMs: MIN },
    );
    expect(await f.closer.close('2026-11', { by: 'schedule' })).toMatchObject({
      status: 'differs',
      differences: ['credit UC-2026-11-acme-oci-101: 0.00 -> 1800.00 PLN (+1800.00)', 'total: 0.00 -> 1800.00 PLN'],
    });
    expect(f.records.month('2026-11')).toMatchObject({
      state: 'needs-review',
      revision: 1,
      reason: expect.stringContaining('before the month could be closed'),
    });
    const restated = expectIssued(
      await f.closer.restate('2026-11', { by: 'finance', reason: 'first report was made before the month ended' }),
    );
    expect(restated).toMatchObject({ revision: 2, totalGrosze: 180_000 });
    expect(f.records.month('2026-11')).toMatchObject({ state: 'restated', revision: 2 });
    expect(readJournalFile(f.reportsDir).map((r) => [r.entry, r.delta])).toEqual([['payable', '1800.00']]);
  });
});

describe('review', () => {
  it('a held draft keeps its own folder: later drafts cannot change what is approved, and the approval note stays internal', async () => {
    const f = await fixture({ nowIso: '2026-11-02T00:00:00Z' });
    await f.observe(
      {
        server: 'oci-101',
        ...OCT,
        everyMs: MIN,
        down: [{ fromMs: at('2026-10-03T12:00:00Z'), toMs: at('2026-10-03T15:00:00Z') }],
      },
      { server: 'oci-5', ...OCT, everyMs: MIN },
    );
    expectIssued(await f.closer.close('2026-10', { by: 'test' }));
    f.reconfigure(
      `${DEFAULT_CUSTOMERS}\nmaintenance:\n  - { server: oci-101, from: "2026-10-03T14:00:00+02:00", to: "2026-10-03T15:00:00+02:00", reason: "announced", announced: true }\n`,
    );
    const held = (await f.closer.restate('2026-10', { by: 'test', reason: 'maintenance was announced' })) as Extract<
      CloseOutcome,
      { status: 'needs-review' }
    >;
    expect(held.draftDir).toBe(join(f.reportsDir, '2026-10', 'draft', `review-${held.draftHash.slice(0, 12)}`));
    const reviewed = hashes(held.draftDir);
    await f.closer.draft('2026-10');
    await f.closer.draft('2026-10', { customerId: 'acme' });
    expect(hashes(held.draftDir)).toEqual(reviewed);

    const approved = expectIssued(
      await f.closer.approve('2026-10', {
        by: 'finance',
        draftHash: held.draftHash,
        reason: 'INTERNAL NOTE checked with sales',
      }),
    );
    const pdf = pdfText(join(approved.dir, 'acme.pdf')).replace(/\s+/g, ' ');
    expect(pdf).toContain('maintenance was announced');
    expect(pdf).not.toContain('INTERNAL NOTE');
    expect(f.records.journal('2026-10').at(-1)!.reason).toBe(
      'maintenance was announced (approved: INTERNAL NOTE checked with sales)',
    );
    expect(f.records.latestRevision('2026-10')).toMatchObject({
      reason: 'maintenance was announced',
      approval: 'INTERNAL NOTE checked with sales',
    });
    const manifest = JSON.parse(readFileSync(join(approved.dir, 'manifest.json'), 'utf8'));
    expect(manifest.changes).toContain('credit UC-2026-10-acme-oci-101: 150.00 -> 60.00 PLN (-90.00)');
  });

  it('a restatement is refused while a customer of the issued revision is missing from the configuration', async () => {
    const f = await fixture({ nowIso: '2026-11-02T00:00:00Z' });
    await f.observe({ server: 'oci-101', ...OCT, everyMs: MIN }, { server: 'oci-5', ...OCT, everyMs: MIN });
    expectIssued(await f.closer.close('2026-10', { by: 'test' }));
    f.reconfigure(DEFAULT_CUSTOMERS.split('  - id: calm')[0]!);
    expect(await f.closer.restate('2026-10', { by: 'test', reason: 'x' })).toMatchObject({
      status: 'rejected',
      reason: expect.stringContaining('customer(s) calm of revision 1 are no longer in the configuration'),
    });
    expect(f.records.revisions('2026-10')).toHaveLength(1);
  });
});
