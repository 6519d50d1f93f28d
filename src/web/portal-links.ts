// A customer's way into the portal: a link signed with the portal secret over the customer id and an expiry, built
// from http.publicUrl. The e-mail of each issued month carries one; `uptime-credits portal-link` makes one by hand.
import { sign, signatureMatches } from './signing.js';

const PURPOSE = 'portal-link';
/** The portal secret is at least this long, like the API token. */
export const MIN_PORTAL_SECRET_LENGTH = 32;

export interface PortalLinkSigner {
  /** The link for `customerId` that works until `expiresAtMs` (rounded down to the second). */
  link(customerId: string, expiresAtMs: number): string;
  /** Whether a link's parts are genuine and still valid at `nowMs`. */
  check(
    parts: { customer?: string; expires?: string; sig?: string },
    nowMs: number,
  ): { ok: true; customerId: string; expiresAtMs: number } | { ok: false; reason: 'invalid' | 'expired' };
}

/** The portal secret from the environment variable the configuration names; throws with the variable's name. */
export function portalSecretFromEnv(secretEnv: string, env: NodeJS.ProcessEnv = process.env): string {
  const secret = env[secretEnv];
  if (secret === undefined || secret === '')
    throw new Error(
      `the portal secret is not set: put ${MIN_PORTAL_SECRET_LENGTH}+ random characters in the environment variable ${secretEnv} (portal.secretEnv)`,
    );
  if (secret.length < MIN_PORTAL_SECRET_LENGTH)
    throw new Error(
      `the portal secret in ${secretEnv} (portal.secretEnv) must be at least ${MIN_PORTAL_SECRET_LENGTH} characters`,
    );
  return secret;
}

export function createPortalLinkSigner(secret: string, publicUrl: string): PortalLinkSigner {
  const base = publicUrl.replace(/\/+$/, '');
  return {
    link(customerId, expiresAtMs) {
      const expires = String(Math.floor(expiresAtMs / 1000));
      const query = new URLSearchParams({
        customer: customerId,
        expires,
        sig: sign(secret, PURPOSE, `${customerId}\u0000${expires}`),
      });
      return `${base}/portal/open?${query.toString()}`;
    },
    check(parts, nowMs) {
      const { customer, expires, sig } = parts;
      if (!customer || !expires || !sig || !/^\d{1,12}$/.test(expires)) return { ok: false, reason: 'invalid' };
      if (!signatureMatches(secret, PURPOSE, `${customer}\u0000${expires}`, sig))
        return { ok: false, reason: 'invalid' };
      const expiresAtMs = Number(expires) * 1000;
      if (expiresAtMs <= nowMs) return { ok: false, reason: 'expired' };
      return { ok: true, customerId: customer, expiresAtMs };
    },
  };
}
