// The pure parts of e-mail delivery and portal links: backoff, Message-IDs, the sender's domain, link signatures,
// the configuration's checks, and what a customer's e-mail says.
import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../../src/config/load.js';
import { customerMail, financeMail } from '../../../src/delivery/compose.js';
import { monthTitle } from '../../../src/reports/format.js';
import { deliveryMessageId, retryDelayMs, senderDomain } from '../../../src/delivery/deliverer.js';
import type { JournalRow } from '../../../src/state/close-records.js';
import type { MonthCredits, ServerCredit } from '../../../src/sla/types.js';
import { createPortalLinkSigner } from '../../../src/web/portal-links.js';
import { signedValue, unsignValue } from '../../../src/web/signing.js';

const problemsOf = (text: string) => {
  try {
    parseConfig(text, '/etc/uc.yaml');
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  throw new Error('the configuration was accepted');
};

describe('delivery rules', () => {
  it('waits retryAfter, doubling per attempt, at most retryMax', () => {
    const delivery = { retryAfter: 60_000, retryMax: 3_600_000 };
    expect([1, 2, 3, 4, 5, 6, 7, 8, 50].map((n) => retryDelayMs(n, delivery))).toEqual([
      60_000, 120_000, 240_000, 480_000, 960_000, 1_920_000, 3_600_000, 3_600_000, 3_600_000,
    ]);
  });

  it('derives a Message-ID from month, revision, recipient and sending, in the sender domain', () => {
    const key = { month: '2026-10', revision: 2, recipient: 'customer:acme' };
    const id = deliveryMessageId(key, 1, 'oktawave.example');
    expect(id).toMatch(/^<uptime-credits\.2026-10\.r2\.customer-acme\.[0-9a-f]{12}@oktawave\.example>$/);
    expect(deliveryMessageId(key, 1, 'oktawave.example')).toBe(id);
    expect(deliveryMessageId({ ...key, revision: 3 }, 1, 'oktawave.example')).not.toBe(id);
    expect(deliveryMessageId({ ...key, recipient: 'finance' }, 1, 'oktawave.example')).not.toBe(id);
    expect(deliveryMessageId(key, 2, 'oktawave.example')).toMatch(/\.resend-1\.[0-9a-f]{12}@/);
    expect(senderDomain('Oktawave SLA <SLA@Oktawave.Example>')).toBe('oktawave.example');
    expect(senderDomain('sla@mail.example.com')).toBe('mail.example.com');
    expect(senderDomain('nobody')).toBe('uptime-credits.invalid');
  });

  it('accepts a genuine portal link until it expires, and nothing altered or signed with another secret', () => {
    const signer = createPortalLinkSigner('s'.repeat(32), 'https://sla.example.com/');
    const link = new URL(signer.link('acme', Date.parse('2026-12-31T00:00:00Z')));
    expect(link.origin + link.pathname).toBe('https://sla.example.com/portal/open');
    const parts = Object.fromEntries(link.searchParams);
    expect(signer.check(parts, Date.parse('2026-12-30T23:59:59Z'))).toEqual({
      ok: true,
      customerId: 'acme',
      expiresAtMs: Date.parse('2026-12-31T00:00:00Z'),
    });
    expect(signer.check(parts, Date.parse('2026-12-31T00:00:00Z'))).toEqual({ ok: false, reason: 'expired' });
    expect(signer.check({ ...parts, customer: 'calm' }, 0)).toEqual({ ok: false, reason: 'invalid' });
    expect(signer.check({ ...parts, expires: String(Number(parts.expires) + 1) }, 0)).toEqual({
      ok: false,
      reason: 'invalid',
    });
    expect(signer.check({ ...parts, sig: undefined }, 0)).toEqual({ ok: false, reason: 'invalid' });
    expect(createPortalLinkSigner('t'.repeat(32), 'https://sla.example.com').check(parts, 0)).toEqual({
      ok: false,
      reason: 'invalid',
    });
  });

  it('signed cookie values are bound to their purpose and secret', () => {
    const value = signedValue('k', 'ops-session', '1800000000');
    expect(unsignValue('k', 'ops-session', value)).toBe('1800000000');
    expect(unsignValue('k', 'portal-session', value)).toBeUndefined();
    expect(unsignValue('other', 'ops-session', value)).toBeUndefined();
    expect(unsignValue('k', 'ops-session', value.replace('1800000000', '1900000000'))).toBeUndefined();
  });

  it('the configuration names the field: delivery needs http.publicUrl, addresses must be addresses', () => {
    const customers = `customers:\n  - { id: acme, name: ACME, tier: gold, email: "not an address", servers: [{ id: s1, name: S1 }] }\n`;
    expect(
      problemsOf(
        `delivery: { smtp: { host: 127.0.0.1 }, from: "a <a@b.example>", financeEmail: "f@b.example" }\n${customers.replace('"not an address"', 'a@b.example')}`,
      ),
    ).toEqual(['http.publicUrl: is required with delivery (the e-mails link to the customer portal)']);
    expect(problemsOf(customers)).toEqual(['customers[0].email: must be an e-mail address']);
    expect(
      problemsOf('delivery: { smtp: { host: 127.0.0.1 }, from: "a <a@b.example>", financeEmail: finance }\n'),
    ).toEqual(['delivery.financeEmail: must be an e-mail address']);
  });
});

const server = (
  id: string,
  name: string,
  uptimePercent: string,
  creditPercentHundredths: number,
  creditAmountGrosze: number,
): ServerCredit => ({
  id,
  name,
  coveredMs: 0,
  maintenanceMs: 0,
  eligibleMs: 0,
  downtimeMs: 0,
  unmonitoredMs: 0,
  uptimePercent,
  monitoredPercent: '100.00',
  bracket: null,
  creditPercentHundredths,
  creditBaseGrosze: 60_000,
  creditAmountGrosze,
  outages: [],
  unmonitored: [],
  maintenance: [],
});

describe('the e-mails', () => {
  const credits: MonthCredits = {
    month: '2026-10',
    timeZone: 'Europe/Warsaw',
    fromMs: Date.parse('2026-09-30T22:00:00Z'),
    toMs: Date.parse('2026-10-31T23:00:00Z'),
    monthMs: 745 * 3_600_000,
    creditBase: 'server',
    customers: [
      {
        id: 'acme',
        name: 'ACME',
        tier: 'platinum',
        monthlyFeeGrosze: 150_000,
        servers: [server('oci-1', 'Sklep', '98.9261', 30_000, 180_000), server('oci-2', 'Baza', '99.9000', 0, 0)],
        creditAmountGrosze: 180_000,
      },
    ],
    creditAmountGrosze: 180_000,
  };

  it("a customer's: subject, one line per server, total, link and the PDF as given", () => {
    const pdf = Buffer.from('%PDF-1.7 test');
    const mail = customerMail({
      note: { month: '2026-10', revision: 1, reason: 'monthly close' },
      credits,
      customerId: 'acme',
      language: 'pl',
      providerName: 'Oktawave',
      pdf,
      portal: { url: 'https://x/portal/open?a=1', expiresAtMs: Date.parse('2026-12-15T12:00:00Z') },
    });
    expect(mail.subject).toBe('Raport SLA za październik 2026: rekompensata 1 800,00 zł');
    expect(mail.text.split('\n')).toEqual(
      expect.arrayContaining([
        '- Sklep (oci-1): dostępność 98,9261 %, rekompensata 300 %, 1 800,00 zł',
        '- Baza (oci-2): dostępność 99,9000 %, rekompensata 0 %, 0,00 zł',
        'Łączna rekompensata: 1 800,00 zł',
        'Szczegóły i poprzednie raporty: https://x/portal/open?a=1 (link ważny do 15.12.2026).',
      ]),
    );
    expect(mail.html).toContain('<a href="https://x/portal/open?a=1">');
    expect(mail.attachments).toEqual([{ filename: 'acme-2026-10.pdf', content: pdf, contentType: 'application/pdf' }]);
    const corrected = customerMail({
      note: { month: '2026-10', revision: 3, reason: 'ticket <T-1>' },
      credits,
      customerId: 'acme',
      language: 'en',
      providerName: 'Oktawave',
      pdf,
    });
    expect(corrected.subject).toBe('Corrected SLA report for October 2026 (revision 3): credit PLN 1,800.00');
    expect(corrected.text).toContain(
      'This is revision 3 of the report and replaces the previous one. Reason: ticket <T-1>',
    );
    expect(corrected.html).toContain('ticket &lt;T-1&gt;');
    expect(corrected.attachments[0]!.filename).toBe('acme-2026-10-rev-3.pdf');
  });

  it("finance's: the payable sum of the revision's journal rows and both CSVs", () => {
    const row = (creditId: string, deltaGrosze: number, entry: JournalRow['entry'] = 'payable'): JournalRow => ({
      entry,
      month: '2026-10',
      revision: 2,
      creditId,
      customerId: 'acme',
      serverId: 'oci-1',
      previousGrosze: 0,
      newGrosze: deltaGrosze,
      deltaGrosze,
      reason: 'r',
      closedAtMs: 0,
      closedBy: 'x',
    });
    const mail = financeMail({
      note: { month: '2026-10', revision: 2, reason: 'ticket 7' },
      totalGrosze: 230_000,
      language: 'pl',
      ledgerCsv: Buffer.from('ledger'),
      journalRows: [row('a', 50_000), row('b', -1_000), row('c', 9_999, 'opening-balance')],
      providerName: 'Oktawave',
    });
    expect(mail.subject).toBe('Księga rekompensat 2026-10, wersja 2: 3 pozycji dziennika, do wypłaty 490,00 zł');
    expect(mail.attachments.map((a) => a.filename)).toEqual(['ledger-2026-10-rev-2.csv', 'journal-2026-10-rev-2.csv']);
    expect(mail.attachments[1]!.content.toString('utf8').split('\r\n').length).toBe(5); // header, 3 rows, end
  });

  it('names months as people do', () => {
    expect([monthTitle('2026-10', 'pl'), monthTitle('2026-01', 'en'), monthTitle('2026-12', 'pl')]).toEqual([
      'październik 2026',
      'January 2026',
      'grudzień 2026',
    ]);
  });
});
