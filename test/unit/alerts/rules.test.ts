// The generated rule file and Alertmanager example: shipped files match the generator, promtool and amtool accept
// them, the shipped promtool suite passes on a fresh generation, and a configuration's own tiers get their own
// deadlines. Real promtool and amtool (Debian's prometheus and prometheus-alertmanager).
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { load } from 'js-yaml';
import {
  type alertmanagerExample,
  alertmanagerExampleText,
  groupWaitForReaction,
} from '../../../src/alerts/alertmanager.js';
import { formatPromDuration } from '../../../src/alerts/durations.js';
import { alertRuleGroups, DEFAULT_JOB, ruleFileText, type AlertingRule } from '../../../src/alerts/rules.js';
import { loadConfig } from '../../../src/config/load.js';
import { runTool } from '../../support/promtool.js';

const shipped = (name: string) => new URL(`../../../config/prometheus/${name}`, import.meta.url);
const example = loadConfig(new URL('../../../config/uptime-credits.example.yaml', import.meta.url).pathname);
const dir = mkdtempSync(join(tmpdir(), 'uc-rules-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const run = (command: 'promtool' | 'amtool', args: string[]) => runTool(command, args, dir);

function configWith(yaml: string) {
  const path = join(dir, `config-${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(path, `storage: { kind: embedded, path: ${join(dir, 'data', 'store.db')} }\n${yaml}`);
  return loadConfig(path);
}

describe('formatPromDuration', () => {
  it('writes whole units, largest first', () => {
    expect([0, 500, 30_000, 1_800_000, 3_600_000, 5_400_000, 7_200_000, 90_061_001].map(formatPromDuration)).toEqual([
      '0s',
      '500ms',
      '30s',
      '30m',
      '1h',
      '1h30m',
      '2h',
      '25h1m1s1ms',
    ]);
    expect(() => formatPromDuration(1.5)).toThrow(/whole milliseconds/);
  });
});

describe('rule file', () => {
  it('the shipped files are what `uptime-credits rules` generates for the example configuration', () => {
    expect(readFileSync(shipped('uptime-credits.rules.yml'), 'utf8')).toBe(
      ruleFileText(example, { job: DEFAULT_JOB }, 'uptime-credits.example.yaml'),
    );
    expect(readFileSync(shipped('alertmanager.example.yml'), 'utf8')).toBe(
      alertmanagerExampleText(example, 'uptime-credits.example.yaml'),
    );
  });

  it('passes promtool check rules, and the shipped promtool suite passes on a fresh generation', () => {
    writeFileSync(
      join(dir, 'uptime-credits.rules.yml'),
      ruleFileText(example, { job: DEFAULT_JOB }, 'uptime-credits.example.yaml'),
    );
    copyFileSync(shipped('uptime-credits.rules.test.yml'), join(dir, 'uptime-credits.rules.test.yml'));
    const check = run('promtool', ['check', 'rules', 'uptime-credits.rules.yml']);
    expect(check.output).toMatch(/SUCCESS: \d+ rules found/);
    const suite = run('promtool', ['test', 'rules', 'uptime-credits.rules.test.yml']);
    expect(suite.output).toContain('SUCCESS');
    expect(suite.status).toBe(0);
  });

  it('describes every alert in README "Alerts"', () => {
    const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
    const alerts = readme.slice(readme.indexOf('## Alerts'));
    const names = new Set(
      alertRuleGroups(example, { job: DEFAULT_JOB }).flatMap((g) =>
        g.rules.flatMap((r) => ('alert' in r ? [r.alert] : [])),
      ),
    );
    expect(names.size).toBeGreaterThan(15);
    for (const name of names) expect(alerts, name).toContain(`### ${name}`);
  });

  it('gives a configured tier its own deadline and severity, and escapes odd tier names', () => {
    const config = configWith(`
tiers:
  gold: { reactionTime: 45m }
  "vip.24/7": { baseFee: "100.00", serverFee: "900.00", brackets: [{ below: "99.9", creditPercent: "50" }], reactionTime: 15m }
  bronze: { baseFee: "10.00", serverFee: "10.00", brackets: [{ below: "98", creditPercent: "5" }] }
`);
    const down = alertRuleGroups(config, { job: 'uc' })
      .flatMap((g) => g.rules)
      .filter((r): r is AlertingRule => 'alert' in r && r.alert === 'UptimeCreditsServerDown');
    const byTier = Object.fromEntries(
      down.map((r) => [r.labels.tier ?? '(other)', [r.labels.reaction_deadline, r.labels.severity]]),
    );
    expect(byTier).toEqual({
      silver: ['2h', 'medium'],
      gold: ['45m', 'high'],
      platinum: ['30m', 'critical'],
      'vip.24/7': ['15m', 'critical'],
      // A new tier without reactionTime gets the shortest of the seed's (pages soonest).
      bronze: ['30m', 'critical'],
      '(other)': ['15m', 'critical'],
    });
    expect(down.at(-1)!.expr).toContain('tier!~"silver|gold|platinum|vip\\\\.24/7|bronze"');
    writeFileSync(join(dir, 'custom.rules.yml'), ruleFileText(config, { job: 'uc' }, 'custom.yaml'));
    expect(run('promtool', ['check', 'rules', 'custom.rules.yml']).output).toMatch(/SUCCESS: \d+ rules found/);
    expect(readFileSync(join(dir, 'custom.rules.yml'), 'utf8')).toContain('up{job="uc"} == 0');
  });

  it('rejects a reaction time that is not a duration, naming the key', () => {
    expect(() => configWith('tiers:\n  gold: { reactionTime: soon }\n')).toThrow(/tiers\.gold\.reactionTime/);
  });
});

