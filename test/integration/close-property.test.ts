// Property: whatever sequence of drafts, closes, new evidence (imports, maintenance corrections, incidents recorded
// and withdrawn, which restate issued months by themselves), restatements and approvals happens over two months, for every month the journal's deltas sum to the latest revision's total, the
// journal files hold each (month, revision, credit id) once and exactly the records' rows, and no file of an
// issued revision ever changes.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { readJournalFile } from '../../src/close/journal-files.js';
import { closeFixture, DEFAULT_CUSTOMERS, type CloseFixture } from '../support/close-fixture.js';

const H = 3_600_000;
const EVERY = 10 * 60_000; // probes every 10 min keep the generated months small
const MONTHS = ['2026-09', '2026-10'] as const;
const SERVERS = ['oci-101', 'oci-5'] as const;
const MONTH_START = { '2026-09': Date.parse('2026-08-31T22:00:00Z'), '2026-10': Date.parse('2026-09-30T22:00:00Z') };

const customers = (maintenance: string[]) => `
probing: { location: waw, interval: 10m, confirmations: 3 }
${DEFAULT_CUSTOMERS}
${maintenance.length > 0 ? `maintenance:\n${maintenance.join('\n')}` : ''}
`;

// Few distinct days and hours, so that maintenance often covers an earlier outage (a restatement that lowers).
const window = fc.record({
  month: fc.constantFrom(...MONTHS),
  server: fc.constantFrom(...SERVERS),
  day: fc.integer({ min: 0, max: 2 }),
  hour: fc.constantFrom<number>(0, 6, 12),
  hours: fc.integer({ min: 1, max: 6 }),
});
// Weighted towards the moves that change money: new evidence, closes, restatements and approvals.
const action = fc.oneof(
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('draft' as const), month: fc.constantFrom(...MONTHS) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('close' as const), month: fc.constantFrom(...MONTHS) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('restate' as const), month: fc.constantFrom(...MONTHS) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('approve' as const), month: fc.constantFrom(...MONTHS) }) },
  { weight: 3, arbitrary: window.map((w) => ({ kind: 'outage' as const, ...w })) },
  { weight: 1, arbitrary: window.map((w) => ({ kind: 'maintenance' as const, ...w })) },
  // Maintenance announced exactly over an earlier outage: the correction that lowers a credit.
  {
    weight: 2,
    arbitrary: fc.record({ kind: fc.constant('cover' as const), pick: fc.nat(), month: fc.constantFrom(...MONTHS) }),
  },
  // People's records: a reported outage or a monitoring fault, and withdrawing one recorded earlier.
  {
    weight: 2,
    arbitrary: fc
      .tuple(window, fc.constantFrom('reported' as const, 'monitoring-fault' as const))
      .map(([w, incident]) => ({ kind: 'incident' as const, incident, ...w })),
  },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('withdraw' as const), pick: fc.nat(), month: fc.constantFrom(...MONTHS) }),
  },
);
type Action = typeof action extends fc.Arbitrary<infer A> ? A : never;

const sha256 = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

/** Checks the invariants; `seen` remembers the bytes of every issued file. */
function checkInvariants(f: CloseFixture, seen: Map<string, string>) {
  for (const month of MONTHS) {
    const revisions = f.records.revisions(month);
    const journal = f.records.journal(month);
    if (revisions.length === 0) {
      expect(journal).toEqual([]);
      continue;
    }
    expect(revisions.map((r) => r.revision)).toEqual(revisions.map((_, i) => i + 1));
    expect(journal.reduce((sum, row) => sum + row.deltaGrosze, 0)).toBe(revisions[revisions.length - 1]!.totalGrosze);
    for (const revision of revisions) {
      expect(revision.filesWritten && revision.journalWritten).toBe(true);
      const manifest = JSON.parse(readFileSync(join(revision.dir, 'manifest.json'), 'utf8')) as {
        files: { name: string; sha256: string }[];
      };
      for (const file of manifest.files) expect(sha256(join(revision.dir, file.name))).toBe(file.sha256);
      for (const name of readdirSync(revision.dir)) {
        const path = join(revision.dir, name);
        if (!statSync(path).isFile()) continue;
        const now = sha256(path);
        expect(seen.get(path) ?? now, `${path} changed`).toBe(now);
        seen.set(path, now);
      }
    }
  }
  for (const path of seen.keys()) expect(existsSync(path), `${path} disappeared`).toBe(true);
  const key = (r: { month: string; revision: number; creditId?: string; credit_id?: string }) =>
    `${r.month}/${r.revision}/${r.creditId ?? r.credit_id}`;
  const inFile = readJournalFile(f.reportsDir).map(key);
  expect(new Set(inFile).size).toBe(inFile.length);
  expect(inFile.sort()).toEqual(f.records.journal().map(key).sort());
}

