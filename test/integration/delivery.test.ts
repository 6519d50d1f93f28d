// E-mail of issued months through a real SMTP server on loopback (smtp-server in this process, read back with
// mailparser): what customers and finance receive, once per (month, revision, recipient) across runs, retries while
// the server is down, refusals reported, and what a crash can and cannot do.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { afterEach, describe, expect, it } from 'vitest';
import { createDeliverer, type Deliverer } from '../../src/delivery/deliverer.js';
import { createSmtpMailer, deliveryLeaseMs, type Mailer } from '../../src/delivery/mailer.js';
import { createLogger } from '../../src/logging.js';
import { SqliteDeliveryRecords } from '../../src/state/delivery-records.js';
import { createPortalLinkSigner } from '../../src/web/portal-links.js';
import { closeFixture, type CloseFixture } from '../support/close-fixture.js';
import { runCli } from '../support/cli.js';
import { startTestSmtp, type TestSmtp } from '../support/smtp.js';

const H = 3_600_000;
const MIN = 60_000;
const at = (iso: string) => Date.parse(iso);
const OCT = { fromMs: at('2026-09-30T20:00:00Z'), toMs: at('2026-11-01T02:00:00Z') };
const SECRET = 'portal-secret-for-tests-0123456789abcdef';
const PORTAL_ENV = 'UC_TEST_PORTAL_SECRET';

const yaml = (smtpPort: number) => `
http: { publicUrl: "http://127.0.0.1:9" }
portal: { secretEnv: ${PORTAL_ENV} }
delivery:
  smtp: { host: 127.0.0.1, port: ${smtpPort}, timeout: 2s }
  from: "Oktawave SLA <sla@oktawave.example>"
  financeEmail: finance@oktawave.example
  financeLanguage: en
  retryAfter: 10s
  retryMax: 1m
customers:
  - id: acme
    name: "ACME Sp. z o.o."
    tier: platinum
    email: rozliczenia@acme.example
    servers: [{ id: oci-101, name: Sklep Łódź }]
  - id: calm
    name: Calm Ltd
    tier: silver
    language: en
    email: billing@calm.example
    servers: [{ id: oci-5, name: WWW }]
  - id: quiet
    name: Quiet SA
    tier: gold
    servers: [{ id: oci-7, name: API }]
`;

const fixtures: CloseFixture[] = [];
const servers: TestSmtp[] = [];
const mailers: Mailer[] = [];
afterEach(async () => {
  for (const m of mailers.splice(0)) m.close();
  for (const s of servers.splice(0)) await s.stop();
  for (const f of fixtures.splice(0)) await f.dispose();
});

/** October closed: oci-101 down 8 h (Platinum credits), oci-5 down 1 h, oci-7 up. */
async function closedOctober(): Promise<{ f: CloseFixture; smtp: TestSmtp }> {
  const smtp = await startTestSmtp();
  servers.push(smtp);
  const f = await closeFixture({ nowIso: '2026-11-02T00:00:00Z', yaml: yaml(smtp.port) });
  fixtures.push(f);
  await f.observe(
    {
      server: 'oci-101',
      ...OCT,
      everyMs: MIN,
      down: [{ fromMs: at('2026-10-10T08:00:00Z'), toMs: at('2026-10-10T16:00:00Z') }],
    },
    {
      server: 'oci-5',
      ...OCT,
      everyMs: MIN,
      down: [{ fromMs: at('2026-10-20T08:00:00Z'), toMs: at('2026-10-20T09:00:00Z') }],
    },
    { server: 'oci-7', ...OCT, everyMs: MIN },
  );
  const outcome = await f.closer.close('2026-10', { by: 'test' });
  expect(outcome.status).toBe('issued');
  return { f, smtp };
}

function deliverer(
  f: CloseFixture,
  owner: string,
  mailer?: Mailer,
  deliveries = SqliteDeliveryRecords.open(f.config.state.path),
): Deliverer {
  const real = createSmtpMailer(f.config.delivery!);
  mailers.push(real);
  return createDeliverer({
    config: { ...f.config, delivery: f.config.delivery! },
    closeRecords: f.records,
    deliveries,
    mailer: mailer ?? real,
    portalLinks: createPortalLinkSigner(SECRET, f.config.http.publicUrl!),
    logger: createLogger(),
    owner,
    now: () => f.clock.now(),
  });
}