describe('Alertmanager example', () => {
  it('passes amtool check-config', () => {
    writeFileSync(join(dir, 'am.yml'), alertmanagerExampleText(example, 'uptime-credits.example.yaml'));
    const check = run('amtool', ['check-config', 'am.yml']);
    expect(check.output).toContain('SUCCESS');
    expect(check.status).toBe(0);
  });

  it('routes by tier and deadline: Platinum pages at once, every tier within its reaction time', () => {
    writeFileSync(join(dir, 'am.yml'), alertmanagerExampleText(example, 'uptime-credits.example.yaml'));
    // stdout only: amtool warns on stderr that --config.file wins over --alertmanager.url.
    const receiver = (...labels: string[]) =>
      run('amtool', ['config', 'routes', 'test', '--config.file=am.yml', ...labels]).stdout.trim();
    expect(receiver('alertname=UptimeCreditsServerDown', 'tier=platinum', 'severity=critical')).toBe('pager');
    expect(receiver('alertname=UptimeCreditsServerDown', 'tier=silver', 'severity=medium')).toBe('pager');
    expect(receiver('alertname=UptimeCreditsServerDown', 'tier=bronze', 'severity=critical')).toBe('pager');
    expect(receiver('alertname=UptimeCreditsBudgetBurn', 'severity=warning')).toBe('account-managers');
    expect(receiver('alertname=UptimeCreditsLocalStoreFailing', 'severity=critical')).toBe('pager');
    expect(receiver('alertname=UptimeCreditsCloseOverdue', 'severity=warning')).toBe('finance,ops');
    expect(receiver('alertname=UptimeCreditsRevisionsPending', 'severity=warning')).toBe('finance,ops');
    expect(receiver('alertname=UptimeCreditsOutboxParked', 'severity=warning')).toBe('ops');
    expect(receiver('alertname=UptimeCreditsDeliveryFailed', 'severity=warning')).toBe('account-managers,ops');
    expect(receiver('alertname=UptimeCreditsDeliveryStuck', 'severity=warning')).toBe('account-managers,ops');

    const routes = load(readFileSync(join(dir, 'am.yml'), 'utf8')) as ReturnType<typeof alertmanagerExample>;
    const tierRoute = (tier: string) => routes.route.routes!.find((r) => r.matchers?.includes(`tier="${tier}"`))!;
    expect([tierRoute('platinum').group_wait, tierRoute('platinum').repeat_interval]).toEqual(['0s', '30m']);
    expect([tierRoute('gold').group_wait, tierRoute('gold').repeat_interval]).toEqual(['5m', '1h']);
    expect([tierRoute('silver').group_wait, tierRoute('silver').repeat_interval]).toEqual(['5m', '2h']);
    // The first page of every tier leaves most of its deadline for the reaction.
    for (const reactionMs of [15 * 60_000, 30 * 60_000, 3_600_000, 2 * 3_600_000, 24 * 3_600_000])
      expect(groupWaitForReaction(reactionMs)).toBeLessThanOrEqual(reactionMs / 12);
  });
});