async function play(actions: Action[]) {
  const f = await closeFixture({ nowIso: '2026-11-02T00:00:00Z', yaml: customers([]) });
  try {
    for (const server of SERVERS)
      await f.observe({
        server,
        fromMs: Date.parse('2026-08-31T20:00:00Z'),
        toMs: Date.parse('2026-11-01T04:00:00Z'),
        everyMs: EVERY,
      });
    const maintenance: string[] = [];
    const outages: { server: string; fromMs: number; toMs: number }[] = [];
    const announce = (server: string, fromMs: number, toMs: number) => {
      maintenance.push(
        `  - { server: ${server}, from: "${new Date(fromMs).toISOString()}", to: "${new Date(toMs).toISOString()}", reason: "announced", announced: true }`,
      );
      f.reconfigure(customers(maintenance));
    };
    const seen = new Map<string, string>();
    for (const a of actions) {
      const revisionsBefore = f.records.revisions(a.month).length;
      switch (a.kind) {
        case 'draft':
          await f.closer.draft(a.month);
          break;
        case 'close':
          await f.closer.close(a.month, { by: 'property' });
          break;
        case 'restate':
          await f.closer.restate(a.month, { by: 'property', reason: 'new evidence' });
          break;
        case 'approve': {
          const state = f.records.month(a.month);
          if (state?.state === 'needs-review')
            await f.closer.approve(a.month, { by: 'property', draftHash: state.draftHash!, reason: 'reviewed' });
          break;
        }
        case 'outage': {
          const fromMs = MONTH_START[a.month] + a.day * 24 * H + a.hour * H;
          await f.observe({
            server: a.server,
            check: 'http',
            fromMs,
            toMs: fromMs + a.hours * H,
            everyMs: EVERY,
            down: [{ fromMs, toMs: fromMs + a.hours * H }],
          });
          outages.push({ server: a.server, fromMs, toMs: fromMs + a.hours * H });
          break;
        }
        case 'maintenance': {
          const fromMs = MONTH_START[a.month] + a.day * 24 * H + a.hour * H;
          announce(a.server, fromMs, fromMs + a.hours * H);
          break;
        }
        case 'cover': {
          const outage = outages[a.pick % Math.max(1, outages.length)];
          if (outage) announce(outage.server, outage.fromMs, outage.toMs + H);
          break;
        }
        case 'incident': {
          const fromMs = MONTH_START[a.month] + a.day * 24 * H + a.hour * H;
          await f
            .keeper()
            .addIncident(
              { serverId: a.server, kind: a.incident, fromMs, toMs: fromMs + a.hours * H, reason: a.incident },
              'property',
            );
          break;
        }
        case 'withdraw': {
          const open = f.operatorRecords.incidents().filter((i) => !i.withdrawn);
          const incident = open[a.pick % Math.max(1, open.length)];
          if (incident) await f.keeper().withdrawIncident(incident.id, 'recorded in error', 'property');
          break;
        }
      }
      expect(f.records.revisions(a.month).length - revisionsBefore).toBeLessThanOrEqual(1);
      checkInvariants(f, seen);
    }
  } finally {
    await f.dispose();
  }
}

describe('the month-close lifecycle under any sequence of actions', () => {
  it('keeps the journal summing to the latest revision and never changes an issued file', async () => {
    await fc.assert(
      // Some evidence, both months closed, then anything: so that most sequences restate and approve something.
      fc.asyncProperty(
        fc.array(window, { maxLength: 3 }),
        fc.array(action, { minLength: 3, maxLength: 12, size: 'max' }),
        async (before, actions) => {
          await play([
            ...before.map((w) => ({ kind: 'outage' as const, ...w })),
            { kind: 'close', month: '2026-09' },
            { kind: 'close', month: '2026-10' },
            ...actions,
          ]);
        },
      ),
      { numRuns: 40 },
    );
  }, 240_000);

  it('holds for a sequence that closes, restates upwards, lowers, approves and restates again', async () => {
    await play([
      { kind: 'outage', month: '2026-10', server: 'oci-101', day: 2, hour: 8, hours: 3 },
      { kind: 'close', month: '2026-10' },
      { kind: 'outage', month: '2026-10', server: 'oci-5', day: 9, hour: 1, hours: 6 },
      { kind: 'restate', month: '2026-10' },
      { kind: 'maintenance', month: '2026-10', server: 'oci-101', day: 2, hour: 8, hours: 3 },
      { kind: 'restate', month: '2026-10' },
      { kind: 'approve', month: '2026-10' },
      { kind: 'restate', month: '2026-10' },
    ]);
  });
});
