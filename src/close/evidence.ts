// Complete evidence before a close: every observation of the month's range must have reached the store it is read
// from. A source (the local outbox in front of InfluxDB, the probe loop's unwritten buffer; later every agent's
// forwarded-through mark, agent-evidence.ts) says how many observations of a time range it still holds back.
import type { Clock } from '../clock.js';
import { unlessAborted } from '../concurrency.js';

/** Observations of a time range that a reader of the store cannot see yet. */
export interface Unconfirmed {
  /** On their way (in an outbox or a write buffer): waiting may resolve these. */
  waiting: number;
  /** Refused by the store and set aside: only a person can resolve these. */
  parked: number;
  /** What is missing in words, when counts cannot say it (another agent's mark, not its lines). */
  detail?: string;
}

/** Something that can hold observations back from the store. */
export interface EvidenceSource {
  readonly name: string;
  unconfirmed(fromMs: number, toMs: number): Promise<Unconfirmed>;
}

export type EvidenceVerdict =
  | { complete: true }
  | { complete: false; waiting: number; parked: number /** A sentence for logs, CLI and API. */; reason: string };

const describe = (name: string, u: Unconfirmed) =>
  u.detail ??
  [
    u.waiting > 0 ? `${u.waiting} observations still waiting in ${name}` : '',
    u.parked > 0 ? `${u.parked} observations refused by the store and parked in ${name}` : '',
  ]
    .filter(Boolean)
    .join(', ');

/**
 * Waits up to `waitMs` until no source holds back an observation of [fromMs, toMs). Parked observations end the
 * wait at once (waiting cannot help). Polls every `pollMs` on the given clock. An abort of `signal` (the daemon
 * stopping) ends the wait with its reason, without a verdict: nothing is to be recorded from a wait cut short.
 */
export async function awaitCompleteEvidence(options: {
  sources: readonly EvidenceSource[];
  fromMs: number;
  toMs: number;
  waitMs: number;
  clock: Clock;
  pollMs?: number;
  signal?: AbortSignal;
  /** Hears once, when the wait begins, what is missing (the reason a verdict would give). */
  onWaiting?: (reason: string) => void;
}): Promise<EvidenceVerdict> {
  const { sources, clock, signal } = options;
  const deadline = clock.now() + options.waitMs;
  const range = `${new Date(options.fromMs).toISOString()} to ${new Date(options.toMs).toISOString()}`;
  let heardWaiting = false;
  for (;;) {
    signal?.throwIfAborted();
    const found = await unlessAborted(
      Promise.all(sources.map(async (s) => [s.name, await s.unconfirmed(options.fromMs, options.toMs)] as const)),
      signal,
    );
    const waiting = found.reduce((n, [, u]) => n + u.waiting, 0);
    const parked = found.reduce((n, [, u]) => n + u.parked, 0);
    if (waiting === 0 && parked === 0) return { complete: true };
    // Written only when told: at the verdict, and once when the wait begins (not at every poll).
    const reason = () =>
      `incomplete evidence for ${range}: ${found
        .filter(([, u]) => u.waiting + u.parked > 0)
        .map(([name, u]) => describe(name, u))
        .join('; ')}`;
    if (parked > 0 || clock.now() >= deadline) return { complete: false, waiting, parked, reason: reason() };
    if (!heardWaiting) options.onWaiting?.(reason());
    heardWaiting = true;
    // The next poll, or the abort's reason at once (the timer left behind fires into nothing within pollMs).
    await unlessAborted(
      new Promise<void>((resolve) =>
        clock.setTimeout(resolve, Math.min(options.pollMs ?? 250, Math.max(1, deadline - clock.now()))),
      ),
      signal,
    );
  }
}
