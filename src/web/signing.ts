// Signed links and cookies: an HMAC-SHA256 over a purpose and a payload, so a value signed for one purpose (a
// customer's portal link) never passes as another (an ops session), and nothing signed can be altered unseen.
import { createHmac, timingSafeEqual } from 'node:crypto';

/** The signature of `payload` for `purpose` under `secret`, base64url. */
export function sign(secret: string, purpose: string, payload: string): string {
  return createHmac('sha256', secret).update(`${purpose}\u0000${payload}`).digest('base64url');
}

/** Whether `signature` is `payload`'s signature for `purpose`; compared in constant time. */
export function signatureMatches(secret: string, purpose: string, payload: string, signature: string): boolean {
  const expected = Buffer.from(sign(secret, purpose, payload));
  const given = Buffer.from(signature);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** `payload.signature`: a value to put in a cookie. */
export const signedValue = (secret: string, purpose: string, payload: string) =>
  `${payload}.${sign(secret, purpose, payload)}`;

/** The payload of a value made by signedValue, or undefined when it was not signed so. */
export function unsignValue(secret: string, purpose: string, value: string): string | undefined {
  const dot = value.lastIndexOf('.');
  if (dot <= 0) return undefined;
  const payload = value.slice(0, dot);
  return signatureMatches(secret, purpose, payload, value.slice(dot + 1)) ? payload : undefined;
}
