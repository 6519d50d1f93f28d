// A Transport for @influxdata/influxdb-client over undici: the library builds line protocol and batches, this
// sends them, mapping the path for InfluxDB 1.x and adding the right Authorization header.
import { HttpError, type CommunicationObserver, type SendOptions, type Transport } from '@influxdata/influxdb-client';
import { Agent, request } from 'undici';
import { writePathFor, type InfluxConnection } from './connection.js';

/** undici-backed Transport; only `send` (what WriteApi uses) is needed, the rest answer plainly. */
export class UndiciInfluxTransport implements Transport {
  readonly chunkCombiner = {
    concat: (a: Uint8Array, b: Uint8Array) => Buffer.concat([a, b]),
    toUtf8String: (chunk: Uint8Array, start: number, end: number) => Buffer.from(chunk).toString('utf8', start, end),
    copy: (chunk: Uint8Array, start: number, end: number) => Uint8Array.prototype.slice.call(chunk, start, end),
  };
  private readonly agent: Agent;

  constructor(private readonly connection: InfluxConnection) {
    this.agent = new Agent({ keepAliveTimeout: 10_000, connect: { timeout: connection.timeoutMs } });
  }

  send(path: string, body: string, options: SendOptions, callbacks?: Partial<CommunicationObserver<Uint8Array>>): void {
    void this.sendAsync(path, body, options, callbacks);
  }

  private async sendAsync(path: string, body: string, options: SendOptions, callbacks?: Partial<CommunicationObserver<Uint8Array>>): Promise<void> {
    try {
      const headers: Record<string, string> = { 'content-type': 'text/plain; charset=utf-8' };
      for (const [key, value] of Object.entries(options.headers ?? {})) if (typeof value === 'string') headers[key.toLowerCase()] = value;
      if (this.connection.authorization) headers.authorization = this.connection.authorization;
      const response = await request(`${this.connection.url}${writePathFor(this.connection, path)}`, {
        method: options.method === 'GET' ? 'GET' : 'POST',
        headers,
        body,
        dispatcher: this.agent,
        headersTimeout: this.connection.timeoutMs,
        bodyTimeout: this.connection.timeoutMs,
        signal: options.signal as AbortSignal | undefined,
      });
      const responseHeaders = Object.fromEntries(Object.entries(response.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : (v ?? '')]));
      callbacks?.responseStarted?.(responseHeaders, response.statusCode);
      const text = await response.body.text();
      if (response.statusCode >= 300) {
        const retryAfter = responseHeaders['retry-after'] || undefined;
        callbacks?.error?.(new HttpError(response.statusCode, String(response.statusCode), text, retryAfter, responseHeaders['content-type'], undefined, responseHeaders));
        return;
      }
      if (text.length > 0) callbacks?.next?.(Buffer.from(text));
      callbacks?.complete?.();
    } catch (error) {
      callbacks?.error?.(error as Error);
    }
  }

  async request(): Promise<never> {
    throw new Error('UndiciInfluxTransport only sends writes; reads use InfluxQL over /query');
  }

  iterate(): AsyncIterableIterator<Uint8Array> {
    throw new Error('UndiciInfluxTransport only sends writes; reads use InfluxQL over /query');
  }

  async close(): Promise<void> {
    await this.agent.close();
  }
}
