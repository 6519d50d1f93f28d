import { describe, expect, it } from 'vitest';
import { createMetrics } from '../../../src/metrics/metrics.js';
import { DEFAULT_TIERS } from '../../../src/sla/brackets.js';
import { promtoolProblems } from '../../support/promtool.js';

describe('metrics', () => {
  it('exposes probe results, the SLA view with bracket budgets, and passes promtool', async () => {
    const metrics = createMetrics();
    const empty = Buffer.concat(await metrics.exposition()).toString();
    expect(empty).toContain('uptime_credits_probes_total{result="failure"} 0');
    expect(empty).toContain('uptime_credits_outbox_backlog_observations 0');

    metrics.recordOutcome({ customer: 'acme', server: 's1', check: 'web', kind: 'http', location: 'waw', timeMs: 0, lagMs: 12, up: false, latencyMs: 1_500, error: 'status', httpStatus: 503 });
    // 1,000,000 s eligible, 1,500 s down: platinum 99.8 % allows 2,000 s, so 500 s are left; 99.6 % allows 4,000.
    const availability = { coveredMs: 1e9, maintenanceMs: 0, eligibleMs: 1e9, downtimeMs: 1_500_000, unmonitoredMs: 60_000, outages: [], unmonitored: [], maintenance: [], downAtEnd: false };
    metrics.recordSla('acme', 's1', DEFAULT_TIERS.get('platinum')!, availability, 0, 15_050);
    metrics.syncWriteErrors(3);
    metrics.syncWriteErrors(3);
    const text = Buffer.concat(await metrics.exposition()).toString();
    expect(text).toContain('probe_success{customer="acme",server="s1",check="web",location="waw"} 0');
    expect(text).toContain('probe_duration_seconds{customer="acme",server="s1",check="web",location="waw"} 1.5');
    expect(text).toContain('probe_http_status_code{customer="acme",server="s1",check="web",location="waw"} 503');
    expect(text).toContain('uptime_credits_sla_uptime_ratio{customer="acme",server="s1"} 0.9985');
    expect(text).toContain('uptime_credits_sla_downtime_budget_seconds{customer="acme",server="s1",below="99.8"} 500');
    expect(text).toContain('uptime_credits_sla_downtime_budget_seconds{customer="acme",server="s1",below="99.6"} 2500');
    expect(text).toContain('uptime_credits_sla_unmonitored_seconds{customer="acme",server="s1"} 60');
    expect(text).toContain('uptime_credits_store_write_errors_total 3');
    expect(text).toContain('uptime_credits_sla_projected_credit_pln{customer="acme",server="s1"} 150.5');
    expect(text).toContain('uptime_credits_probe_schedule_lag_seconds_bucket{le="0.025"} 1');
    expect(promtoolProblems(text)).toBe('');
  });
});
