import { describe, expect, it } from 'vitest';
import { createMetrics } from '../../../src/metrics/metrics.js';
import { DEFAULT_TIERS } from '../../../src/sla/brackets.js';
import { monthOutlook } from '../../../src/sla/outlook.js';
import { promtoolProblems } from '../../support/promtool.js';

describe('metrics', () => {
  it('exposes probe results, the SLA view with whole-month bracket budgets, and passes promtool', async () => {
    const metrics = createMetrics();
    const empty = Buffer.concat((await metrics.exposition()).chunks).toString();
    expect(empty).toContain('uptime_credits_probes_total{result="failure"} 0');
    expect(empty).toContain('uptime_credits_outbox_backlog_observations 0');
    expect(empty).toContain('uptime_credits_compute_worker_heap_total_bytes 0');

    metrics.recordOutcome({
      customer: 'acme',
      server: 's1',
      check: 'web',
      kind: 'http',
      location: 'waw',
      timeMs: 0,
      lagMs: 12,
      up: false,
      latencyMs: 1_500,
      error: 'status',
      httpStatus: 503,
    });
    // 1,000,000 s eligible so far, 1,500 s down, in a month of 2,000,000 s eligible: platinum 99.8 % allows
    // 4,000 s of the whole month, so 2,500 s are left; 99.6 % allows 8,000. A maintenance window is on now.
    const availability = {
      coveredMs: 1e9,
      maintenanceMs: 0,
      eligibleMs: 1e9,
      downtimeMs: 1_500_000,
      unmonitoredMs: 60_000,
      outages: [],
      unmonitored: [],
      maintenance: [],
      downAtEnd: true,
    };
    const window = { fromMs: 0, toMs: 2e9 + 1_000 };
    const outlook = monthOutlook({
      window,
      asOfMs: 1e9,
      maintenance: [{ fromMs: 1e9 - 500, toMs: 1e9 + 500 }],
      downtimeMs: 1_500_000,
      brackets: DEFAULT_TIERS.get('platinum')!.brackets,
    });
    metrics.recordSla([
      {
        customer: 'acme',
        server: 's1',
        tier: 'platinum',
        monthToDate: availability,
        outlook,
        recentDowntimeMs: { '30m': 0, '1h': 600_000, '6h': 1_500_000 },
        projectedCreditPercentHundredths: 0,
        projectedCreditGrosze: 15_050,
      },
    ]);
    metrics.recordSlaRefreshed(1e9);
    metrics.recordSlaRefreshDuration(2_345);
    // Failing before its coverage starts: the probes say down, but nothing is promised yet.
    const notYet = monthOutlook({
      window,
      asOfMs: 1e9,
      sinceMs: 1.5e9,
      maintenance: [],
      downtimeMs: 0,
      brackets: DEFAULT_TIERS.get('gold')!.brackets,
    });
    metrics.recordSla([
      {
        customer: 'acme',
        server: 's2',
        tier: 'gold',
        monthToDate: { ...availability, downtimeMs: 0 },
        outlook: notYet,
        recentDowntimeMs: { '30m': 0, '1h': 0, '6h': 0 },
        projectedCreditPercentHundredths: 0,
        projectedCreditGrosze: 0,
      },
    ]);
    metrics.recordRole({ closes: true, checks: 3 });
    metrics.recordDueMonths(1);
    // The write path while InfluxDB is down: 49,676 wait (the oldest for 90 s), 2 parked, 3 failed writes.
    const nowMs = 1_800_000_000_000;
    const down = {
      store: {
        waiting: 49_676,
        oldestWaitingSinceMs: nowMs - 90_000,
        parked: 2,
        remoteWriteErrorsTotal: 2,
        lastRemoteWriteMs: nowMs - 120_000,
        remoteProblem: 'ECONNREFUSED',
        confirmedTotal: 0,
      },
      pendingInMemory: 30,
      localWriteErrorsTotal: 1,
      discarded: { 'process-stalled': 4, 'local-error': 1 },
      droppedTotal: 0,
      nowMs,
    };
    metrics.recordWritePath(down);
    metrics.recordWritePath(down); // totals are synced, not added twice
    metrics.recordComputeWorkerHeap({ usedBytes: 40 * 1_048_576, totalBytes: 64 * 1_048_576 });
    const text = Buffer.concat((await metrics.exposition()).chunks).toString();
    expect(text).toContain('probe_success{customer="acme",server="s1",check="web",location="waw"} 0');
    expect(text).toContain('probe_duration_seconds{customer="acme",server="s1",check="web",location="waw"} 1.5');
    expect(text).toContain('probe_http_status_code{customer="acme",server="s1",check="web",location="waw"} 503');
    expect(text).toContain('uptime_credits_sla_uptime_ratio{customer="acme",server="s1"} 0.9985');
    expect(text).toContain(
      'uptime_credits_sla_downtime_budget_seconds{customer="acme",server="s1",below="99.8",credit_percent="10"} 2500\n',
    );
    expect(text).toContain(
      'uptime_credits_sla_downtime_budget_seconds{customer="acme",server="s1",below="99.6",credit_percent="25"} 6500\n',
    );
    expect(text).toContain('uptime_credits_sla_remaining_eligible_seconds{customer="acme",server="s1"} 1000000.5\n'); // the rest minus 500 ms of maintenance
    expect(text).toContain('uptime_credits_server_down{customer="acme",server="s1"} 1');
    expect(text).toContain('uptime_credits_server_down{customer="acme",server="s2"} 0\n');
    expect(text).toContain('uptime_credits_server_maintenance_active{customer="acme",server="s1"} 1');
    expect(text).toContain('uptime_credits_server_tier_info{customer="acme",server="s1",tier="platinum"} 1');
    expect(text).toContain('uptime_credits_sla_recent_downtime_seconds{customer="acme",server="s1",window="1h"} 600\n');
    expect(text).toContain(
      'uptime_credits_sla_recent_downtime_seconds{customer="acme",server="s1",window="6h"} 1500\n',
    );
    expect(text).toContain('uptime_credits_sla_refresh_timestamp_seconds 1000000\n');
    expect(text).toContain('uptime_credits_sla_refresh_duration_seconds 2.345\n');
    expect(text).toContain('uptime_credits_close_role 1');
    expect(text).toContain('uptime_credits_checks_configured 3');
    expect(text).toContain('uptime_credits_close_due_months 1');
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
    expect(text).toContain('uptime_credits_compute_worker_heap_used_bytes 41943040');
    expect(text).toContain('uptime_credits_compute_worker_heap_total_bytes 67108864');
    expect(promtoolProblems(text)).toBe('');
  });
});
