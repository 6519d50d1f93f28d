// The report's method section follows the terms the month was closed under, not a fixed text.
import { describe, expect, it } from 'vitest';
import { methodLines, type MethodTerms } from '../../../src/reports/method-text.js';

const defaults: MethodTerms = {
  language: 'en',
  confirmations: 3,
  creditBase: 'server',
  minMonitoredPercent: '90',
  maintenanceNoticeMs: 0,
  hasIncidents: false,
};

describe('method section', () => {
  it('says majority, the server base and no cap by default', () => {
    const lines = methodLines(defaults);
    expect(lines).toHaveLength(7);
    expect(lines[2]).toBe(
      'Downtime starts at the first of at least 3 consecutive failed probes and lasts until the next successful probe. With several probing locations it counts while a majority of the locations with a fresh observation see the server down.',
    );
    expect(lines[3]).toBe(
      'Time without a fresh observation is not downtime: it counts as available and is shown separately.',
    );
    expect(lines[6]).toBe(
      "Amount = base x percent / 100, rounded half up to the grosz. The base is the server's monthly fee, prorated by its covered time.",
    );
  });

  it('names the quorum, the customer base and the cap when the terms set them', () => {
    const lines = methodLines({ ...defaults, quorum: 2, creditBase: 'customer', maxCreditPercentHundredths: 5_050 });
    expect(lines[2]).toContain('it counts while at least 2 of them see the server down.');
    expect(lines.join('\n')).not.toContain('majority');
    expect(lines[6]).toBe(
      "Amount = base x percent / 100, rounded half up to the grosz. The base is the customer's whole monthly fee (base fee and server fees, each server's prorated by its covered time); the credit of the worst server is paid once. The credit is at most 50.5 % of the base.",
    );
  });

  it('in Polish, with the maintenance notice and incidents in their places', () => {
    const lines = methodLines({
      ...defaults,
      language: 'pl',
      quorum: 2,
      maxCreditPercentHundredths: 10_000,
      maintenanceNoticeMs: 2 * 86_400_000,
      hasIncidents: true,
      minMonitoredPercent: '92.5',
    });
    expect(lines).toHaveLength(9);
    expect(lines[2]).toBe(
      'Prace serwisowe są wyłączone z rozliczenia, gdy zapowiedziano je co najmniej 48 h 00 min 00 s przed ich rozpoczęciem.',
    );
    expect(lines[3]).toContain('z co najmniej 2 z nich.');
    expect(lines[5]).toContain('poniżej 92,5 %');
    expect(lines[6]).toMatch(/^Awaria zgłoszona przez klienta/);
    expect(lines[8]).toMatch(/Rekompensata wynosi najwyżej 100 % podstawy\.$/);
  });
});
