// The Grafana dashboard's queries parse (promtool) and use only metrics this daemon exports.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createMetrics } from '../../../src/metrics/metrics.js';
import { runTool } from '../../support/promtool.js';

const dashboard = JSON.parse(
  readFileSync(new URL('../../../config/grafana/uptime-credits-dashboard.json', import.meta.url), 'utf8'),
) as {
  panels: { title: string; targets: { expr: string }[] }[];
};
const expressions = dashboard.panels.flatMap((p) => p.targets.map((t) => t.expr));

describe('Grafana dashboard', () => {
  it('has fleet up/down, budget left per customer and projected credits', () => {
    const titles = dashboard.panels.map((p) => p.title);
    expect(titles).toEqual(
      expect.arrayContaining(['Servers up', 'Servers down', 'Projected credits this month (PLN)', 'Month closes']),
    );
    expect(titles.some((t) => t.startsWith('Downtime budget left'))).toBe(true);
    // The alerts' figures: the budget left per bracket and the burn rate.
    expect(titles.some((t) => t.startsWith('Downtime budget left per bracket'))).toBe(true);
    expect(titles.some((t) => t.startsWith('Downtime burn rate'))).toBe(true);
  });

  it('every query is valid PromQL (promtool check rules)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'uc-grafana-'));
    try {
      const rules = `groups:\n  - name: dashboard\n    rules:\n${expressions.map((e, i) => `      - record: dashboard:q${i}\n        expr: ${JSON.stringify(e)}`).join('\n')}\n`;
      writeFileSync(join(dir, 'rules.yml'), rules);
      expect(runTool('promtool', ['check', 'rules', join(dir, 'rules.yml')]).output).toContain(
        `SUCCESS: ${expressions.length} rules found`,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('uses only metrics the daemon exports', async () => {
    const exported = [
      ...Buffer.concat((await createMetrics().exposition()).chunks)
        .toString()
        .matchAll(/^# TYPE (\S+)/gm),
    ].map((m) => m[1]);
    const used = new Set(
      expressions
        .flatMap((e) => e.match(/\b(probe|uptime_credits)_[a-z_]+/g) ?? [])
        .map((n) => n.replace(/_bucket$/, '')),
    );
    for (const name of used) expect(exported).toContain(name);
  });
});
