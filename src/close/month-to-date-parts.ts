// The month to date's answer (every server's availability and projected credit: megabytes at a fleet) crosses from
// the compute worker to the daemon's thread as one buffer of many parts, which the daemon's thread reads one part
// per turn of its event loop. As one message it was read in one piece: 50-90 ms at 10,000 servers, which every
// probe and scrape due meanwhile waited for.
import { setImmediate as nextTurn } from 'node:timers/promises';
import { DefaultDeserializer, DefaultSerializer } from 'node:v8';
import { slicesOf } from '../concurrency.js';
import type { MonthCredits, ServerAvailability, ServerCredit } from '../sla/types.js';

/** What monthToDateCredits answers (month-computations.ts). */
export interface MonthToDate {
  availability: Map<string, ServerAvailability>;
  credits: MonthCredits;
}

/** Servers per part: a part is read in a few ms. */
export const SERVERS_PER_PART = 500;

type Part =
  /** The credits with every customer's servers left out. */
  | { shell: MonthCredits }
  | { availability: [string, ServerAvailability][] }
  /** Servers' credits, each with the index of its customer in the shell. */
  | { servers: [number, ServerCredit][] };

/** The answer as parts in one buffer (V8's serialization, what postMessage uses): the shell first. */
export function monthToDateInParts(answer: MonthToDate): Uint8Array {
  const { credits } = answer;
  const parts: Part[] = [{ shell: { ...credits, customers: credits.customers.map((c) => ({ ...c, servers: [] })) } }];
  for (const entries of slicesOf([...answer.availability], SERVERS_PER_PART)) parts.push({ availability: entries });
  const servers = credits.customers.flatMap((c, index) => c.servers.map((s) => [index, s] as [number, ServerCredit]));
  for (const slice of slicesOf(servers, SERVERS_PER_PART)) parts.push({ servers: slice });
  const serializer = new DefaultSerializer();
  serializer.writeHeader();
  serializer.writeValue(parts.length);
  for (const part of parts) serializer.writeValue(part);
  return serializer.releaseBuffer();
}

/** Reads monthToDateInParts' buffer back, one part per turn of the event loop. */
export async function monthToDateFromParts(bytes: Uint8Array): Promise<MonthToDate> {
  const deserializer = new DefaultDeserializer(bytes as Buffer);
  deserializer.readHeader();
  const count = deserializer.readValue() as number;
  const first = deserializer.readValue() as Part;
  if (!('shell' in first)) throw new Error('a month to date in parts must begin with its credits');
  const credits = first.shell;
  const availability = new Map<string, ServerAvailability>();
  for (let index = 1; index < count; index++) {
    await nextTurn();
    const part = deserializer.readValue() as Part;
    if ('availability' in part) for (const [id, a] of part.availability) availability.set(id, a);
    else if ('servers' in part)
      for (const [customer, server] of part.servers) credits.customers[customer]?.servers.push(server);
    else throw new Error('a month to date in parts has its credits twice');
  }
  return { availability, credits };
}
