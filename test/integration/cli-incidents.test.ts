// Incidents and announced maintenance through the real CLI, as a new user would record them, with the money each
// moves computed by hand (sla-terms.md; Gold: < 99.6 % 10 %, < 99.4 % 25 %; Silver: < 99.4 % 10 %, < 99.2 % 50 %).
// September 2026 in Warsaw lasts 720 h, October 745 h. Every change to an issued month goes through a restatement.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { CLOSE_EXIT } from '../../src/commands/close-output.js';
import { cliWorkspace } from '../support/cli.js';
import { observationLines } from '../support/observations.js';

const H = 3_600_000;
const at = (iso: string) => Date.parse(iso);
const pdfText = (path: string) => execFileSync('pdftotext', ['-layout', path, '-'], { encoding: 'utf8' });
const RANGE = { fromMs: at('2026-08-31T20:00:00Z'), toMs: at('2026-11-01T02:00:00Z'), everyMs: 120_000 };
const down = (fromIso: string, toIso: string) => ({ fromMs: at(fromIso), toMs: at(toIso) });

interface ServerJson {
  id: string;
  eligibleMs: number;
  maintenanceMs: number;
  downtimeMs: number;
  unmonitoredMs: number;
  uptimePercent: string;
  creditAmount: string;
  reportedDowntimeMs?: number;
  excludedDowntimeMs?: number;
  incidents?: { id: number; kind: string; effectMs: number; ticket: string | null; reason: string }[];
  lateMaintenance?: { from: string; to: string; announcedAt: string | null; reason: string }[];
}

