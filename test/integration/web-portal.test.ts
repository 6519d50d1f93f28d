// The whole way to the customer, with real parts: October imported from NDJSON, the daemon's month-end job closes it
// and e-mails it through a real SMTP server on loopback, and headless Chromium (Debian's, driven by puppeteer-core)
// opens the ops pages and the portal link from the e-mail. The figures on the pages are checked against
// `credits --json`; screenshots are written to test-results/screenshots (look at them).
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPortalLinkSigner } from '../../src/web/portal-links.js';
import { formatMoney, formatPercentText } from '../../src/reports/format.js';
import { runCli } from '../support/cli.js';
import { startCountingTarget, startDaemonProcess, type DaemonProcess } from '../support/daemon-process.js';
import { observationLines } from '../support/observations.js';
import { freePort } from '../support/ports.js';
import { startTestSmtp, type TestSmtp } from '../support/smtp.js';

const MIN = 60_000;
const at = (iso: string) => Date.parse(iso);
// From October's first local instant (Warsaw, UTC+2) so September has no observation and is not closed.
const OCT = { fromMs: at('2026-09-30T22:00:00Z'), toMs: at('2026-11-01T02:00:00Z') };
const TOKEN = 'ops-token-for-the-browser-test-0123';
const SECRET = 'portal-secret-for-the-browser-test-0123456789';
const SCREENSHOTS = fileURLToPath(new URL('../../test-results/screenshots/', import.meta.url));

interface CreditsJson {
  customers: {
    id: string;
    servers: { id: string; uptimePercent: string | null; creditAmount: string; creditPercent: string }[];
    creditAmount: string;
  }[];
}

let dir: string;
let smtp: TestSmtp;
let daemon: DaemonProcess;
let browser: Browser;
let target: Awaited<ReturnType<typeof startCountingTarget>>;
let credits: CreditsJson;
let base: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'uc-web-'));
  mkdirSync(SCREENSHOTS, { recursive: true });
  smtp = await startTestSmtp();
  target = await startCountingTarget();
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  const configPath = join(dir, 'config.yaml');
  writeFileSync(
    configPath,
    `storage: { kind: embedded, path: ${join(dir, 'data', 'store.db')} }
reports: { dir: ${join(dir, 'reports')} }
probing: { location: waw, interval: 1s, timeout: 800ms, staleAfter: 3m }
http: { listen: 127.0.0.1, port: ${port}, token: ${TOKEN}, publicUrl: "${base}" }
portal: { secretEnv: UC_WEB_PORTAL_SECRET }
delivery:
  smtp: { host: 127.0.0.1, port: ${smtp.port}, timeout: 2s }
  from: "Oktawave SLA <sla@oktawave.example>"
  financeEmail: finance@oktawave.example
customers:
  - id: acme
    name: "ACME Sp. z o.o."
    tier: platinum
    email: rozliczenia@acme.example
    servers: [{ id: oci-101, name: Sklep, checks: [{ kind: http, url: "${target.url}/s/oci-101" }] }]
  - id: calm
    name: Calm Ltd
    tier: gold
    language: en
    email: billing@calm.example
    servers: [{ id: oci-5, name: WWW, checks: [{ kind: http, url: "${target.url}/s/oci-5" }] }]
`,
  );
  const lines = [
    ...observationLines({
      server: 'oci-101',
      ...OCT,
      everyMs: MIN,
      down: [{ fromMs: at('2026-10-10T08:00:00Z'), toMs: at('2026-10-10T16:00:00Z') }],
    }),
    ...observationLines({
      server: 'oci-5',
      ...OCT,
      everyMs: MIN,
      down: [{ fromMs: at('2026-10-20T08:00:00Z'), toMs: at('2026-10-20T12:00:00Z') }],
    }),
  ];
  writeFileSync(join(dir, 'october.ndjson'), `${lines.join('\n')}\n`);
  const imported = await runCli(['import', join(dir, 'october.ndjson'), '-c', configPath]);
  expect(imported.code, imported.stderr).toBe(0);

  daemon = await startDaemonProcess(configPath, { UC_WEB_PORTAL_SECRET: SECRET });
  // The month-end job closes October (ended, observed) and the delivery job mails it: two customers and finance.
  const deadline = Date.now() + 60_000;
  while (smtp.received.length < 3) {
    if (Date.now() > deadline)
      throw new Error(
        `3 e-mails expected, ${smtp.received.length} arrived; daemon log:\n${daemon.logs.map((l) => l.msg).join('\n')}`,
      );
    await new Promise((r) => setTimeout(r, 250));
  }
  const json = await runCli(['credits', '--month', '2026-10', '--json', '-c', configPath]);
  credits = JSON.parse(json.stdout) as CreditsJson;
  browser = await puppeteer.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--lang=en-US'],
  });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await daemon?.stop();
  await smtp?.stop();
  await target?.close();
  rmSync(dir, { recursive: true, force: true });
});

