// A close killed (SIGKILL) after each step of issuing a revision: the next run finishes it from the record, and
// no (month, revision, credit id) ever reaches the journal twice.
import { createHash } from 'node:crypto';
import { appendFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { afterEach, describe, expect, it } from 'vitest';
import { appendJournal, readJournalFile } from '../../src/close/journal-files.js';
import type { CloseStep } from '../../src/close/month-closer.js';
import { runCloseChild } from '../support/close-child-process.js';
import { closeFixture, type CloseFixture } from '../support/close-fixture.js';

const NOW = '2026-11-02T00:00:00Z';
const at = (iso: string) => Date.parse(iso);

const runChild = (configPath: string, step: CloseStep) => runCloseChild(configPath, '2026-10', step, NOW);

const fixtures: CloseFixture[] = [];
afterEach(async () => {
  await Promise.all(fixtures.splice(0).map((f) => f.dispose()));
});

/** October with an outage on each server: two credits, so two journal rows for revision 1. */
async function october(): Promise<CloseFixture> {
  const f = await closeFixture({ nowIso: NOW });
  fixtures.push(f);
  const oct = { fromMs: at('2026-09-30T20:00:00Z'), toMs: at('2026-11-01T02:00:00Z'), everyMs: 60_000 };
  await f.observe(
    { server: 'oci-101', ...oct, down: [{ fromMs: at('2026-10-03T12:00:00Z'), toMs: at('2026-10-03T15:00:00Z') }] },
    { server: 'oci-5', ...oct, down: [{ fromMs: at('2026-10-20T08:00:00Z'), toMs: at('2026-10-20T14:00:00Z') }] },
  );
  return f;
}

/** Everything a finished revision 1 must show: two journal rows once in each file, files matching the manifest. */
function expectFinished(f: CloseFixture) {
  const keys = readJournalFile(f.reportsDir).map((r) => `${r.month}/${r.revision}/${r.credit_id}`);
  expect(keys).toEqual(['2026-10/1/UC-2026-10-acme-oci-101', '2026-10/1/UC-2026-10-calm-oci-5']);
  const csv = parse(readFileSync(join(f.reportsDir, 'journal.csv'), 'utf8'), { bom: true, columns: true }) as Record<
    string,
    string
  >[];
  expect(csv.map((r) => [r.credit_id, r.delta])).toEqual([
    ['UC-2026-10-acme-oci-101', '150.00'],
    ['UC-2026-10-calm-oci-5', '75.00'],
  ]);
  const dir = join(f.reportsDir, '2026-10');
  const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as {
    files: { name: string; sha256: string }[];
  };
  expect(manifest.files.map((file) => file.name)).toEqual([
    'acme.pdf',
    'calm.pdf',
    'ledger.csv',
    'ledger.json',
    'terms.json',
  ]);
  for (const file of manifest.files)
    expect(
      createHash('sha256')
        .update(readFileSync(join(dir, file.name)))
        .digest('hex'),
    ).toBe(file.sha256);
  expect(f.records.unfinishedRevisions()).toEqual([]);
  expect(f.records.revisions('2026-10').map((r) => [r.revision, r.filesWritten, r.journalWritten])).toEqual([
    [1, true, true],
  ]);
  expect(f.records.journal('2026-10').reduce((sum, r) => sum + r.deltaGrosze, 0)).toBe(
    f.records.latestRevision('2026-10')!.totalGrosze,
  );
}

describe('a close killed at each step', () => {
  it.each(['recorded', 'files-written', 'journal-written'] as const)(
    'killed after "%s": the next run finishes it, each journal row once',
    async (step) => {
      const f = await october();
      const killed = await runChild(f.configPath, step);
      expect(killed.signal).toBe('SIGKILL');
      expect(f.records.latestRevision('2026-10')).toMatchObject({ revision: 1, totalGrosze: 22_500 });

      // The next run (a restart's first close, or the daemon's retry) takes over the dead process's claim.
      expect(await f.closer.close('2026-10', { by: 'restart' })).toEqual({
        status: 'unchanged',
        month: '2026-10',
        revision: 1,
      });
      expectFinished(f);
      expect(await f.closer.close('2026-10', { by: 'restart' })).toEqual({
        status: 'unchanged',
        month: '2026-10',
        revision: 1,
      });
      expectFinished(f);
    },
  );

  it('a crash in the middle of the journal append (rows written, not yet marked; a line cut short) appends nothing twice', async () => {
    const f = await october();
    expect((await runChild(f.configPath, 'files-written')).signal).toBe('SIGKILL');
    // As if the process died after appending the first row and half of the second, before marking the revision.
    appendJournal(f.reportsDir, f.records.journal('2026-10').slice(0, 1));
    appendFileSync(join(f.reportsDir, 'journal.jsonl'), '{"month":"2026-10","revision":1,"credit_id":"UC-2026-10-ca');
    appendFileSync(join(f.reportsDir, 'journal.csv'), '2026-10,1,UC-2026-10-calm-oci-5,calm,oci');
    await f.closer.recover();
    expectFinished(f);
  });
});

describe('a revision whose files were only partly written', () => {
  it('keeps the files already there with the right bytes and creates the rest; other bytes stop it, reported and retried', async () => {
    const f = await october();
    expect((await runChild(f.configPath, 'recorded')).signal).toBe('SIGKILL');
    const record = f.records.latestRevision('2026-10')!;
    // As if the crash came after the first PDF: render that file exactly as the closer does.
    const { renderRevisionFiles } = await import('../../src/close/revision-files.js');
    const files = await renderRevisionFiles({
      credits: record.credits!,
      terms: record.terms!,
      revision: 1,
      reason: record.reason,
      changes: [],
      customers: ['acme', 'calm'],
      reportFileOf: (id) => `${id}.pdf`,
    });
    const { mkdirSync, writeFileSync } = await import('node:fs');
    mkdirSync(record.dir, { recursive: true });
    writeFileSync(join(record.dir, 'acme.pdf'), files.get('acme.pdf')!);
    writeFileSync(join(record.dir, 'calm.pdf'), 'not the issued bytes');
    expect(await f.closer.recover()).toEqual(['2026-10']); // stopped: calm.pdf has other bytes
    expect(f.records.unfinishedRevisions()).toHaveLength(1);
    writeFileSync(join(record.dir, 'calm.pdf'), files.get('calm.pdf')!);
    expect(await f.closer.recover()).toEqual([]);
    expectFinished(f);
  });
});
