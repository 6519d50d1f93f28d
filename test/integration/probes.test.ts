// Probes against real loopback listeners: up, down, slow and hostile.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkSchema, type CheckConfig } from '../../src/config/schema.js';
import { closeHttpDispatchers, runCheck } from '../../src/probes/index.js';
import {
  closedPort,
  startDnsTarget,
  startHttpsTarget,
  startHttpTarget,
  startSilentTcpTarget,
  type Target,
} from '../support/targets.js';

const check = (raw: Record<string, unknown>): CheckConfig => checkSchema.parse(raw);

describe('probes against loopback targets', () => {
  let http: Target;
  let https: Target;
  let expiring: Target;
  let silent: Target;
  let dns: Target;
  let silentDns: Target;
  let refusedPort: number;
  beforeAll(async () => {
    [http, https, expiring, silent, dns, silentDns, refusedPort] = await Promise.all([
      startHttpTarget(),
      startHttpsTarget(30),
      startHttpsTarget(3),
      startSilentTcpTarget(),
      startDnsTarget({ 'shop.example': ['192.0.2.10', '192.0.2.11'] }),
      startDnsTarget({}, { silent: true }),
      closedPort(),
    ]);
  });
  afterAll(async () => {
    await closeHttpDispatchers();
    await Promise.all([http, https, expiring, silent, dns, silentDns].map((t) => t.close()));
  });

  it('http: a 2xx answer is up, with its status', async () => {
    expect(await runCheck(check({ kind: 'http', url: `${http.url}/ok` }), 2_000)).toMatchObject({
      up: true,
      httpStatus: 200,
    });
  });
  it('http: an unexpected status is down with class status', async () => {
    expect(await runCheck(check({ kind: 'http', url: `${http.url}/error` }), 2_000)).toMatchObject({
      up: false,
      error: 'status',
      httpStatus: 500,
    });
    expect(await runCheck(check({ kind: 'http', url: `${http.url}/error`, expectStatus: [500] }), 2_000)).toMatchObject(
      { up: true },
    );
  });
  it('http: body substring and regex', async () => {
    expect(await runCheck(check({ kind: 'http', url: `${http.url}/ok`, bodyContains: 'ok' }), 2_000)).toMatchObject({
      up: true,
    });
    expect(
      await runCheck(check({ kind: 'http', url: `${http.url}/ok`, bodyContains: 'degraded' }), 2_000),
    ).toMatchObject({ up: false, error: 'body' });
    expect(
      await runCheck(check({ kind: 'http', url: `${http.url}/ok`, bodyRegex: '^all .* ok$' }), 2_000),
    ).toMatchObject({ up: true });
  });
  it('http: redirects are judged as answered unless following is allowed', async () => {
    expect(await runCheck(check({ kind: 'http', url: `${http.url}/redirect` }), 2_000)).toMatchObject({
      up: false,
      httpStatus: 302,
    });
    expect(
      await runCheck(check({ kind: 'http', url: `${http.url}/redirect`, maxRedirects: 2, bodyContains: 'ok' }), 2_000),
    ).toMatchObject({ up: true, httpStatus: 200 });
  });
  it('http: a refused connection is down with class refused', async () => {
    expect(await runCheck(check({ kind: 'http', url: `http://127.0.0.1:${refusedPort}/` }), 2_000)).toMatchObject({
      up: false,
      error: 'refused',
    });
  });
  it('http: a target that never answers is ended by the timeout', async () => {
    const result = await runCheck(check({ kind: 'http', url: `${http.url}/slow-headers` }), 300);
    expect(result).toMatchObject({ up: false, error: 'timeout' });
  });
  it('http: an endless body is read only up to the cap', async () => {
    const result = await runCheck(
      check({ kind: 'http', url: `${http.url}/endless`, bodyContains: 'never there', maxBodyBytes: 100_000 }),
      5_000,
    );
    expect(result).toMatchObject({ up: false, error: 'body', httpStatus: 200 });
  });
  it('http: an endless body without a body check is cut at the cap and judged by its status', async () => {
    expect(
      await runCheck(check({ kind: 'http', url: `${http.url}/endless`, maxBodyBytes: 100_000 }), 5_000),
    ).toMatchObject({ up: true, httpStatus: 200 });
  });
  // A hang would show as this test's own timeout (5 s), far from a probe's 300 ms deadline.
  it('http: a body trickling past the deadline is a timeout, with or without a body check', {
    timeout: 5_000,
  }, async () => {
    expect(await runCheck(check({ kind: 'http', url: `${http.url}/trickle` }), 300)).toMatchObject({
      up: false,
      error: 'timeout',
      httpStatus: 200,
    });
    expect(
      await runCheck(check({ kind: 'http', url: `${http.url}/trickle`, bodyContains: 'never there' }), 300),
    ).toMatchObject({ up: false, error: 'timeout', httpStatus: 200 });
  });
  it('a listener that accepts and never speaks ends every kind by its deadline', { timeout: 5_000 }, async () => {
    // undici's own connect timeout (10 s by default) would outlast the test: the probe's deadline must win.
    expect(await runCheck(check({ kind: 'http', url: `https://127.0.0.1:${silent.port}/` }), 300)).toMatchObject({
      up: false,
      error: 'timeout',
    });
    expect(await runCheck(check({ kind: 'http', url: `http://127.0.0.1:${silent.port}/` }), 300)).toMatchObject({
      up: false,
      error: 'timeout',
    });
    expect(await runCheck(check({ kind: 'tcp', host: '127.0.0.1', port: silent.port, tls: true }), 300)).toMatchObject({
      up: false,
      error: 'timeout',
    });
    expect(await runCheck(check({ kind: 'tls', host: '127.0.0.1', port: silent.port }), 300)).toMatchObject({
      up: false,
      error: 'timeout',
    });
    expect(await runCheck(check({ kind: 'tcp', host: '127.0.0.1', port: silent.port }), 300)).toMatchObject({
      up: true,
    });
  });
  it('https: a self-signed certificate fails verification, and passes with tlsVerify off', async () => {
    expect(await runCheck(check({ kind: 'http', url: `${https.url}/ok` }), 2_000)).toMatchObject({
      up: false,
      error: 'tls',
    });
    expect(await runCheck(check({ kind: 'http', url: `${https.url}/ok`, tlsVerify: false }), 2_000)).toMatchObject({
      up: true,
    });
  });
  it('tcp: connect, refused, and with a TLS handshake reports the certificate expiry', async () => {
    expect(await runCheck(check({ kind: 'tcp', host: '127.0.0.1', port: http.port }), 2_000)).toMatchObject({
      up: true,
    });
    expect(await runCheck(check({ kind: 'tcp', host: '127.0.0.1', port: refusedPort }), 2_000)).toMatchObject({
      up: false,
      error: 'refused',
    });
    const tls = await runCheck(
      check({ kind: 'tcp', host: '127.0.0.1', port: https.port, tls: true, tlsVerify: false }),
      2_000,
    );
    expect(tls.up).toBe(true);
    const daysLeft = (tls.certNotAfterMs! - Date.now()) / 86_400_000;
    expect(daysLeft).toBeGreaterThan(29);
    expect(daysLeft).toBeLessThanOrEqual(30);
  });
  it('tls: down when the certificate expires sooner than minDaysLeft', async () => {
    expect(
      await runCheck(
        check({ kind: 'tls', host: '127.0.0.1', port: https.port, tlsVerify: false, minDaysLeft: 7 }),
        2_000,
      ),
    ).toMatchObject({ up: true });
    expect(
      await runCheck(
        check({ kind: 'tls', host: '127.0.0.1', port: expiring.port, tlsVerify: false, minDaysLeft: 7 }),
        2_000,
      ),
    ).toMatchObject({ up: false, error: 'cert_expiry' });
    expect(await runCheck(check({ kind: 'tls', host: '127.0.0.1', port: https.port }), 2_000)).toMatchObject({
      up: false,
      error: 'tls',
    });
  });
  it('dns: resolves through the system resolver and checks the expected address', async () => {
    expect(
      await runCheck(check({ kind: 'dns', query: 'localhost', expectAddresses: ['127.0.0.1'] }), 2_000),
    ).toMatchObject({ up: true });
    expect(
      await runCheck(check({ kind: 'dns', query: 'localhost', expectAddresses: ['192.0.2.1'] }), 2_000),
    ).toMatchObject({ up: false, error: 'address' });
    expect(await runCheck(check({ kind: 'dns', query: 'no-such-host.invalid' }), 2_000)).toMatchObject({
      up: false,
      error: 'dns',
    });
  });
  it('dns: asks the configured resolver directly, and a silent resolver is a timeout', { timeout: 5_000 }, async () => {
    const resolver = `127.0.0.1:${dns.port}`;
    expect(await runCheck(check({ kind: 'dns', query: 'shop.example', resolver }), 2_000)).toMatchObject({ up: true });
    expect(
      await runCheck(check({ kind: 'dns', query: 'shop.example', resolver, expectAddresses: ['192.0.2.11'] }), 2_000),
    ).toMatchObject({ up: true });
    expect(
      await runCheck(check({ kind: 'dns', query: 'shop.example', resolver, expectAddresses: ['192.0.2.99'] }), 2_000),
    ).toMatchObject({ up: false, error: 'address', detail: 'answered 192.0.2.10, 192.0.2.11' });
    expect(await runCheck(check({ kind: 'dns', query: 'gone.example', resolver }), 2_000)).toMatchObject({
      up: false,
      error: 'dns',
    });
    expect(
      await runCheck(check({ kind: 'dns', query: 'shop.example', resolver: `127.0.0.1:${silentDns.port}` }), 300),
    ).toMatchObject({ up: false, error: 'timeout' });
  });
});