const shot = async (page: Page, name: string) => {
  const png = await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
  // A rendered page, not an empty canvas: a blank PNG of this size compresses to a few hundred bytes.
  expect(png.byteLength).toBeGreaterThan(8_000);
};

const cells = (page: Page, selector: string) =>
  page.$$eval(selector, (rows) =>
    rows.map((row) => [
      row.getAttribute('data-server'),
      ...[...row.querySelectorAll('[data-field]')].map((c) => `${c.getAttribute('data-field')}=${c.textContent}`),
    ]),
  );

/** A JSON percentage ("300.00", "10.5") as the pages print it: whole where it is whole ("300 %", pl "10,5 %"). */
const percentText = (decimal: string, language: 'pl' | 'en') => {
  const [whole, fraction = ''] = decimal.split('.');
  const kept = fraction.replace(/0+$/, '');
  return `${whole}${kept ? (language === 'pl' ? ',' : '.') + kept : ''} %`;
};

/** A JSON amount ("1800.00") in grosze, without floating point. */
const grosze = (amount: string) => Number(amount.replace('.', ''));

const portalLinkOf = (address: string) => {
  const mail = smtp.received.find((m) => m.envelopeTo.includes(address))!;
  return /http:\/\/127\.0\.0\.1:\d+\/portal\/open\?\S+/.exec(mail.parsed.text!)![0];
};

