// The month-to-date SLA view on a real embedded store: the figures the alert rules read. The burn-rate windows
// reach back across the month's start (the month-to-date downtime restarts at 0 there, the burn does not), and a
// server failing before its coverage starts is not "down" (nothing is promised yet).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logging.js';
import { createSlaRefresh, type SlaSnapshot } from '../../src/scheduler/sla-refresh.js';
import { closeFixture, type CloseFixture } from '../support/close-fixture.js';

const at = (iso: string) => Date.parse(iso);
const NOW = '2026-12-01T01:00:00+01:00';

describe('month-to-date SLA view', () => {
  let fixture: CloseFixture;
  let snapshot: SlaSnapshot;

  beforeAll(async () => {
    fixture = await closeFixture({
      nowIso: NOW,
      yaml: `
customers:
  - id: acme
    name: ACME
    tier: gold
    servers:
      - { id: web-1, name: Down since 22:00 the day before }
      - { id: new-1, name: Failing before its coverage starts, since: 2026-12-02 }
`,
    });
    // Probes every 60 s (staleAfter 3 min, 3 confirmations): web-1 fails from 22:00 on 30 November on.
    await fixture.observe(
      { server: 'web-1', fromMs: at('2026-11-30T18:00:00+01:00'), toMs: at(NOW), everyMs: 60_000, down: [{ fromMs: at('2026-11-30T22:00:00+01:00'), toMs: at(NOW) }] },
      { server: 'new-1', fromMs: at('2026-12-01T00:10:00+01:00'), toMs: at(NOW), everyMs: 60_000, down: [{ fromMs: 0, toMs: at(NOW) }] },
    );
    snapshot = await createSlaRefresh({ config: fixture.config, sources: { store: fixture.store, operatorRecords: fixture.operatorRecords }, logger: createLogger(), clock: fixture.clock }).refresh();
  });
  afterAll(async () => fixture.dispose());

  it('measures the burn windows across the month\'s start, while the month to date starts at midnight', () => {
    const web = snapshot.servers.find((s) => s.server === 'web-1')!;
    expect(snapshot.month).toBe('2026-12');
    expect(web.monthToDate.downtimeMs).toBe(3_600_000); // 00:00 to 01:00
    expect(web.recentDowntimeMs).toEqual({ '30m': 1_800_000, '1h': 3_600_000, '6h': 3 * 3_600_000 }); // 22:00 to 01:00
    expect(web.monthToDate.downAtEnd).toBe(true);
    expect(web.outlook.coveredNow).toBe(true);
    // December: 31 days; Gold 99.6 % allows 0.4 % of 2,678,400 s = 10,713.6 s, less the hour so far.
    expect(web.outlook.budgets[0]).toEqual({ belowMicroPercent: 99_600_000, creditPercentHundredths: 1_000, allowanceMs: 10_713_600, remainingMs: 10_713_600 - 3_600_000 });
    expect(web.outlook.remainingEligibleMs).toBe(31 * 86_400_000 - 3_600_000);
  });

  it('does not call a server down before its coverage starts', () => {
    const fresh = snapshot.servers.find((s) => s.server === 'new-1')!;
    expect(fresh.monthToDate.downAtEnd).toBe(true); // the probes say so
    expect(fresh.outlook.coveredNow).toBe(false); // but nothing is promised yet (the metrics then export server_down 0)
    expect(fresh.monthToDate.downtimeMs).toBe(0);
    expect(fresh.recentDowntimeMs).toEqual({ '30m': 0, '1h': 0, '6h': 0 });
  });
});