describe('uptime-credits incident / maintenance', () => {
  const { dir, cli } = cliWorkspace(
    'uc-cli-incidents-',
    (dir) => `
storage: { kind: embedded, path: ${join(dir, 'data', 'store.db')} }
reports: { dir: ${join(dir, 'reports')} }
probing: { location: waw, interval: 2m }
sla: { maintenanceNotice: 48h }
customers:
  - id: acme
    name: ACME Ltd
    tier: gold
    language: en
    servers: [{ id: g1, name: Shop }, { id: g2, name: API }, { id: g3, name: DB }]
  - id: zolw
    name: "Żółw Sp. z o.o."
    tier: silver
    servers: [{ id: p1, name: Panel }]
`,
  );
  const reports = join(dir, 'reports');
  const servers = async (month: string): Promise<Record<string, ServerJson>> => {
    const result = await cli('credits', '--month', month, '--json');
    expect(result.code, result.stderr).toBe(0);
    const json = JSON.parse(result.stdout) as { customers: { servers: ServerJson[] }[] };
    return Object.fromEntries(json.customers.flatMap((c) => c.servers).map((s) => [s.id, s]));
  };
  const journal = (month: string) =>
    readFileSync(join(reports, 'journal.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { month: string; revision: number; credit_id: string; delta: string })
      .filter((row) => row.month === month)
      .map((row) => [row.revision, row.credit_id, row.delta]);
  const approveHeld = async (stdout: string, month: string, reason: string) => {
    const hash = /--draft-hash ([0-9a-f]{64})/.exec(stdout)?.[1];
    expect(hash, stdout).toBeDefined();
    const approved = await cli('approve', '--month', month, '--draft-hash', hash!, '--reason', reason);
    expect(approved.code, approved.stdout + approved.stderr).toBe(CLOSE_EXIT.done);
    return approved.stdout;
  };

  beforeAll(async () => {
    writeFileSync(
      join(dir, 'probes.ndjson'),
      `${[
        ...observationLines({
          server: 'g1',
          ...RANGE,
          down: [
            down('2026-09-10T02:00:00Z', '2026-09-10T05:00:00Z'),
            down('2026-10-03T12:00:00Z', '2026-10-03T14:00:00Z'),
          ],
        }),
        ...observationLines({
          server: 'g2',
          ...RANGE,
          down: [
            down('2026-09-10T02:00:00Z', '2026-09-10T05:00:00Z'),
            down('2026-10-05T01:00:00Z', '2026-10-05T05:00:00Z'),
          ],
        }),
        ...observationLines({ server: 'g3', ...RANGE, down: [down('2026-10-07T10:00:00Z', '2026-10-07T12:00:00Z')] }),
        ...observationLines({ server: 'p1', ...RANGE }),
      ].join('\n')}\n`,
    );
    const imported = await cli('import', join(dir, 'probes.ndjson'));
    expect(imported.code, imported.stderr).toBe(0);
  }, 120_000);

  it('maintenance announced with less than the required notice is not excluded; in time it is', async () => {
    // Both servers were down 02:00-05:00 UTC on 10 Sep for a kernel upgrade. g1's customers were told 6 h before.
    const late = await cli(
      'maintenance',
      'announce',
      '--server',
      'g1',
      '--from',
      '2026-09-10T04:00:00+02:00',
      '--to',
      '2026-09-10T07:00:00+02:00',
      '--reason',
      'Kernel upgrade',
      '--announced-at',
      '2026-09-09T20:00:00Z',
    );
    expect(late.code, late.stderr).toBe(0);
    expect(late.stdout).toContain(
      'announced maintenance 1 of g1, 2026-09-10 04:00:00 +02:00 to 2026-09-10 07:00:00 +02:00 (3:00:00), announced 2026-09-09 22:00:00 +02:00: Kernel upgrade',
    );
    expect(late.stdout).toContain(
      'announced 6 h 00 min 00 s before it starts, less than the 48 h 00 min 00 s notice sla.maintenanceNotice requires: its time is NOT excluded',
    );
    expect(late.stdout).toContain('2026-09: not closed yet: its close will take the records as they are then');
    const inTime = await cli(
      'maintenance',
      'announce',
      '--server',
      'g2',
      '--from',
      '2026-09-10T02:00:00Z',
      '--to',
      '2026-09-10T05:00:00Z',
      '--reason',
      'Kernel upgrade',
      '--announced-at',
      '2026-09-07T20:00:00Z',
    );
    expect(inTime.code, inTime.stderr).toBe(0);
    expect(inTime.stdout).not.toContain('NOT excluded');

    const closed = await cli('report', '--month', '2026-09');
    expect(closed.code, closed.stdout + closed.stderr).toBe(CLOSE_EXIT.done);
    // g1: 3 h of 720 h counted -> 100 x 717 / 720 = 99.5833 % < 99.6 % -> 10 % of 300.00 = 30.00. g2: excluded, 0.
    expect(closed.stdout).toContain('total 30.00 PLN');
    const s = await servers('2026-09');
    expect(s.g1).toMatchObject({
      eligibleMs: 720 * H,
      maintenanceMs: 0,
      downtimeMs: 3 * H,
      uptimePercent: '99.5833',
      creditAmount: '30.00',
    });
    expect(s.g1!.lateMaintenance).toEqual([
      {
        from: '2026-09-10T02:00:00.000Z',
        to: '2026-09-10T05:00:00.000Z',
        durationMs: 3 * H,
        announcedAt: '2026-09-09T20:00:00.000Z',
        reason: 'Kernel upgrade',
      },
    ]);
    expect(s.g2).toMatchObject({ eligibleMs: 717 * H, maintenanceMs: 3 * H, downtimeMs: 0, creditAmount: '0.00' });
    expect(s.g2!.lateMaintenance).toBeUndefined();
    const text = pdfText(join(reports, '2026-09', 'acme.pdf'));
    expect(text).toContain('Maintenance announced too late (counted in eligible time): Shop (g1)');
    expect(text).toContain('Announced maintenance (excluded from the calculation): API (g2)');
    expect(text).toContain('Required notice: 48 h 00 min 00 s.');
    expect(text).toContain('Maintenance is excluded when it was announced at least 48 h 00 min 00 s before it starts.');

    const list = await cli('maintenance', 'list', '--month', '2026-09');
    expect(list.stdout).toMatch(/1\s+g1\s+.*late: counted\s+in force\s+Kernel upgrade/);
    expect(list.stdout).toMatch(/2\s+g2\s+.*excluded\s+in force\s+Kernel upgrade/);
  });

  it('reported outages and monitoring faults restate an issued month, each by exactly what it changes', async () => {
    // Revision 1: g2's 4 h on 5 Oct -> 100 x 741 / 745 = 99.4630 % -> 10 % = 30.00; g1 and g3 2 h each: nothing.
    expect((await cli('report', '--month', '2026-10')).stdout).toContain('total 30.00 PLN');

    // A ticket: g1's checkout failed for an hour the probes did not see. 2 h + 1 h = 10,800,000 ms of 2,682,000,000:
    // 99.5973 % < 99.6 % -> 10 % = 30.00.
    const g1 = await cli(
      'incident',
      'add',
      '--server',
      'g1',
      '--kind',
      'reported',
      '--from',
      '2026-10-20T08:00:00Z',
      '--to',
      '2026-10-20T09:00:00Z',
      '--ticket',
      '1234',
      '--reason',
      'Checkout failed for customers in Gdansk',
    );
    expect(g1.code, g1.stdout + g1.stderr).toBe(CLOSE_EXIT.done);
    expect(g1.stdout).toContain(
      'recorded incident 1: reported outage of g1, 2026-10-20 10:00:00 +02:00 to 2026-10-20 11:00:00 +02:00 (1:00:00), ticket 1234: Checkout failed for customers in Gdansk',
    );
    expect(g1.stdout).toContain('2026-10 (restatement): restated 2026-10: revision 2');
    expect(g1.stdout).toContain('credit UC-2026-10-acme-g1: 0.00 -> 30.00 PLN (+30.00)');

    // A ticket overlapping what the probes confirmed on g3 ([10:00, 12:00) probed, [11:00, 13:30) reported): 3.5 h
    // once -> 99.5302 % -> 10 % = 30.00. Counted twice (4.5 h) it would be 99.3959 % -> 25 % = 75.00.
    const g3 = await cli(
      'incident',
      'add',
      '--server',
      'g3',
      '--kind',
      'reported',
      '--from',
      '2026-10-07T11:00:00Z',
      '--to',
      '2026-10-07T13:30:00Z',
      '--ticket',
      '1240',
      '--reason',
      'Database slow, then unreachable',
    );
    expect(g3.code, g3.stdout).toBe(CLOSE_EXIT.done);
    expect(g3.stdout).toContain('credit UC-2026-10-acme-g3: 0.00 -> 30.00 PLN (+30.00)');

    // A Polish customer's ticket: 6 h of 745 h -> 99.1946 % < 99.2 % -> Silver 50 % of 150.00 = 75.00.
    const p1 = await cli(
      'incident',
      'add',
      '--server',
      'p1',
      '--kind',
      'reported',
      '--from',
      '2026-10-12T00:00:00Z',
      '--to',
      '2026-10-12T06:00:00Z',
      '--ticket',
      '77',
      '--reason',
      'Brak dostępu do panelu',
    );
    expect(p1.stdout).toContain('credit UC-2026-10-zolw-p1: 0.00 -> 75.00 PLN (+75.00)');

    let s = await servers('2026-10');
    expect(s.g1).toMatchObject({
      downtimeMs: 3 * H,
      uptimePercent: '99.5973',
      creditAmount: '30.00',
      reportedDowntimeMs: H,
      excludedDowntimeMs: 0,
    });
    expect(s.g1!.incidents).toEqual([
      {
        id: 1,
        kind: 'reported',
        from: '2026-10-20T08:00:00.000Z',
        to: '2026-10-20T09:00:00.000Z',
        durationMs: H,
        effectMs: H,
        ticket: '1234',
        reason: 'Checkout failed for customers in Gdansk',
      },
    ]);
    expect(s.g3).toMatchObject({
      downtimeMs: 3.5 * H,
      uptimePercent: '99.5302',
      creditAmount: '30.00',
      reportedDowntimeMs: 1.5 * H,
    });
    expect(s.p1).toMatchObject({ downtimeMs: 6 * H, uptimePercent: '99.1946', creditAmount: '75.00' });

    // g2's 4 h outage was our probe location losing its uplink: a monitoring fault over [00:00, 06:00). The outage
    // goes (6 h unmonitored instead) and 30.00 with it: a lowered credit waits for a person's approval.
    const fault = await cli(
      'incident',
      'add',
      '--server',
      'g2',
      '--kind',
      'monitoring-fault',
      '--from',
      '2026-10-05T00:00:00Z',
      '--to',
      '2026-10-05T06:00:00Z',
      '--reason',
      'probe location waw lost its uplink',
    );
    expect(fault.code).toBe(CLOSE_EXIT.needsReview);
    expect(fault.stdout).toContain(
      '2026-10 (restatement): 2026-10 is held for review, nothing was issued: the restatement lowers 1 credit(s) already issued (UC-2026-10-acme-g2 30.00 -> 0.00)',
    );
    expect(await approveHeld(fault.stdout, '2026-10', 'uplink outage confirmed by the network team')).toContain(
      'restated 2026-10: revision 5',
    );
    s = await servers('2026-10');
    expect(s.g2).toMatchObject({
      downtimeMs: 0,
      unmonitoredMs: 6 * H,
      uptimePercent: '100.0000',
      creditAmount: '0.00',
      reportedDowntimeMs: 0,
      excludedDowntimeMs: 4 * H,
    });
    expect(s.g2!.incidents).toMatchObject([{ id: 4, kind: 'monitoring-fault', effectMs: 4 * H, ticket: null }]);

    const acme = pdfText(join(reports, '2026-10', 'rev-5', 'acme.pdf'));
    expect(acme).toContain('Reported outages and monitoring faults: Shop (g1)');
    expect(acme).toMatch(/reported outage, ticket 1234\s+\+1:00:00 Checkout failed for/);
    expect(acme).toMatch(/excluded: monitoring fault\s+−4:00:00 probe location waw lost its/);
    expect(acme).toContain('Downtime known only from reports: 1 h 00 min 00 s.');
    expect(acme).toContain('An outage the customer reported counts as downtime');
    const zolw = pdfText(join(reports, '2026-10', 'rev-4', 'zolw.pdf'));
    expect(zolw).toContain('Zgłoszenia i błędy monitoringu: Panel (p1)');
    expect(zolw).toMatch(/zgłoszona awaria, zgłoszenie\s+\+6:00:00 Brak dostępu do panelu/);
    expect(zolw).toContain('Brak dostępu do panelu');
    expect(zolw).toContain('Korekta: wersja 4 zastępuje wersję 3');

    expect(journal('2026-10')).toEqual([
      [1, 'UC-2026-10-acme-g2', '30.00'],
      [2, 'UC-2026-10-acme-g1', '30.00'],
      [3, 'UC-2026-10-acme-g3', '30.00'],
      [4, 'UC-2026-10-zolw-p1', '75.00'],
      [5, 'UC-2026-10-acme-g2', '-30.00'],
    ]);
  });

  it('withdrawing an incident keeps it on record and restates the month back to what it was', async () => {
    const withdrawn = await cli('incident', 'withdraw', '1', '--reason', "ticket 1234 was DNS on the customer's side");
    expect(withdrawn.code).toBe(CLOSE_EXIT.needsReview);
    expect(withdrawn.stdout).toContain('withdrew incident 1: reported outage of g1');
    expect(withdrawn.stdout).toContain('UC-2026-10-acme-g1 30.00 -> 0.00');
    expect(await approveHeld(withdrawn.stdout, '2026-10', 'customer agreed')).toContain('restated 2026-10: revision 6');
    // g1's credit is back to revision 1's: its journal rows sum to 0.00.
    expect(journal('2026-10').filter(([, credit]) => credit === 'UC-2026-10-acme-g1')).toEqual([
      [2, 'UC-2026-10-acme-g1', '30.00'],
      [6, 'UC-2026-10-acme-g1', '-30.00'],
    ]);
    expect((await servers('2026-10')).g1).toMatchObject({
      downtimeMs: 2 * H,
      uptimePercent: '99.7315',
      creditAmount: '0.00',
    });

    const list = await cli('incident', 'list', '--month', '2026-10', '--json');
    const incidents = (
      JSON.parse(list.stdout) as { incidents: { id: number; withdrawn: { by: string; reason: string } | null }[] }
    ).incidents;
    expect(incidents.map((i) => i.id)).toEqual([4, 2, 3, 1]); // by start
    expect(incidents.find((i) => i.id === 1)!.withdrawn).toMatchObject({
      by: expect.stringMatching(/^cli:/),
      reason: "ticket 1234 was DNS on the customer's side",
    });
    expect((await cli('incident', 'list', '--server', 'g1')).stdout).toMatch(
      /withdrawn .* by cli:.*: ticket 1234 was DNS/,
    );

    const again = await cli('incident', 'withdraw', '1', '--reason', 'twice');
    expect(again.code).toBe(CLOSE_EXIT.refused);
    expect(again.stderr).toContain('incident 1 was already withdrawn on');
    expect(journal('2026-10')).toHaveLength(6);
  });

  it('refuses bad input naming what is wrong, and records nothing', async () => {
    const unknown = await cli(
      'incident',
      'add',
      '--server',
      'nope',
      '--kind',
      'reported',
      '--from',
      '2026-10-01T00:00:00Z',
      '--to',
      '2026-10-01T01:00:00Z',
      '--reason',
      'x',
    );
    expect(unknown.code).toBe(CLOSE_EXIT.refused);
    expect(unknown.stderr).toContain('server "nope" is not in the configuration');
    const backwards = await cli(
      'incident',
      'add',
      '--server',
      'g1',
      '--kind',
      'reported',
      '--from',
      '2026-10-02T00:00:00Z',
      '--to',
      '2026-10-01T00:00:00Z',
      '--reason',
      'x',
    );
    expect(backwards.code).toBe(CLOSE_EXIT.refused);
    expect(backwards.stderr).toContain(
      '"to" (2026-10-01T00:00:00.000Z) must be after "from" (2026-10-02T00:00:00.000Z)',
    );
    const end = new Date(Date.now() + 3_600_000).toISOString();
    const ongoing = await cli(
      'incident',
      'add',
      '--server',
      'g1',
      '--kind',
      'reported',
      '--from',
      '2026-10-01T00:00:00Z',
      '--to',
      end,
      '--reason',
      'x',
    );
    expect(ongoing.code).toBe(CLOSE_EXIT.refused);
    expect(ongoing.stderr).toContain(`"to" (${end}) is in the future`);
    const kind = await cli(
      'incident',
      'add',
      '--server',
      'g1',
      '--kind',
      'outage',
      '--from',
      '2026-10-01T00:00:00Z',
      '--to',
      '2026-10-01T01:00:00Z',
      '--reason',
      'x',
    );
    expect(kind.code).toBe(1);
    expect(kind.stderr).toContain('--kind: "outage" is not one of reported, monitoring-fault');
    const time = await cli(
      'maintenance',
      'announce',
      '--server',
      'g1',
      '--from',
      '2026-10-01 00:00',
      '--to',
      '2026-10-01T01:00:00Z',
      '--reason',
      'x',
    );
    expect(time.stderr).toContain('--from: "2026-10-01 00:00" is not an ISO-8601 time with an offset');
    const future = await cli(
      'maintenance',
      'announce',
      '--server',
      'g1',
      '--from',
      '2099-10-01T00:00:00Z',
      '--to',
      '2099-10-01T01:00:00Z',
      '--reason',
      'x',
      '--announced-at',
      '2099-01-01T00:00:00Z',
    );
    expect(future.stderr).toContain('announcedAt (2099-01-01T00:00:00.000Z) is in the future');
    expect((await cli('incident', 'list', '--json')).stdout).not.toContain('"server": "nope"');
    expect(JSON.parse((await cli('maintenance', 'list', '--json')).stdout).maintenance).toHaveLength(2);
  });
});