describe('the ops pages and the customer portal in a real browser', () => {
  it('ops: log in with the token, see the fleet, a closed month with the same figures as credits --json, a server timeline', async () => {
    const page = await browser.newPage();
    await page.setViewport({ width: 1280, height: 800 });
    await page.goto(`${base}/ui/`);
    expect(new URL(page.url()).pathname).toBe('/ui/login');
    await page.type('input[name=token]', 'wrong-token-wrong-token');
    await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
    expect(await page.content()).toContain('Wrong token.');
    await page.type('input[name=token]', TOKEN);
    await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
    expect(new URL(page.url()).pathname).toBe('/ui/');
    const cookie = (await page.cookies()).find((c) => c.name === 'uc_ops')!;
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/ui' });
    const reloaded = async <T>(read: () => Promise<T>) => {
      await page.reload();
      return read();
    };
    await expect
      .poll(() => reloaded(async () => (await cells(page, '#servers tbody tr')).length), { timeout: 20_000 })
      .toBe(2);
    await expect
      .poll(() => reloaded(() => page.$$eval('td[data-field=state]', (c) => c.map((x) => x.textContent))), {
        timeout: 20_000,
      })
      .toEqual(['up', 'up']);
    await shot(page, 'ops-overview');

    await page.goto(`${base}/ui/months/2026-10`);
    const expected = credits.customers.flatMap((c) =>
      c.servers.map((s) => [
        s.id,
        `uptime=${formatPercentText(s.uptimePercent!, 'en')}`,
        `credit-percent=${percentText(s.creditPercent, 'en')}`,
        `amount=${formatMoney(grosze(s.creditAmount), 'en')}`,
      ]),
    );
    const shown = (await cells(page, '#figures tbody tr')).map(([id, uptime, , percent, amount]) => [
      id,
      uptime,
      percent,
      amount,
    ]);
    expect(shown).toEqual(expected);
    // Exact values, not only equal to the JSON: 8 h of 745 h on Platinum, 4 h on Gold.
    expect(shown).toEqual([
      ['oci-101', 'uptime=98.9261 %', 'credit-percent=300 %', 'amount=PLN 1,800.00'],
      ['oci-5', 'uptime=99.4630 %', 'credit-percent=10 %', 'amount=PLN 30.00'],
    ]);
    await shot(page, 'ops-month');

    await page.goto(`${base}/ui/months`);
    const links = await page.$$eval('#months a', (as) => as.map((a) => a.getAttribute('href')));
    expect(links).toEqual(
      expect.arrayContaining([
        '/ui/files/2026-10/acme.pdf',
        '/ui/files/2026-10/ledger.csv',
        '/ui/files/2026-10/manifest.json',
      ]),
    );
    const ledger = await page.evaluate(async () => (await fetch('/ui/files/2026-10/ledger.csv')).text());
    expect(ledger).toContain('UC-2026-10-acme-oci-101');
    // Nothing outside the month's folder of the reports.
    for (const path of [
      '/ui/files/2026-10/..%2f..%2fconfig.yaml',
      '/ui/files/2026-10/%2e%2e/%2e%2e/config.yaml',
      '/ui/files/2026-10/../journal.csv',
      '/ui/files/..%2f..%2fconfig.yaml/x',
    ]) {
      expect([path, await page.evaluate(async (p) => (await fetch(p)).status, path)]).toEqual([path, 404]);
    }

    await page.goto(`${base}/ui/servers/oci-101?month=2026-10`);
    const kinds = await page.$$eval('svg rect', (rects) => rects.map((r) => r.getAttribute('data-kind')));
    // The SLA row and the one location (waw): each has the 8 h outage.
    expect(kinds.filter((k) => k === 'down')).toHaveLength(2);
    expect(await page.$$eval('#outages tbody tr td', (td) => td.map((t) => t.textContent))).toEqual([
      '2026-10-10 10:00:00 +02:00',
      '2026-10-10 18:00:00 +02:00',
      '8:00:00',
    ]);
    await shot(page, 'ops-server');
    await page.close();
  });

  it("portal: the link from the e-mail opens the customer's own page in Polish, with the same figures and only its own PDFs", async () => {
    const page = await browser.newPage();
    await page.setViewport({ width: 1280, height: 800 });
    await page.goto(portalLinkOf('rozliczenia@acme.example'));
    expect(new URL(page.url()).pathname).toBe('/portal/');
    expect(await page.$eval('html', (h) => h.getAttribute('lang'))).toBe('pl');
    expect((await cells(page, '#servers tbody tr')).map((r) => r[0])).toEqual(['oci-101']);
    expect(await page.$$eval('#reports a', (as) => as.map((a) => a.getAttribute('href')))).toEqual([
      '/portal/months/2026-10',
      '/portal/reports/2026-10/1',
    ]);
    await shot(page, 'portal-overview');

    await page.goto(`${base}/portal/months/2026-10`);
    const acme = credits.customers.find((c) => c.id === 'acme')!;
    expect(await cells(page, '#figures tbody tr')).toEqual(
      acme.servers.map((s) => [
        s.id,
        `uptime=${formatPercentText(s.uptimePercent!, 'pl')}`,
        expect.stringMatching(/^downtime=/),
        `credit-percent=${percentText(s.creditPercent, 'pl')}`,
        `amount=${formatMoney(grosze(s.creditAmount), 'pl')}`,
      ]),
    );
    expect(await page.$eval('[data-field=total]', (t) => t.textContent)).toBe('1 800,00 zł');
    await shot(page, 'portal-month');

    const pdf = await page.evaluate(async () => {
      const r = await fetch('/portal/reports/2026-10/1');
      return {
        status: r.status,
        type: r.headers.get('content-type'),
        head: new TextDecoder().decode((await r.arrayBuffer()).slice(0, 5)),
      };
    });
    expect(pdf).toEqual({ status: 200, type: 'application/pdf', head: '%PDF-' });
    await page.close();
  });

  it("with one customer's link, every route refuses the other customer's servers, figures and files, and the ops pages", async () => {
    const context = await browser.createBrowserContext();
    const page = await context.newPage();
    // Followed from another site (a webmail page): the session cookie still comes along on the redirect.
    await page.goto(`data:text/html,<a id="open" href="${encodeURI(portalLinkOf('billing@calm.example'))}">open</a>`);
    await Promise.all([page.waitForNavigation(), page.click('#open')]);
    expect(new URL(page.url()).pathname).toBe('/portal/');
    expect((await cells(page, '#servers tbody tr')).map((r) => r[0])).toEqual(['oci-5']);
    const status = (path: string) => page.evaluate(async (p) => (await fetch(p, { redirect: 'manual' })).status, path);
    const text = (path: string) => page.evaluate(async (p) => (await fetch(p)).text(), path);
    expect(await text('/portal/')).not.toContain('oci-101');
    expect(await status('/portal/servers/oci-101')).toBe(404);
    expect(await status('/portal/servers/oci-101?month=2026-10')).toBe(404);
    expect(await status('/portal/servers/oci-5')).toBe(200);
    const month = await text('/portal/months/2026-10');
    expect(month).toContain('oci-5');
    expect(month).not.toContain('oci-101');
    expect(month).not.toContain('ACME');
    // Its report route serves calm's own PDF; there is no route to name another customer's.
    expect(await status('/portal/reports/2026-10/1')).toBe(200);
    expect(await status('/portal/reports/2026-10/2')).toBe(404);
    for (const path of [
      '/ui/',
      '/ui/months',
      '/ui/months/2026-10',
      '/ui/servers/oci-101',
      '/ui/files/2026-10/ledger.csv',
      '/ui/files/2026-10/acme.pdf',
      '/ui/files/2026-10/manifest.json',
    ]) {
      expect([path, await status(path)]).toEqual([path, 0 /* an opaque redirect to the login */]);
    }
    expect(await status('/api/v1/servers')).toBe(401);
    await context.close();
  });

  it('an expired, tampered or foreign-signed link gets 403 and no session', async () => {
    const context = await browser.createBrowserContext();
    const page = await context.newPage();
    const good = new URL(portalLinkOf('rozliczenia@acme.example'));
    const tampered = new URL(good);
    tampered.searchParams.set('customer', 'calm');
    const longer = new URL(good);
    longer.searchParams.set('expires', String(Number(good.searchParams.get('expires')) + 86_400));
    const expired = createPortalLinkSigner(SECRET, base).link('acme', Date.now() - 1_000);
    const foreign = createPortalLinkSigner('another-secret-another-secret-0123456789', base).link(
      'acme',
      Date.now() + 86_400_000,
    );
    for (const link of [tampered.toString(), longer.toString(), expired, foreign]) {
      const response = await page.goto(link);
      expect([link, response!.status()]).toEqual([link, 403]);
      expect(await page.content()).toContain('Link jest nieprawidłowy lub wygasł');
    }
    expect(await context.cookies()).toEqual([]);
    expect((await page.goto(`${base}/portal/`))!.status()).toBe(403);
    await shot(page, 'portal-refused');
    await context.close();
  });

  it('the daemon that closed the month sent each customer exactly one e-mail with its PDF, and finance one with the ledger', async () => {
    const recipients = smtp.received.map((m) => m.envelopeTo.join(',')).sort();
    expect(recipients).toEqual(['billing@calm.example', 'finance@oktawave.example', 'rozliczenia@acme.example']);
    const monthDir = join(dir, 'reports', '2026-10');
    for (const [address, customer] of [
      ['rozliczenia@acme.example', 'acme'],
      ['billing@calm.example', 'calm'],
    ] as const) {
      const [pdf] = smtp.received.find((m) => m.envelopeTo.includes(address))!.parsed.attachments;
      expect(pdf!.content.equals(readFileSync(join(monthDir, `${customer}.pdf`)))).toBe(true);
    }
    const finance = smtp.received.find((m) => m.envelopeTo.includes('finance@oktawave.example'))!;
    expect(finance.parsed.attachments[0]!.content.equals(readFileSync(join(monthDir, 'ledger.csv')))).toBe(true);
    // Later passes of the delivery job (every 15 s) sent nothing more; the records say every one was sent.
    const listed = await runCli(['deliver', '--month', '2026-10', '--list', '--json', '-c', join(dir, 'config.yaml')]);
    expect(
      (JSON.parse(listed.stdout) as { deliveries: { recipient: string; state: string }[] }).deliveries.map((d) => [
        d.recipient,
        d.state,
      ]),
    ).toEqual([
      ['customer:acme', 'sent'],
      ['customer:calm', 'sent'],
      ['finance', 'sent'],
    ]);
    expect(await daemon.metric('uptime_credits_deliveries{state="sent"}')).toBe(3);
    expect(await daemon.metric('uptime_credits_delivery_attempts_total{outcome="sent"}')).toBe(3);
  });

  it("renders the customer's e-mail (for the README) with its summary table", async () => {
    const mail = smtp.received.find((m) => m.envelopeTo.includes('rozliczenia@acme.example'))!;
    const page = await browser.newPage();
    await page.setViewport({ width: 800, height: 600 });
    await page.setContent(
      `<div style="font:13px Arial;padding:8px;border-bottom:1px solid #ccc">From: ${mail.parsed.from!.text.replace(/</g, '&lt;')}<br>Subject: ${mail.parsed.subject}<br>Attachment: ${mail.parsed.attachments[0]!.filename}</div>${mail.parsed.html as string}`,
    );
    expect(await page.$$eval('tbody tr', (rows) => rows.length)).toBe(1);
    await shot(page, 'email-acme');
    await page.close();
  });
});