const byRecipient = (smtp: TestSmtp, address: string) => smtp.received.filter((m) => m.envelopeTo.includes(address));
const cli = (f: CloseFixture, ...args: string[]) =>
  runCli([...args, '-c', f.configPath], { env: { [PORTAL_ENV]: SECRET } });

describe('e-mail of an issued month', () => {
  it('sends each customer their PDF and summary in their language and finance the ledger and journal, once; a customer without e-mail is listed', async () => {
    const { f, smtp } = await closedOctober();
    const first = await cli(f, 'deliver', '--month', '2026-10');
    // Quiet has no e-mail address: listed as undeliverable, so the command says not everything was delivered.
    expect(first.code, first.stderr).toBe(1);
    expect(first.stdout).toMatch(/1\s+customer:quiet\s+-\s+undeliverable/);
    expect(first.stdout).toMatch(/1\s+customer:acme\s+rozliczenia@acme\.example\s+sent/);
    expect(smtp.received).toHaveLength(3);

    const ledger = parse(readFileSync(join(f.reportsDir, '2026-10', 'ledger.csv'), 'utf8'), {
      bom: true,
      columns: true,
    }) as Record<string, string>[];
    const amountOf = (customer: string) => ledger.find((r) => r.customer_id === customer)!.credit_amount;

    const [acme] = byRecipient(smtp, 'rozliczenia@acme.example');
    expect(amountOf('acme')).toBe('1800.00'); // 8 h of 745 h: 98.9261 %, Platinum's bracket below 99 %
    expect(acme!.parsed.subject).toBe('Raport SLA za październik 2026: rekompensata 1 800,00 zł');
    expect(acme!.parsed.messageId).toMatch(
      /^<uptime-credits\.2026-10\.r1\.customer-acme\.[0-9a-f]{12}@oktawave\.example>$/,
    );
    expect(acme!.parsed.text).toContain('Sklep Łódź (oci-101)');
    expect(acme!.parsed.text).toMatch(/dostępność 98,9261 %/);
    const [pdf] = acme!.parsed.attachments;
    expect(pdf!.filename).toBe('acme-2026-10.pdf');
    expect(pdf!.content.equals(readFileSync(join(f.reportsDir, '2026-10', 'acme.pdf')))).toBe(true);
    // The portal link works for acme, and only until the link validity (45 days) from now.
    const link = /http:\/\/127\.0\.0\.1:9\/portal\/open\?[^\s)]+/.exec(acme!.parsed.text!)![0];
    const url = new URL(link);
    const verdict = createPortalLinkSigner(SECRET, 'http://127.0.0.1:9').check(
      Object.fromEntries(url.searchParams),
      f.clock.now(),
    );
    expect(verdict).toMatchObject({ ok: true, customerId: 'acme' });
    expect(Number(url.searchParams.get('expires'))).toBeGreaterThan(Math.floor((Date.now() + 44 * 24 * H) / 1000));

    const [calm] = byRecipient(smtp, 'billing@calm.example');
    // Calm's 1 h is within Silver's brackets: no ledger row, and the e-mail says the level was met.
    expect(ledger.some((r) => r.customer_id === 'calm')).toBe(false);
    expect(calm!.parsed.subject).toBe('SLA report for October 2026: credit PLN 0.00');
    expect(calm!.parsed.text).toContain('The availability level was met: no credit is due.');
    expect(calm!.parsed.attachments[0]!.content.equals(readFileSync(join(f.reportsDir, '2026-10', 'calm.pdf')))).toBe(
      true,
    );

    const [finance] = byRecipient(smtp, 'finance@oktawave.example');
    const files = new Map(finance!.parsed.attachments.map((a) => [a.filename, a.content]));
    expect([...files.keys()]).toEqual(['ledger-2026-10-rev-1.csv', 'journal-2026-10-rev-1.csv']);
    expect(
      files.get('ledger-2026-10-rev-1.csv')!.equals(readFileSync(join(f.reportsDir, '2026-10', 'ledger.csv'))),
    ).toBe(true);
    const journal = parse(files.get('journal-2026-10-rev-1.csv')!.toString('utf8'), {
      bom: true,
      columns: true,
    }) as Record<string, string>[];
    expect(journal.map((r) => [r.credit_id, r.delta])).toEqual(
      f.records.journal('2026-10').map((r) => [r.creditId, (r.deltaGrosze / 100).toFixed(2)]),
    );

    // Again: nothing new is sent.
    const second = await cli(f, 'deliver', '--month', '2026-10');
    expect(second.code).toBe(1);
    expect(smtp.received).toHaveLength(3);

    // A resend by hand goes once more, under its own Message-ID.
    const resend = await cli(f, 'deliver', '--month', '2026-10', '--customer', 'calm', '--resend');
    expect(resend.stdout).toMatch(/customer:calm\s+billing@calm\.example\s+sent/);
    const calms = byRecipient(smtp, 'billing@calm.example');
    expect(calms).toHaveLength(2);
    expect(calms[1]!.parsed.messageId).toMatch(/\.customer-calm\.resend-1\.[0-9a-f]{12}@oktawave\.example>$/);
    expect(smtp.received).toHaveLength(4);
  });

  it('a restatement mails the customers whose report it replaces and finance, with the reason', async () => {
    const { f, smtp } = await closedOctober();
    await f.clock.advanceTo(f.clock.now() + MIN); // delivery is turned on a minute after the close
    const d = deliverer(f, 'a');
    expect(d.planIssued()).toBe(0);
    // Automatic delivery began after October was issued: nothing is planned by planIssued, the month is asked for.
    expect(await d.send()).toEqual({ sent: 0, retried: 0, failed: 0 });
    d.planMonth('2026-10');
    expect(await d.send()).toEqual({ sent: 3, retried: 0, failed: 0 });

    await f.keeper().addIncident(
      {
        serverId: 'oci-5',
        kind: 'reported',
        fromMs: at('2026-10-21T08:00:00Z'),
        toMs: at('2026-10-21T12:00:00Z'),
        reason: 'customer saw 502s',
        ticket: 'T-9',
      },
      'test',
    );
    expect(f.records.latestRevision('2026-10')!.revision).toBe(2);
    expect(d.planIssued()).toBe(2); // calm and finance: acme's figures did not change
    expect(await d.send()).toEqual({ sent: 2, retried: 0, failed: 0 });
    const [calm2] = byRecipient(smtp, 'billing@calm.example').slice(1);
    expect(calm2!.parsed.subject).toMatch(/^Corrected SLA report for October 2026 \(revision 2\): credit PLN /);
    expect(calm2!.parsed.text).toContain('ticket T-9');
    expect(calm2!.parsed.attachments[0]!.filename).toBe('calm-2026-10-rev-2.pdf');
    expect(
      calm2!.parsed.attachments[0]!.content.equals(readFileSync(join(f.reportsDir, '2026-10', 'rev-2', 'calm.pdf'))),
    ).toBe(true);
    const finance2 = byRecipient(smtp, 'finance@oktawave.example')[1]!;
    const journal = parse(finance2.parsed.attachments[1]!.content.toString('utf8'), {
      bom: true,
      columns: true,
    }) as Record<string, string>[];
    expect(journal.map((r) => [r.revision, r.server_id])).toEqual([['2', 'oci-5']]);
    expect(byRecipient(smtp, 'rozliczenia@acme.example')).toHaveLength(1);
  });

  it('retries while the SMTP server is down and sends everything once it is back; a refused recipient is reported, not retried', async () => {
    const { f, smtp } = await closedOctober();
    smtp.refuse.add('billing@calm.example');
    await smtp.stop();
    const outcomes: string[] = [];
    const d = createDeliverer({
      config: { ...f.config, delivery: f.config.delivery! },
      closeRecords: f.records,
      deliveries: SqliteDeliveryRecords.open(f.config.state.path),
      mailer: (() => {
        const m = createSmtpMailer(f.config.delivery!);
        mailers.push(m);
        return m;
      })(),
      logger: createLogger(),
      owner: 'a',
      now: () => f.clock.now(),
      onAttempt: (o) => outcomes.push(o),
    });
    d.planMonth('2026-10');
    expect(await d.send()).toEqual({ sent: 0, retried: 3, failed: 0 });
    const deliveries = SqliteDeliveryRecords.open(f.config.state.path);
    const pending = deliveries.list({ month: '2026-10' }).filter((x) => x.state === 'pending');
    expect(pending).toHaveLength(3);
    expect(
      pending.every((x) => /ECONNREFUSED/.test(x.lastError ?? '') && x.nextAttemptAtMs === f.clock.now() + 10_000),
    ).toBe(true);

    // Not due yet: nothing is tried.
    await f.clock.advanceTo(f.clock.now() + 5_000);
    expect(await d.send()).toEqual({ sent: 0, retried: 0, failed: 0 });
    // Still down at the second attempt: the wait doubles.
    await f.clock.advanceTo(f.clock.now() + 5_000);
    expect(await d.send()).toEqual({ sent: 0, retried: 3, failed: 0 });
    expect(
      deliveries
        .list({ month: '2026-10' })
        .filter((x) => x.state === 'pending')
        .every((x) => x.attempts === 2 && x.nextAttemptAtMs === f.clock.now() + 20_000),
    ).toBe(true);

    // Back, but answering 451 (try later) to every message: retried, the wait doubling again.
    await smtp.start();
    smtp.failForNow = true;
    await f.clock.advanceTo(f.clock.now() + 20_000);
    expect(await d.send()).toEqual({ sent: 0, retried: 2, failed: 1 });
    expect(
      deliveries
        .list({ month: '2026-10' })
        .filter((x) => x.state === 'pending')
        .map((x) => [x.attempts, x.nextAttemptAtMs - f.clock.now(), /451/.test(x.lastError ?? '')]),
    ).toEqual([
      [3, 40_000, true],
      [3, 40_000, true],
    ]);
    smtp.failForNow = false;
    await f.clock.advanceTo(f.clock.now() + 40_000);
    expect(await d.send()).toEqual({ sent: 2, retried: 0, failed: 0 });
    expect(smtp.received.map((m) => m.envelopeTo[0]).sort()).toEqual([
      'finance@oktawave.example',
      'rozliczenia@acme.example',
    ]);
    const calm = deliveries.list({ month: '2026-10', customerId: 'calm' })[0]!;
    expect(calm.state).toBe('failed');
    expect(calm.lastError).toMatch(/550/);
    await f.clock.advanceTo(f.clock.now() + H);
    expect(await d.send()).toEqual({ sent: 0, retried: 0, failed: 0 });
    expect(outcomes.filter((o) => o === 'sent')).toHaveLength(2);
    expect(deliveries.counts()).toMatchObject({ sent: 2, failed: 1, undeliverable: 1, pending: 0, sending: 0 });
    deliveries.close();
  });

  it('a sender lost mid-batch: what the server never accepted goes once; what it accepted before the record goes again with the same Message-ID', async () => {
    const { f, smtp } = await closedOctober();
    const real = createSmtpMailer(f.config.delivery!);
    mailers.push(real);
    // The first sender: its first message is recorded, its second is accepted by the server and then the process is
    // lost before the record (the promise never settles), so its third is never tried.
    let sends = 0;
    const lost: Mailer = {
      async send(mail) {
        sends++;
        const receipt = await real.send(mail);
        if (sends === 2) return new Promise(() => {});
        return receipt;
      },
      close() {},
    };
    const a = deliverer(f, 'sender-a', lost);
    a.planMonth('2026-10');
    void a.send();
    await expect.poll(() => smtp.received.length, { timeout: 5_000 }).toBe(2);
    const deliveries = SqliteDeliveryRecords.open(f.config.state.path);
    expect(deliveries.counts()).toMatchObject({ sent: 1, sending: 1, pending: 1 });

    // A second sender (the restarted daemon) does not take the message in flight while its lease lasts...
    const b = deliverer(f, 'sender-b');
    expect(await b.send()).toEqual({ sent: 1, retried: 0, failed: 0 });
    expect(smtp.received).toHaveLength(3);
    // ...and after it runs out, sends it again under the same Message-ID.
    await f.clock.advanceTo(f.clock.now() + deliveryLeaseMs(f.config.delivery!) + 1);
    expect(await b.send()).toEqual({ sent: 1, retried: 0, failed: 0 });
    const ids = smtp.received.map((m) => m.parsed.messageId!);
    expect(ids).toHaveLength(4);
    expect(new Set(ids).size).toBe(3);
    expect(ids[3]).toBe(ids[1]);
    expect(deliveries.counts()).toMatchObject({ sent: 3, sending: 0, pending: 0 });

    // A server that hangs before accepting: the message is not in its mailbox, and the next sender sends it once.
    smtp.hangOnData = true;
    b.resend('2026-10', 'acme');
    void a.send(); // hangs on the server's answer
    await new Promise((r) => setTimeout(r, 300));
    smtp.hangOnData = false;
    await f.clock.advanceTo(f.clock.now() + deliveryLeaseMs(f.config.delivery!) + 1);
    expect(await b.send()).toEqual({ sent: 1, retried: 0, failed: 0 });
    const acme = byRecipient(smtp, 'rozliczenia@acme.example');
    expect(acme.map((m) => m.parsed.messageId)).toEqual([ids[0], expect.stringMatching(/resend-1/)]);
    deliveries.close();
  });
});
