// The server views' live part: each check's latest outcome per location, kept as one record per check and
// updated in place (fleet-view.ts), so a view already handed out must not change with later probes.
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { createServerViews } from '../../src/fleet-view.js';
import type { CheckOutcome } from '../../src/probes/probe.js';

const config = parseConfig(
  `
probing: { location: waw, interval: 60s, timeout: 10s, confirmations: 3 }
customers:
  - id: acme
    name: ACME
    tier: gold
    servers: [{ id: s1, name: S1 }, { id: s2, name: S2 }]
`,
  'fleet-view.test.yaml',
);

const at = (iso: string) => Date.parse(iso);

const outcome = (fields: Partial<CheckOutcome> & Pick<CheckOutcome, 'up' | 'timeMs'>): CheckOutcome => ({
  customer: 'acme',
  server: 's1',
  check: 'http',
  kind: 'http',
  location: 'waw',
  latencyMs: 12,
  lagMs: 0,
  ...fields,
});

describe('server views', () => {
  const views = () =>
    createServerViews({ config, clock: { now: () => at('2026-11-30T12:00:00Z') } as never, snapshot: () => undefined });

  it('show each check at each location by its latest outcome, and earlier views keep what they showed', () => {
    const fleet = views();
    expect(fleet.server('s1')).toMatchObject({ state: 'unknown', checks: [], monthToDate: null });

    fleet.recordOutcome(
      outcome({
        up: false,
        error: 'timeout',
        detail: 'no answer',
        latencyMs: 10_000,
        timeMs: at('2026-11-30T11:58:00Z'),
      }),
    );
    const whileDown = fleet.server('s1');
    expect(whileDown).toMatchObject({ state: 'down' });
    expect(whileDown?.checks).toEqual([
      {
        name: 'http',
        kind: 'http',
        location: 'waw',
        up: false,
        latencyMs: 10_000,
        error: 'timeout',
        checkedAt: '2026-11-30T11:58:00.000Z',
      },
    ]);

    fleet.recordOutcome(outcome({ up: true, latencyMs: 7, timeMs: at('2026-11-30T11:59:00Z') }));
    fleet.recordOutcome(outcome({ up: true, latencyMs: 31, location: 'ams', timeMs: at('2026-11-30T11:59:30Z') }));
    const now = fleet.server('s1');
    expect(now?.state).toBe('up');
    expect(now?.checks).toEqual([
      { name: 'http', kind: 'http', location: 'waw', up: true, latencyMs: 7, checkedAt: '2026-11-30T11:59:00.000Z' },
      { name: 'http', kind: 'http', location: 'ams', up: true, latencyMs: 31, checkedAt: '2026-11-30T11:59:30.000Z' },
    ]);
    // The view handed out while the check was down still says so.
    expect(whileDown?.checks[0]).toMatchObject({ up: false, latencyMs: 10_000, error: 'timeout' });

    fleet.recordOutcome(outcome({ up: false, error: 'refused', location: 'ams', timeMs: at('2026-11-30T12:00:00Z') }));
    expect(fleet.server('s1')?.state).toBe('down');
    expect(fleet.server('s2')).toMatchObject({ state: 'unknown', checks: [] }); // another server's checks stay apart
    expect(fleet.servers().map((s) => [s.id, s.state])).toEqual([
      ['s1', 'down'],
      ['s2', 'unknown'],
    ]);
  });
});
