// TCP connect probe, optionally completing a TLS handshake (and reporting the certificate's expiry); the
// connection step the tls probe shares.
import { isIP, connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import type { TcpCheckConfig } from '../config/schema.js';
import { classifyProbeError, errorDetail } from './errors.js';
import type { Probe, ProbeContext, ProbeResult } from './probe.js';

/** Earliest notAfter in the peer's certificate chain, epoch ms. */
export function earliestCertExpiryMs(socket: TLSSocket): number | undefined {
  let cert = socket.getPeerCertificate(true) as
    | (ReturnType<TLSSocket['getPeerCertificate']> & { issuerCertificate?: unknown })
    | undefined;
  let earliest: number | undefined;
  const seen = new Set<unknown>();
  while (cert?.valid_to && !seen.has(cert)) {
    seen.add(cert);
    const notAfter = Date.parse(cert.valid_to);
    if (!Number.isNaN(notAfter) && (earliest === undefined || notAfter < earliest)) earliest = notAfter;
    cert = cert.issuerCertificate as typeof cert;
  }
  return earliest;
}

/** Connects (plain or TLS) and resolves with the open socket's result; the socket is always destroyed. */
export function connectProbe(
  target: { host: string; port: number; tls: boolean; tlsVerify: boolean; servername?: string },
  context: ProbeContext,
  onConnected: (socket: Socket | TLSSocket) => Omit<ProbeResult, 'latencyMs'>,
): Promise<ProbeResult> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  return new Promise((resolve) => {
    let settled = false;
    const finish = (result: Omit<ProbeResult, 'latencyMs'>) => {
      if (settled) return;
      settled = true;
      context.signal.removeEventListener('abort', onAbort);
      socket.destroy();
      resolve({ ...result, latencyMs: elapsed() });
    };
    const onAbort = () => finish({ up: false, error: 'timeout', detail: `no answer within ${context.timeoutMs} ms` });
    const socket: Socket = target.tls
      ? tlsConnect({
          host: target.host,
          port: target.port,
          servername: target.servername ?? (isIP(target.host) === 0 ? target.host : undefined),
          rejectUnauthorized: target.tlsVerify,
        })
      : netConnect({ host: target.host, port: target.port });
    socket.once(target.tls ? 'secureConnect' : 'connect', () => finish(onConnected(socket)));
    socket.once('error', (error) =>
      finish({ up: false, error: classifyProbeError(error, false), detail: errorDetail(error) }),
    );
    if (context.signal.aborted) onAbort();
    else context.signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** The TCP probe: up when the connection (and the TLS handshake with `tls: true`) completes. */
export const probeTcp: Probe<TcpCheckConfig> = (check, context) =>
  connectProbe(
    { host: check.host, port: check.port, tls: check.tls, tlsVerify: check.tlsVerify, servername: check.servername },
    context,
    (socket) => {
      const certNotAfterMs = check.tls ? earliestCertExpiryMs(socket as TLSSocket) : undefined;
      return certNotAfterMs === undefined ? { up: true } : { up: true, certNotAfterMs };
    },
  );
