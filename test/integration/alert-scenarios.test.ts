// The alert rules on what the daemon really exports: observations in a real embedded store, the month-to-date
// SLA view computed by the SLA core, the metrics it renders, then `promtool test rules` with those very series
// against the generated rule file. The hand-written suite (config/prometheus/) pins each rule down; this shows that
// the daemon's own judgement feeds them: a blip shorter than the confirmations and a quorum not reached do not
// page, a confirmed outage does (not in announced maintenance), and a month exactly at a bracket's threshold is told apart from one 1 ms past it.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dump } from 'js-yaml';
import { ruleFileText } from '../../src/alerts/rules.js';
import { createLogger } from '../../src/logging.js';
import { createMetrics } from '../../src/metrics/metrics.js';
import { createSlaRefresh } from '../../src/scheduler/sla-refresh.js';
import { inThreadComputations } from '../../src/close/month-computations.js';
import type { Observation } from '../../src/sla/types.js';
import { closeFixture, type CloseFixture } from '../support/close-fixture.js';
import { runTool } from '../support/promtool.js';

const EVERY_MS = 48_000; // 10,368 s (the 99.6 % allowance of a 30-day month) is 216 probe intervals
const AS_OF = Date.parse('2026-11-20T12:00:00+01:00');
const OUTAGE_START = Date.parse('2026-11-10T10:00:00+01:00');
const INSTANCE = { job: 'uptime-credits', instance: 'closer:9464' };

const YAML = `
probing: { location: waw, interval: 48s, confirmations: 3 }
customers:
  - id: acme
    name: ACME
    tier: platinum
    servers:
      - { id: quorum-1, name: One location of three fails }
      - { id: blip-1, name: Two failures in a row }
      - { id: down-1, name: Down everywhere }
      - { id: maint-1, name: Down in announced maintenance }
  - id: bolt
    name: Bolt
    tier: gold
    servers:
      - { id: edge-0, name: Exactly 99.6 % }
      - { id: edge-1, name: One millisecond past 99.6 % }
maintenance:
  - { server: maint-1, from: "${new Date(AS_OF - 3_600_000).toISOString()}", to: "${new Date(AS_OF + 3_600_000).toISOString()}", announced: true }
`;

/** Probes every 48 s over the last 30 minutes before AS_OF at one location, failing where `fails` says. */
function recent(server: string, location: string, fails: (timeMs: number) => boolean): Observation[] {
  const out: Observation[] = [];
  for (let t = AS_OF - 30 * 60_000; t <= AS_OF; t += EVERY_MS)
    out.push({ timeMs: t, server, location, check: 'https', up: !fails(t) });
  return out;
}

/** An outage of 216 failures from OUTAGE_START, ended by a success `endMs` after it. */
function outage(server: string, endMs: number): Observation[] {
  const out: Observation[] = [{ timeMs: OUTAGE_START - EVERY_MS, server, location: 'waw', check: 'https', up: true }];
  for (let k = 0; k < 216; k++)
    out.push({ timeMs: OUTAGE_START + k * EVERY_MS, server, location: 'waw', check: 'https', up: false });
  out.push({ timeMs: OUTAGE_START + endMs, server, location: 'waw', check: 'https', up: true });
  return out;
}

/** The exposition's samples as promtool input series, each constant for `minutes`, with the scrape's labels. */
function inputSeries(exposition: string, minutes: number): { series: string; values: string }[] {
  const scrape = `job="${INSTANCE.job}",instance="${INSTANCE.instance}"`;
  return exposition
    .split('\n')
    .filter((line) => /^(uptime_credits|probe)_/.test(line))
    .flatMap((line) => {
      const match = /^([a-z_:]+)(?:\{(.*)\})? (\S+)$/.exec(line);
      if (!match || match[3] === 'NaN') return [];
      const [, name, labels, value] = match;
      return [{ series: `${name}{${scrape}${labels ? `,${labels}` : ''}}`, values: `${value}x${minutes}` }];
    });
}

