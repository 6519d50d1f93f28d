// The fault proxy against a real influxd 1.6.7: each mode as a client sees it, and refusals worded as influxd words them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { startFaultProxy, type FaultProxy } from '../support/fault-proxy.js';
import { startInfluxd, type Influxd } from '../support/influxd.js';

let influxd: Influxd;
let proxy: FaultProxy;
beforeAll(async () => {
  influxd = await startInfluxd();
  proxy = await startFaultProxy(influxd.url);
});
afterAll(async () => {
  await proxy?.close();
  await influxd?.stop();
});

/** POSTs line protocol to /write at `base` (the proxy unless told), ms precision. */
async function write(lines: string[], options: { base?: string; signal?: AbortSignal } = {}) {
  const response = await request(`${options.base ?? proxy.url}/write?db=${influxd.database}&precision=ms`, {
    method: 'POST',
    headers: { 'content-type': 'text/plain; charset=utf-8' },
    body: lines.join('\n'),
    signal: options.signal,
  });
  return { status: response.statusCode, headers: response.headers, body: await response.body.text() };
}

/** The `server` tags of the points stored in `measurement`, in time order. */
async function servers(measurement: string): Promise<unknown[]> {
  const series = await influxd.query(`SELECT "up", "server" FROM "${measurement}"`);
  return series[0]?.values.map((row) => row[2]) ?? [];
}

describe('fault proxy', () => {
  it('passes writes, queries and pings through', async () => {
    proxy.setMode({ kind: 'pass' });
    const forwarded = proxy.stats.linesForwarded;
    const answer = await write(['pass,server=a up=1i 1000', 'pass,server=b up=1i 2000']);
    expect(answer.status).toBe(204);
    expect(answer.headers['x-influxdb-version']).toMatch(/^1\.6/);
    expect(await servers('pass')).toEqual(['a', 'b']);
    expect(proxy.stats.linesForwarded - forwarded).toBe(2);

    // Faults are for writes only.
    proxy.setMode({ kind: 'status', status: 503 });
    expect((await request(`${proxy.url}/ping`)).statusCode).toBe(204);
    const query = await request(
      `${proxy.url}/query?db=${influxd.database}&q=${encodeURIComponent('SELECT count("up") FROM "pass"')}`,
    );
    expect(await query.body.json()).toMatchObject({ results: [{ series: [{ values: [[expect.anything(), 2]] }] }] });
  });

  it('answers a given status without forwarding', async () => {
    proxy.setMode({ kind: 'status', status: 503 });
    expect((await write(['status,server=a up=1i 1000'])).status).toBe(503);

    proxy.setMode({ kind: 'status', status: 429, headers: { 'retry-after': '7' } });
    const limited = await write(['status,server=b up=1i 1000']);
    expect([limited.status, limited.headers['retry-after']]).toEqual([429, '7']);

    proxy.setMode({ kind: 'status', status: 400 });
    expect(await write(['status,server=c up=1i 1000'])).toMatchObject({
      status: 400,
      body: '{"error":"bad request"}\n',
    });
    expect(await servers('status')).toEqual([]);
    expect(proxy.stats.byStatus.get(429)).toBe(1);
  });

  it('refuses lines exactly as influxd answers the same batch with those lines unparseable', async () => {
    // Lines influxd itself cannot parse, so its own answer to the batch is the reference for the proxy's wording.
    const batch = [
      'refuse,server=a up=1i 1000',
      'refuse,server=b up=1i abc',
      'refuse,server=c up=1i 3000',
      'refuse,server=d up=1i xyz',
    ];
    const direct = await write(batch, { base: influxd.url });
    await influxd.query('DROP MEASUREMENT "refuse"');

    proxy.setMode({ kind: 'refuse-lines', refuse: (line) => /(abc|xyz)$/.test(line) });
    const refused = proxy.stats.linesRefused;
    const proxied = await write(batch);
    expect(proxied.status).toBe(400);
    expect(proxied.body).toBe(
      `{"error":"partial write: unable to parse 'refuse,server=b up=1i abc': bad timestamp\\nunable to parse 'refuse,server=d up=1i xyz': bad timestamp dropped=0"}\n`,
    );
    expect([proxied.status, proxied.body, proxied.headers['x-influxdb-error']]).toEqual([
      direct.status,
      direct.body,
      direct.headers['x-influxdb-error'],
    ]);
    expect(await servers('refuse')).toEqual(['a', 'c']);
    expect(proxy.stats.linesRefused - refused).toBe(2);

    // Every line refused: influxd drops the "partial write" prefix and the dropped count.
    const allBad = batch.filter((line) => /(abc|xyz)$/.test(line));
    const proxiedAll = await write(allBad);
    expect([proxiedAll.status, proxiedAll.body]).toEqual([400, (await write(allBad, { base: influxd.url })).body]);

    proxy.setMode({ kind: 'refuse-lines', refuse: () => false });
    expect((await write(['refuse,server=e up=1i 5000'])).status).toBe(204);
    expect(await servers('refuse')).toEqual(['a', 'c', 'e']);
  });

  it('answers 413 over the body limit and passes writes under it', async () => {
    proxy.setMode({ kind: 'max-body', bytes: 50 });
    const big = await write(['big,server=a up=1i 1000', 'big,server=b up=1i 2000', 'big,server=c up=1i 3000']);
    expect([big.status, big.body]).toEqual([413, '{"error":"Request Entity Too Large"}\n']);
    expect((await write(['big,server=d up=1i 4000'])).status).toBe(204);
    expect(await servers('big')).toEqual(['d']);
  });

  it('hangs writes until the mode changes', async () => {
    proxy.setMode({ kind: 'hang' });
    const timedOut = write(['hang,server=a up=1i 1000'], { signal: AbortSignal.timeout(1_000) });
    const waiting = write(['hang,server=b up=1i 2000']);
    await expect(timedOut).rejects.toMatchObject({ name: 'TimeoutError' });
    expect(proxy.stats.hung).toBe(2);

    // Leaving hang destroys the sockets still waiting.
    proxy.setMode({ kind: 'pass' });
    await expect(waiting).rejects.toMatchObject({ code: 'UND_ERR_SOCKET' });
    expect((await write(['hang,server=c up=1i 3000'])).status).toBe(204);
    expect(await servers('hang')).toEqual(['c']);
  });

  it('cuts writes with a socket error', async () => {
    proxy.setMode({ kind: 'cut' });
    await expect(write(['cut,server=a up=1i 1000'])).rejects.toMatchObject({ code: 'UND_ERR_SOCKET' });
    expect(proxy.stats.cut).toBe(1);
    expect(await servers('cut')).toEqual([]);
    proxy.setMode({ kind: 'pass' });
  });

  it('closes promptly with a write hanging', async () => {
    const own = await startFaultProxy(influxd.url);
    own.setMode({ kind: 'hang' });
    const hanging = write(['close,server=a up=1i 1000'], { base: own.url });
    await expect.poll(() => own.stats.hung).toBe(1);
    const started = Date.now();
    await own.close();
    expect(Date.now() - started).toBeLessThan(1_000);
    await expect(hanging).rejects.toMatchObject({ code: 'UND_ERR_SOCKET' });
  });
});
