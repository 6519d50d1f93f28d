// Maps the errors sockets, TLS, DNS and undici throw to the closed set of probe failure classes.
import type { ProbeErrorClass } from './probe.js';

const TIMEOUT_CODES = new Set([
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'ETIMEDOUT',
  'ETIMEOUT',
  'ABORT_ERR',
]);
/** Errors of this host, not of the target: no descriptors, ports, buffers or memory left. */
const LOCAL_CODES = new Set(['EMFILE', 'ENFILE', 'EADDRNOTAVAIL', 'ENOBUFS', 'ENOMEM']);
const DNS_CODES = new Set(['ENOTFOUND', 'EAI_AGAIN', 'EAI_FAIL', 'ENODATA', 'ESERVFAIL', 'ENOTIMP', 'EREFUSED']);

/** The failure class of an error thrown while probing; `aborted` says the probe's own deadline fired. */
export function classifyProbeError(error: unknown, aborted: boolean): ProbeErrorClass {
  if (aborted) return 'timeout';
  const err = error as { code?: string; name?: string; cause?: unknown } | undefined;
  const code = err?.code ?? (err?.cause as { code?: string } | undefined)?.code ?? '';
  if (err?.name === 'AbortError' || err?.name === 'TimeoutError' || TIMEOUT_CODES.has(code)) return 'timeout';
  if (LOCAL_CODES.has(code)) return 'local';
  if (code === 'ECONNREFUSED') return 'refused';
  if (DNS_CODES.has(code)) return 'dns';
  if (/CERT|SSL|TLS|SELF_SIGNED|UNABLE_TO_VERIFY|ALTNAME|EPROTO/i.test(code)) return 'tls';
  return 'network';
}

/** A short human detail for logs and the `check` table. */
export function errorDetail(error: unknown): string {
  const err = error as { code?: string; message?: string } | undefined;
  const message = err?.message ?? String(error);
  return (err?.code ? `${err.code}: ${message}` : message).slice(0, 200);
}