describe("alert rules on the daemon's own series", () => {
  let fixture: CloseFixture;
  let exposition: string;

  beforeAll(async () => {
    fixture = await closeFixture({ nowIso: new Date(AS_OF).toISOString(), yaml: YAML });
    const last10Minutes = (t: number) => t > AS_OF - 10 * 60_000;
    await fixture.store.write([
      ...recent('quorum-1', 'waw', () => true),
      ...recent('quorum-1', 'fra', () => false),
      ...recent('quorum-1', 'ams', () => false),
      // Two failures in a row, then up again: one short of the three confirmations.
      ...recent('blip-1', 'waw', (t) => t > AS_OF - 20 * 60_000 && t <= AS_OF - 20 * 60_000 + 2 * EVERY_MS),
      ...['waw', 'fra', 'ams'].flatMap((location) => recent('down-1', location, last10Minutes)),
      ...recent('maint-1', 'waw', last10Minutes),
      ...outage('edge-0', 10_368_000),
      ...outage('edge-1', 10_368_001),
    ]);
    const metrics = createMetrics();
    const refresh = createSlaRefresh({
      config: fixture.config,
      operatorRecords: fixture.operatorRecords,
      computations: inThreadComputations(fixture.config, fixture),
      logger: createLogger('silent'),
      clock: fixture.clock,
    });
    metrics.recordSla((await refresh.refresh()).servers);
    metrics.recordRole({ closes: true, checks: 6 });
    exposition = Buffer.concat((await metrics.exposition()).chunks).toString();
  });
  afterAll(async () => fixture.dispose());

  it("exports the SLA core's judgement: down only where confirmed at quorum, budgets 0 and -1 ms at the edge", () => {
    const down = [
      ...exposition.matchAll(/^uptime_credits_server_down\{customer="(\w+)",server="([\w-]+)"\} (\d)$/gm),
    ].map((m) => `${m[2]}=${m[3]}`);
    // maint-1 is down, but inside announced maintenance: the rules mute it (below), the series does not hide it.
    expect(down).toEqual(['quorum-1=0', 'blip-1=0', 'down-1=1', 'maint-1=1', 'edge-0=0', 'edge-1=0']);
    expect(exposition).toContain('uptime_credits_server_maintenance_active{customer="acme",server="maint-1"} 1\n');
    expect(exposition).toContain(
      'uptime_credits_sla_downtime_budget_seconds{customer="bolt",server="edge-0",below="99.6",credit_percent="10"} 0\n',
    );
    expect(exposition).toContain(
      'uptime_credits_sla_downtime_budget_seconds{customer="bolt",server="edge-1",below="99.6",credit_percent="10"} -0.001\n',
    );
    expect(exposition).toContain(
      'uptime_credits_sla_downtime_budget_seconds{customer="bolt",server="edge-1",below="99.4",credit_percent="25"} 5183.999\n',
    );
    expect(exposition).toContain('uptime_credits_server_tier_info{customer="bolt",server="edge-1",tier="gold"} 1\n');
    expect(exposition).toContain(
      'uptime_credits_sla_recent_downtime_seconds{customer="acme",server="down-1",window="1h"} 552\n',
    );
  });

  it('pages the confirmed outage only, and tells the exact threshold from 1 ms past it (promtool test rules)', () => {
    const dir = fixture.dir;
    writeFileSync(join(dir, 'rules.yml'), ruleFileText(fixture.config, { job: INSTANCE.job }, 'config.yaml'));
    const labels = (extra: Record<string, string>) => ({ ...INSTANCE, ...extra });
    const test = {
      rule_files: ['rules.yml'],
      evaluation_interval: '1m',
      tests: [
        {
          interval: '1m',
          input_series: inputSeries(exposition, 15),
          alert_rule_test: [
            {
              eval_time: '10m',
              alertname: 'UptimeCreditsServerDown',
              exp_alerts: [
                {
                  exp_labels: labels({
                    customer: 'acme',
                    server: 'down-1',
                    tier: 'platinum',
                    severity: 'critical',
                    page: 'true',
                    reaction_deadline: '30m',
                  }),
                  exp_annotations: {
                    summary: 'acme/down-1 (platinum) is down: react within 30m',
                    description:
                      'Confirmed down at quorum of the probing locations, outside announced maintenance. Tier platinum promises a reaction to a failure within 30m, 24/7/365.',
                    runbook: 'README.md#uptimecreditsserverdown',
                  },
                },
              ],
            },
            {
              eval_time: '10m',
              alertname: 'UptimeCreditsBracketCrossed',
              exp_alerts: [
                {
                  exp_labels: labels({
                    customer: 'bolt',
                    server: 'edge-1',
                    tier: 'gold',
                    below: '99.6',
                    credit_percent: '10',
                    severity: 'info',
                  }),
                  exp_annotations: {
                    summary: 'bolt/edge-1 is past the 99.6 % bracket: a 10 % credit is due this month',
                    description:
                      'Budget left -1ms: the downtime so far is more than the whole month allows, so the credit holds whatever happens next.',
                    runbook: 'README.md#uptimecreditsbracketcrossed',
                  },
                },
              ],
            },
            {
              eval_time: '10m',
              alertname: 'UptimeCreditsBudgetNearBracket',
              exp_alerts: [
                {
                  exp_labels: labels({
                    customer: 'bolt',
                    server: 'edge-0',
                    tier: 'gold',
                    below: '99.6',
                    credit_percent: '10',
                    severity: 'info',
                  }),
                  exp_annotations: {
                    summary: 'bolt/edge-0 has 0s of downtime left before the 99.6 % bracket',
                    description:
                      "At most 10 % of the month's allowance is left before a 10 % credit; at 0 one more millisecond brings it.",
                    runbook: 'README.md#uptimecreditsbudgetnearbracket',
                  },
                },
              ],
            },
            {
              // down-1 has been down for its last 552 s: at that rate (1 h, 6 h, 30 m windows) the 10 days left of the
              // month would use up the 5,184 s Platinum allows for 99.8 %, of which 4,632 s (1h 17m 12s) are left.
              eval_time: '10m',
              alertname: 'UptimeCreditsBudgetBurn',
              exp_alerts: [
                {
                  exp_labels: labels({
                    customer: 'acme',
                    server: 'down-1',
                    tier: 'platinum',
                    below: '99.8',
                    credit_percent: '10',
                    severity: 'warning',
                  }),
                  exp_annotations: {
                    summary: 'acme/down-1 will fall below 99.8 % this month at its current downtime rate',
                    description:
                      'At the downtime rate of the last 1 h, 6 h and 30 min, the rest of the month uses up the 1h 17m 12s left before a 10 % credit.',
                    runbook: 'README.md#uptimecreditsbudgetburn',
                  },
                },
              ],
            },
            { eval_time: '10m', alertname: 'UptimeCreditsNoCloseInstance', exp_alerts: [] },
          ],
        },
      ],
    };
    writeFileSync(join(dir, 'rules.test.yml'), dump(test, { lineWidth: -1, noRefs: true }));
    const result = runTool('promtool', ['test', 'rules', 'rules.test.yml'], dir);
    expect(result.output).toContain('SUCCESS');
    expect(result.status).toBe(0);
  });
});
