// Answers sent as bytes (a fleet's month of credits is megabytes of JSON) gzip-compressed for the clients that accept
// it: compressed once per answer, in libuv's thread pool rather than on this thread, and kept with the answer as its
// entity tag is (entity-tags.ts). Every further client of the same answer costs a tenth of the bytes to send.
import { negotiate } from '@fastify/accept-negotiator';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';

const gzipAsync = promisify(gzip);

/** The content codings an answer is sent in, the preferred first (what `Accept-Encoding: *` gets). */
const CODINGS = ['gzip', 'identity'] as const;
export type ContentCoding = (typeof CODINGS)[number];

/**
 * The coding to send an answer in for this Accept-Encoding header (RFC 9110, 12.5.3): gzip when the client accepts it
 * (`x-gzip` is its alias), else identity. No header, or one accepting nothing offered, gets identity: it is always
 * acceptable unless refused outright, and refusing a read over that would help nobody.
 */
export function contentCodingFor(acceptEncoding: string | undefined): ContentCoding {
  if (acceptEncoding === undefined) return 'identity';
  const header = acceptEncoding.toLowerCase().replace(/\bx-gzip\b/g, 'gzip');
  return negotiate(header, [...CODINGS]) ?? 'identity';
}

/** The gzip bytes of each answer, compressing or compressed, while the answer stands. */
const gzipped = new WeakMap<Uint8Array, Promise<Buffer>>();

/**
 * zlib's fastest level. A 2.9 MB credits document: 8.6 ms and 186 KB at level 1, 26.8 ms and 144 KB at level 6 (the
 * default). A running month's document changes with the data, every few seconds at fleet scale.
 */
const GZIP_LEVEL = 1;

/**
 * `bytes` gzip-compressed, compressed once however many clients ask. Like entityTagOf, kept per object: the bytes
 * must never change once compressed.
 */
export function gzipOf(bytes: Uint8Array): Promise<Buffer> {
  let compressed = gzipped.get(bytes);
  if (compressed === undefined) {
    compressed = gzipAsync(bytes, { level: GZIP_LEVEL });
    gzipped.set(bytes, compressed);
    // A failure is not kept: the next client asks for a new compression.
    compressed.catch(() => gzipped.delete(bytes));
  }
  return compressed;
}
