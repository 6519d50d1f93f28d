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
    // The write path while InfluxDB is down: 49,676 wait (the oldest for 90 s), 2 parked, 3 failed writes.
    const nowMs = 1_800_000_000_000;
    const down = { store: { waiting: 49_676, oldestWaitingSinceMs: nowMs - 90_000, parked: 2, remoteWriteErrorsTotal: 2, lastRemoteWriteMs: nowMs - 120_000, remoteProblem: 'ECONNREFUSED' }, pendingInMemory: 30, localWriteErrorsTotal: 1, discarded: { 'process-stalled': 4, 'local-error': 1 }, droppedTotal: 0, nowMs };
    metrics.recordWritePath(down);
    metrics.recordWritePath(down); // totals are synced, not added twice
    const text = Buffer.concat(await metrics.exposition()).toString();
    expect(text).toContain('probe_success{customer="acme",server="s1",check="web",location="waw"} 0');
    expect(text).toContain('probe_duration_seconds{customer="acme",server="s1",check="web",location="waw"} 1.5');
    expect(text).toContain('probe_http_status_code{customer="acme",server="s1",check="web",location="waw"} 503');
    expect(text).toContain('uptime_credits_sla_uptime_ratio{customer="acme",server="s1"} 0.9985');
    expect(text).toContain('uptime_credits_sla_downtime_budget_seconds{customer="acme",server="s1",below="99.8"} 500');
    expect(text).toContain('uptime_credits_sla_downtime_budget_seconds{customer="acme",server="s1",below="99.6"} 2500');
    expect(text).toContain('uptime_credits_sla_unmonitored_seconds{customer="acme",server="s1"} 60');
    expect(text).toContain('uptime_credits_store_write_errors_total 3');
    expect(text).toContain('uptime_credits_outbox_backlog_observations 49676');
    expect(text).toContain('uptime_credits_outbox_oldest_waiting_age_seconds 90');
    expect(text).toContain('uptime_credits_outbox_parked_observations 2');
    expect(text).toContain('uptime_credits_store_last_remote_write_timestamp_seconds 1799999880');
    expect(text).toContain('uptime_credits_store_remote_up 0');
    expect(text).toContain('uptime_credits_store_local_write_ok 1');
    expect(text).toContain('uptime_credits_observations_pending_write 30');
    expect(text).toContain('uptime_credits_probes_discarded_total{reason="process-stalled"} 4');
    expect(text).toContain('uptime_credits_probes_discarded_total{reason="local-error"} 1');
    expect(text).toContain('uptime_credits_sla_projected_credit_pln{customer="acme",server="s1"} 150.5');
    expect(text).toContain('uptime_credits_probe_schedule_lag_seconds_bucket{le="0.025"} 1');
    expect(promtoolProblems(text)).toBe('');
  });
});
