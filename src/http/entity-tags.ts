// Entity tags for answers sent as bytes (RFC 9110, 8.8.3 and 13.1.2), so a client that polls a month's credits can
// ask "only if it changed" and be answered 304 instead of megabytes. The tag is the bytes' SHA-256, so the same
// document computed again (new data that left the month's credits as they were) keeps its tag.
import { createHash } from 'node:crypto';
import type { ContentCoding } from './compressed-answers.js';

/** Hashes already computed, by answer: the daemon's thread keeps an answer as one object while it stands. */
const tagsOf = new WeakMap<Uint8Array, string>();

/**
 * The strong entity tag of `bytes` sent in `coding`, quoted as the ETag header carries it. Kept per object, so the
 * bytes must never change once tagged: the credits answers are copies the worker sent, which nothing writes to or
 * transfers. Hashing a fleet's month (a few MB) takes a few ms, once per new answer (every 5 s at most). The gzip
 * representation is another representation, so it has its own tag (RFC 9110, 8.8.3): the hash with `-gzip`.
 */
export function entityTagOf(bytes: Uint8Array, coding: ContentCoding = 'identity'): string {
  let hash = tagsOf.get(bytes);
  if (hash === undefined) {
    hash = createHash('sha256').update(bytes).digest('base64url');
    tagsOf.set(bytes, hash);
  }
  return coding === 'identity' ? `"${hash}"` : `"${hash}-${coding}"`;
}

/** The quoted opaque string of each entity tag in a list (it may hold commas); a `W/` before it changes nothing here. */
const LISTED_TAG = /"[\x21\x23-\x7e\x80-\xff]*"/g;

/**
 * Whether an If-None-Match header names `tag`: `*`, or a list holding it by the weak comparison the header uses
 * (a `W/` mark is ignored). A header that names nothing, or is malformed, names no tag: the answer is sent.
 */
export function ifNoneMatchNames(header: string | undefined, tag: string): boolean {
  if (header === undefined) return false;
  if (header.trim() === '*') return true;
  for (const [opaque] of header.matchAll(LISTED_TAG)) if (opaque === tag) return true;
  return false;
}
