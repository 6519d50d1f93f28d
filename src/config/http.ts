// The http section resolved: the API tokens with their secrets from the environment, and the checks that keep the
// API and /metrics from being opened by mistake. Every problem is returned, to be listed with the file's others.
import { BlockList, isIP } from 'node:net';
import { API_SCOPES, MIN_API_TOKEN_LENGTH, type RawConfig } from './schema.js';
import type { AppConfig, ConfiguredApiToken } from './types.js';

/** The name of the one all-scopes token that http.token / http.tokenEnv are shorthand for. */
export const SHORTHAND_TOKEN_NAME = 'api';
export const DEFAULT_TOKEN_ENV = 'UPTIME_CREDITS_TOKEN';

const LOOPBACK = new BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');
LOOPBACK.addSubnet('::ffff:127.0.0.0', 104, 'ipv6');

/** Whether `listen` is only reachable from this machine (127.0.0.0/8, ::1, ::ffff:127.0.0.0/104, localhost). */
export function isLoopback(listen: string): boolean {
  if (listen === 'localhost') return true;
  const family = isIP(listen);
  return family !== 0 && LOOPBACK.check(listen, family === 4 ? 'ipv4' : 'ipv6');
}

/** The tokens: the named ones, else the shorthand's one (none when neither the file nor the environment has it). */
function resolveTokens(raw: RawConfig['http'], env: NodeJS.ProcessEnv, problems: string[]): ConfiguredApiToken[] {
  const tooShort = `must be at least ${MIN_API_TOKEN_LENGTH} characters (like http.token)`;
  if (raw.tokens === undefined) {
    if (raw.token !== undefined)
      return [{ name: SHORTHAND_TOKEN_NAME, scopes: API_SCOPES, source: 'http.token', secret: raw.token }];
    const variable = raw.tokenEnv ?? DEFAULT_TOKEN_ENV;
    const secret = env[variable] || undefined;
    if (secret === undefined) return [];
    if (secret.length < MIN_API_TOKEN_LENGTH)
      problems.push(`http.tokenEnv: the token in the environment variable ${variable} ${tooShort}`);
    return [{ name: SHORTHAND_TOKEN_NAME, scopes: API_SCOPES, source: variable, secret }];
  }
  if (raw.token !== undefined || raw.tokenEnv !== undefined) {
    problems.push(
      `http.${raw.token !== undefined ? 'token' : 'tokenEnv'}: give either http.tokens or the one-token shorthand (token, tokenEnv), not both`,
    );
  }
  const seen = new Map<string, number>();
  const holders = new Map<string, number>();
  return raw.tokens.map((entry, ti) => {
    const at = `http.tokens[${ti}]`;
    if (seen.has(entry.name)) problems.push(`${at}.name: "${entry.name}" is used by another token`);
    seen.set(entry.name, ti);
    const secret = env[entry.secretEnv] || undefined;
    if (secret !== undefined && secret.length < MIN_API_TOKEN_LENGTH)
      problems.push(`${at}.secretEnv: the token in the environment variable ${entry.secretEnv} ${tooShort}`);
    // Two entries with one secret would make the caller (the journal's "by") a matter of list order.
    const holder = secret === undefined ? undefined : holders.get(secret);
    if (holder !== undefined)
      problems.push(`${at}.secretEnv: holds the same token as http.tokens[${holder}]; give each token its own`);
    if (secret !== undefined && holder === undefined) holders.set(secret, ti);
    return {
      name: entry.name,
      scopes: [...new Set(entry.scopes)],
      source: entry.secretEnv,
      ...(secret === undefined ? {} : { secret }),
    };
  });
}

/** The http section for AppConfig; problems are pushed as `key.path: reason`. */
export function resolveHttp(raw: RawConfig['http'], env: NodeJS.ProcessEnv, problems: string[]): AppConfig['http'] {
  const tokens = resolveTokens(raw, env, problems);
  // /metrics names every customer and server with PLN amounts: beyond loopback it is open only when someone says so.
  if (!isLoopback(raw.listen) && !raw.protectMetrics && !raw.publicMetrics) {
    problems.push(
      `http.protectMetrics: /metrics names customers and PLN amounts; listening on ${raw.listen}, set protectMetrics: true (and give Prometheus a token with the metrics scope), or publicMetrics: true to serve it to anyone who reaches the port`,
    );
  }
  // Named tokens are all known from the file: protecting /metrics with none that may read it would lock it for good.
  if (raw.protectMetrics && raw.tokens !== undefined && !raw.tokens.some((t) => t.scopes.includes('metrics'))) {
    problems.push('http.protectMetrics: no token in http.tokens has the metrics scope, so nothing could read /metrics');
  }
  return {
    listen: raw.listen,
    port: raw.port,
    tokens,
    protectMetrics: raw.protectMetrics,
    publicMetrics: raw.publicMetrics,
    trustProxy: raw.trustProxy,
    monthComputationsPerSecond: raw.monthComputationsPerSecond,
    ...(raw.publicUrl === undefined ? {} : { publicUrl: raw.publicUrl }),
  };
}
