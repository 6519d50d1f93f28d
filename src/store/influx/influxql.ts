// InfluxQL over /query: the read API that InfluxDB 1.x, 2.x (through DBRP) and 3.x all serve.
import { Agent, request } from 'undici';
import { StoreUnavailableError } from '../store.js';
import type { InfluxConnection } from './connection.js';

export interface InfluxSeries {
  name: string;
  tags?: Record<string, string>;
  columns: string[];
  values: unknown[][];
}

/** Runs one InfluxQL statement (epoch=ms) and returns its series; throws with the server's message on error. */
export class InfluxQLClient {
  private readonly agent = new Agent({ keepAliveTimeout: 10_000 });
  constructor(private readonly connection: InfluxConnection) {}

  async query(statement: string, params: Record<string, string | number> = {}): Promise<InfluxSeries[]> {
    const form = new URLSearchParams({ db: this.connection.database, q: statement, epoch: 'ms' });
    if (this.connection.retentionPolicy) form.set('rp', this.connection.retentionPolicy);
    if (Object.keys(params).length > 0) form.set('params', JSON.stringify(params));
    const headers: Record<string, string> = {
      'content-type': 'application/x-www-form-urlencoded',
      accept: 'application/json',
    };
    if (this.connection.authorization) headers.authorization = this.connection.authorization;
    let status: number;
    let text: string;
    try {
      const response = await request(`${this.connection.url}/query`, {
        method: 'POST',
        headers,
        body: form.toString(),
        dispatcher: this.agent,
        headersTimeout: Math.max(this.connection.timeoutMs, 60_000),
        bodyTimeout: Math.max(this.connection.timeoutMs, 60_000),
      });
      status = response.statusCode;
      text = await response.body.text();
    } catch (error) {
      // Refused, reset, timed out: InfluxDB (or the way to it) is down, which a later attempt may find up.
      throw new StoreUnavailableError((error as Error).message, { cause: error });
    }
    if (status >= 300) {
      const message = `InfluxDB /query answered ${status}: ${text.slice(0, 300)}`;
      throw status >= 500 || status === 429 ? new StoreUnavailableError(message) : new Error(message);
    }
    const json = JSON.parse(text) as { results?: { error?: string; series?: InfluxSeries[] }[]; error?: string };
    const result = json.results?.[0];
    if (json.error || result?.error) throw new Error(`InfluxDB query failed: ${json.error ?? result?.error}`);
    return result?.series ?? [];
  }

  /** GET /ping: the server's version header, or throws when it does not answer. */
  async ping(): Promise<string> {
    const response = await request(`${this.connection.url}/ping`, {
      method: 'GET',
      dispatcher: this.agent,
      headersTimeout: this.connection.timeoutMs,
    });
    await response.body.dump();
    if (response.statusCode >= 300) throw new Error(`InfluxDB /ping answered ${response.statusCode}`);
    return String(response.headers['x-influxdb-version'] ?? 'unknown');
  }

  async close(): Promise<void> {
    await this.agent.close();
  }
}

/** Quotes a string for an InfluxQL literal ('...'). */
export function quoteString(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/** Quotes an identifier ("..."). */
export function quoteIdentifier(value: string): string {
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}
