// The month-close lifecycle through the real CLI, as a new user would try it: too early, drafts, a close held for
// review and approved, then new evidence, the refusal to rewrite, and a restatement.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLOSE_EXIT } from '../../src/commands/close-output.js';
import { monthContaining } from '../../src/sla/month.js';
import { cliWorkspace } from '../support/cli.js';
import { DEFAULT_CUSTOMERS } from '../support/close-fixture.js';
import { observationLines } from '../support/observations.js';

const at = (iso: string) => Date.parse(iso);
const pdfText = (path: string) => execFileSync('pdftotext', ['-layout', path, '-'], { encoding: 'utf8' });
const OCT = { fromMs: at('2026-09-30T20:00:00Z'), toMs: at('2026-11-01T02:00:00Z'), everyMs: 60_000 };

describe('uptime-credits report / approve / months', () => {
  const { dir, cli } = cliWorkspace(
    'uc-cli-close-',
    (dir) => `
storage: { kind: embedded, path: ${join(dir, 'data', 'store.db')} }
reports: { dir: ${join(dir, 'reports')} }
probing: { location: waw, interval: 60s }
${DEFAULT_CUSTOMERS}
`,
  );
  const reports = join(dir, 'reports');
  const importLines = async (name: string, lines: string[]) => {
    writeFileSync(join(dir, name), `${lines.join('\n')}\n`);
    const result = await cli('import', join(dir, name));
    expect(result.code, result.stderr).toBe(0);
  };

  it('a month still running cannot be closed (exit 2, nothing written); its draft is marked and issues nothing', async () => {
    const current = monthContaining(Date.now(), 'Europe/Warsaw');
    const early = await cli('report', '--month', current);
    expect(early.code).toBe(CLOSE_EXIT.refused);
    expect(early.stdout).toMatch(
      new RegExp(
        `^${current} cannot be closed before \\d{4}-\\d{2}-01 00:15:00 [+-]\\d{2}:\\d{2} .*\\nto see its figures so far: uptime-credits report --month ${current} --draft\\n$`,
      ),
    );
    expect(existsSync(reports)).toBe(false);

    const draft = await cli('report', '--month', current, '--draft');
    expect(draft.code).toBe(CLOSE_EXIT.done);
    expect(draft.stdout).toContain(
      `draft of ${current} (not issued: no ledger, no journal): ${join(reports, current, 'draft')}`,
    );
    expect(draft.stdout).toContain('the month is still running');
    expect(readdirSync(join(reports, current)).sort()).toEqual(['draft']);
    expect(readdirSync(join(reports, current, 'draft')).sort()).toEqual(['acme.pdf', 'calm.pdf', 'draft.json']);
    const text = pdfText(join(reports, current, 'draft', 'acme.pdf'));
    expect(text).toContain('PROJEKT');
    expect(text).toContain('czas, który jeszcze nie upłynął, nie jest liczony');
    expect(existsSync(join(reports, 'journal.csv'))).toBe(false);
    expect((await cli('months')).stdout).toBe('no month has been closed or held yet\n');
  });

  it('a month with too little evidence is held for review, and approve issues the reviewed draft', async () => {
    expect((await cli('report', '--month', '2026-10', '--restate', '--reason', 'x')).code).toBe(CLOSE_EXIT.refused);
    // oci-5 was not observed for 4 days: 87.11 % monitored, below the default minimum of 90 %.
    await importLines('october.ndjson', [
      ...observationLines({
        server: 'oci-101',
        ...OCT,
        down: [{ fromMs: at('2026-10-03T12:00:00Z'), toMs: at('2026-10-03T15:00:00Z') }],
      }),
      ...observationLines({
        server: 'oci-5',
        ...OCT,
        silent: [{ fromMs: at('2026-10-10T00:00:00Z'), toMs: at('2026-10-14T00:00:00Z') }],
      }),
    ]);
    const held = await cli('report', '--month', '2026-10');
    expect(held.code).toBe(CLOSE_EXIT.needsReview);
    expect(held.stdout).toContain(
      '2026-10 is held for review, nothing was issued: 1 server(s) monitored for less than 90 % of their eligible time: oci-5 87.11 %',
    );
    const hash = /--draft-hash ([0-9a-f]{64})/.exec(held.stdout)![1]!;
    expect(held.stdout).toContain(
      `the draft to review: ${join(reports, '2026-10', 'draft', `review-${hash.slice(0, 12)}`)}`,
    );
    expect(
      JSON.parse(readFileSync(join(reports, '2026-10', 'draft', `review-${hash.slice(0, 12)}`, 'draft.json'), 'utf8'))
        .hash,
    ).toBe(hash);
    expect(existsSync(join(reports, '2026-10', 'ledger.csv'))).toBe(false);
    expect((await cli('months')).stdout).toMatch(/2026-10\s+needs-review\s+0\s+-/);

    const approved = await cli(
      'approve',
      '--month',
      '2026-10',
      '--draft-hash',
      hash,
      '--reason',
      'probe location down 10-14 Oct; customer confirms no outage',
    );
    expect(approved.code, approved.stdout + approved.stderr).toBe(CLOSE_EXIT.done);
    expect(approved.stdout).toBe(
      `closed 2026-10: revision 1 in ${join(reports, '2026-10')}\n  total 150.00 PLN (net); 1 journal row(s) appended\n`,
    );
    const months = await cli('months', '--json');
    expect(JSON.parse(months.stdout).months[0]).toMatchObject({
      month: '2026-10',
      state: 'closed',
      revision: 1,
      issued: { totalGrosze: 15_000 },
    });
  });

  it('new evidence for a closed month is refused (exit 3) until restated with a reason; revision 1 keeps its bytes', async () => {
    const monthDir = join(reports, '2026-10');
    const before = Object.fromEntries(
      readdirSync(monthDir)
        .filter((n) => statSync(join(monthDir, n)).isFile())
        .map((n) => [
          n,
          createHash('sha256')
            .update(readFileSync(join(monthDir, n)))
            .digest('hex'),
        ]),
    );
    // A ticket: Calm's web check failed for 6 hours on 20 October.
    await importLines(
      'ticket.ndjson',
      observationLines({
        server: 'oci-5',
        check: 'http',
        fromMs: at('2026-10-20T08:00:00Z'),
        toMs: at('2026-10-20T14:00:00Z'),
        everyMs: 60_000,
        down: [{ fromMs: 0, toMs: at('2026-10-20T13:59:00Z') }],
      }),
    );
    const differs = await cli('report', '--month', '2026-10');
    expect(differs.code).toBe(CLOSE_EXIT.differs);
    expect(differs.stdout).toContain('credit UC-2026-10-calm-oci-5: 0.00 -> 75.00 PLN (+75.00)');
    expect(differs.stdout).toContain(
      'nothing was written; to issue a correction: uptime-credits report --month 2026-10 --restate --reason "..."',
    );
    const noReason = await cli('report', '--month', '2026-10', '--restate');
    expect(noReason.code).not.toBe(0);
    expect(noReason.stderr).toContain('--restate needs --reason');

    const restated = await cli('report', '--month', '2026-10', '--restate', '--reason', 'ticket 1234');
    expect(restated.code).toBe(CLOSE_EXIT.done);
    expect(restated.stdout).toContain(`restated 2026-10: revision 2 in ${join(monthDir, 'rev-2')}`);
    const after = Object.fromEntries(
      Object.keys(before).map((n) => [
        n,
        createHash('sha256')
          .update(readFileSync(join(monthDir, n)))
          .digest('hex'),
      ]),
    );
    expect(after).toEqual(before);
    const journal = readFileSync(join(reports, 'journal.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { revision: number; delta: string });
    expect(journal.map((r) => [r.revision, r.delta])).toEqual([
      [1, '150.00'],
      [2, '75.00'],
    ]);
    expect(JSON.parse(readFileSync(join(monthDir, 'rev-2', 'ledger.json'), 'utf8')).summary.totalAmount).toBe('225.00');
  });

  it("report --customer renders that customer's draft PDF only, and leaves the ledger, journal and records as they are", async () => {
    const monthDir = join(reports, '2026-10');
    /** Every file under the reports folder (drafts aside) with its hash, and the month's record. */
    const issued = async () => {
      const files = readdirSync(reports, { recursive: true, encoding: 'utf8' })
        .filter((name) => !name.split('/').includes('draft') && statSync(join(reports, name)).isFile())
        .sort()
        .map((name) => [
          name,
          createHash('sha256')
            .update(readFileSync(join(reports, name)))
            .digest('hex'),
        ]);
      return { files, months: (await cli('months', '--json')).stdout };
    };
    const before = await issued();
    expect(before.files.map(([name]) => name)).toEqual(
      expect.arrayContaining(['journal.csv', 'journal.jsonl', '2026-10/ledger.csv', '2026-10/rev-2/ledger.csv']),
    );

    const customerOnly = await cli('report', '--month', '2026-10', '--customer', 'calm');
    expect(customerOnly.code, customerOnly.stderr).toBe(CLOSE_EXIT.done);
    expect(customerOnly.stdout).toMatch(
      new RegExp(
        `^draft of 2026-10 \\(not issued: no ledger, no journal\\): ${join(monthDir, 'draft')}\n  wrote calm\\.pdf\n  draft hash [0-9a-f]{64}\n$`,
      ),
    );
    // Only calm.pdf: no other customer's report and no draft.json (the held review draft keeps its own folder).
    const drafts = readdirSync(join(monthDir, 'draft'), { withFileTypes: true });
    expect(drafts.filter((entry) => entry.isFile()).map((entry) => entry.name)).toEqual(['calm.pdf']);
    const text = pdfText(join(monthDir, 'draft', 'calm.pdf'));
    expect(text).toContain('Calm Ltd');
    expect(text).toContain('DRAFT');
    expect(text).not.toContain('ACME');
    // The figures as they are now, with the ticket of 20 October: Silver 75.00.
    expect(text).toMatch(/Total credit: PLN 75\.00/);
    expect(await issued()).toEqual(before);

    // A customer the configuration does not have: an error that names it, exit 2 (refused input, as CLOSE_EXIT says), nothing written.
    const unknown = await cli('report', '--month', '2026-10', '--customer', 'nobody');
    expect(unknown.code).toBe(2);
    expect(unknown.stdout).toBe('');
    expect(unknown.stderr).toContain('uptime-credits: customer "nobody" is not in the configuration');
    expect(existsSync(join(monthDir, 'draft', 'nobody.pdf'))).toBe(false);
    expect(
      readdirSync(join(monthDir, 'draft'), { withFileTypes: true })
        .filter((entry) => entry.isFile())
        .map((entry) => entry.name),
    ).toEqual(['calm.pdf']);
    expect(await issued()).toEqual(before);
  });
});
