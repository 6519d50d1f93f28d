// How to reach an InfluxDB server of any generation: write path and query database per apiVersion, and auth.
import type { InfluxConfig } from '../../config/schema.js';

/** Where writes and InfluxQL reads go, resolved once from the config and the environment. */
export interface InfluxConnection {
  url: string;
  apiVersion: 1 | 2 | 3;
  /** The database InfluxQL queries name (1.x database, 2.x bucket through DBRP, 3.x database). */
  database: string;
  retentionPolicy?: string;
  /** The v2 bucket written to (2.x and 3.x); `db/rp` on 1.8+. */
  bucket: string;
  org: string;
  measurement: string;
  authorization?: string;
  timeoutMs: number;
}

/** Resolves credentials (token/password may come from environment variables). */
export function influxConnection(config: InfluxConfig, env: NodeJS.ProcessEnv = process.env): InfluxConnection {
  const token = config.token ?? (config.tokenEnv ? env[config.tokenEnv] : undefined);
  const password = config.password ?? (config.passwordEnv ? env[config.passwordEnv] : undefined);
  const bucket =
    config.bucket ?? (config.retentionPolicy ? `${config.database}/${config.retentionPolicy}` : config.database) ?? '';
  const [bucketDb, bucketRp] = bucket.split('/');
  let authorization: string | undefined;
  if (token) authorization = `Token ${token}`;
  else if (config.username !== undefined) {
    authorization =
      config.apiVersion === 1
        ? `Basic ${Buffer.from(`${config.username}:${password ?? ''}`).toString('base64')}`
        : `Token ${config.username}:${password ?? ''}`; // 1.8+ v2 compatibility API
  }
  return {
    url: config.url.replace(/\/+$/, ''),
    apiVersion: config.apiVersion,
    database: config.database ?? bucketDb ?? '',
    retentionPolicy: config.retentionPolicy ?? bucketRp,
    bucket,
    org: config.org,
    measurement: config.measurement,
    authorization,
    timeoutMs: config.timeout,
  };
}

/**
 * Where writes go: the v2 `/api/v2/write?org=&bucket=&precision=ms` for 2.x and 3.x (and 1.8+ configured as 2);
 * for InfluxDB 1.x, which before 1.8 has no /api/v2/write, the v1 `/write?db=&rp=&precision=ms`.
 */
export function writePath(connection: InfluxConnection): string {
  if (connection.apiVersion !== 1)
    return `/api/v2/write?${new URLSearchParams({ org: connection.org, bucket: connection.bucket, precision: 'ms' }).toString()}`;
  const params = new URLSearchParams({ db: connection.database, precision: 'ms' });
  if (connection.retentionPolicy) params.set('rp', connection.retentionPolicy);
  return `/write?${params.toString()}`;
}
