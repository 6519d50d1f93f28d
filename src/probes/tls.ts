// Certificate expiry probe: a TLS handshake, judged by the earliest notAfter in the peer's chain.
import type { TLSSocket } from 'node:tls';
import type { TlsCheckConfig } from '../config/schema.js';
import type { Probe } from './probe.js';
import { connectProbe, earliestCertExpiryMs } from './tcp.js';

const DAY_MS = 86_400_000;

/** Certificate expiry probe: down when the earliest certificate in the chain expires in fewer than minDaysLeft days. */
export const probeTls: Probe<TlsCheckConfig> = (check, context) =>
  connectProbe(
    { host: check.host, port: check.port, tls: true, tlsVerify: check.tlsVerify, servername: check.servername },
    context,
    (socket) => {
      const certNotAfterMs = earliestCertExpiryMs(socket as TLSSocket);
      if (certNotAfterMs === undefined) return { up: false, error: 'tls', detail: 'no peer certificate' };
      const daysLeft = Math.floor((certNotAfterMs - Date.now()) / DAY_MS);
      if (certNotAfterMs <= Date.now() || daysLeft < check.minDaysLeft) {
        return { up: false, error: 'cert_expiry', detail: `certificate expires in ${daysLeft} days`, certNotAfterMs };
      }
      return { up: true, certNotAfterMs };
    },
  );
