// Who may work on a month right now: a claim row in the state database (processes sharing it) and a lock file in
// the reports folder's .locks/ (processes that share only that folder), both taken before anything is computed;
// and a lock on the journal files, which every month appends to. Every claim has an owner of its own (a fresh
// token per call), so two calls in one process exclude each other as two processes do. A claim whose owner is
// gone is taken over: at once when it ran on this host (in this PID namespace) and its process has ended,
// otherwise once its heartbeat is older than CLAIM_STALE_MS.
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readlinkSync, statSync, unlinkSync, utimesSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { Clock } from '../clock.js';
import { createFileExclusive } from '../files.js';
import type { Claim, CloseRecords } from '../state/close-records.js';

/** A claim is renewed this often while its work runs. */
export const CLAIM_HEARTBEAT_MS = 30_000;
/** A claim not renewed for this long is taken to belong to a process that died. */
export const CLAIM_STALE_MS = 2 * 60_000;
/** The folder of lock files inside the reports folder; never inside a month's folder. */
export const LOCKS_DIR = '.locks';

/** This process as a claimant: where it runs and its pid; each claim adds a token of its own. */
export interface Claimant {
  host: string;
  pid: number;
}

/**
 * This host, qualified by its PID namespace where Linux tells it: containers that share a host name but not their
 * process ids must not judge each other's claims by pid.
 */
function hostIdentity(): string {
  try {
    return `${hostname()}/${readlinkSync('/proc/self/ns/pid')}`;
  } catch {
    return hostname();
  }
}

export const thisProcess = (): Claimant => ({ host: hostIdentity(), pid: process.pid });

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Whether another's claim can be taken over now. */
export function claimIsStale(
  claim: Pick<Claim, 'host' | 'pid' | 'heartbeatMs'>,
  nowMs: number,
  me: Claimant = thisProcess(),
): boolean {
  if (claim.host === me.host && claim.pid !== me.pid && !processAlive(claim.pid)) return true;
  return claim.heartbeatMs < nowMs - CLAIM_STALE_MS;
}

export type ClaimResult<T> = { taken: true; value: T } | { taken: false; holder: Claim };

interface LockFile {
  owner: string;
  host: string;
  pid: number;
  claimedAtMs: number;
}

/** Creates a lock file, taking over a stale one; returns the holder when someone else holds it. */
function takeLockFile(path: string, claim: Claim, clock: Clock, me: Claimant): Claim | undefined {
  mkdirSync(join(path, '..'), { recursive: true });
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      createFileExclusive(
        path,
        JSON.stringify({
          owner: claim.owner,
          host: claim.host,
          pid: claim.pid,
          claimedAtMs: claim.claimedAtMs,
        } satisfies LockFile),
      );
      return undefined;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST')
        throw new Error(`cannot create the lock ${path}: ${(error as Error).message}`, { cause: error });
    }
    let existing: LockFile | undefined;
    let heartbeatMs = 0;
    try {
      heartbeatMs = statSync(path).mtimeMs; // renewed by the holder's heartbeat
      existing = JSON.parse(readFileSync(path, 'utf8')) as LockFile;
      heartbeatMs = Math.max(existing.claimedAtMs, heartbeatMs);
    } catch {
      // gone meanwhile, or half-written by a process that died: judged by its age
    }
    const holder: Claim = {
      month: claim.month,
      owner: existing?.owner ?? 'unknown',
      host: existing?.host ?? '',
      pid: existing?.pid ?? 0,
      claimedAtMs: existing?.claimedAtMs ?? 0,
      heartbeatMs,
    };
    if (!claimIsStale(holder, clock.now(), me)) return holder;
    try {
      unlinkSync(path);
    } catch {
      // another runner took it over first; the next attempt's exclusive create decides
    }
  }
  return { month: claim.month, owner: 'unknown', host: '', pid: 0, claimedAtMs: 0, heartbeatMs: 0 };
}

function releaseLockFile(path: string, owner: string): void {
  try {
    if (existsSync(path) && (JSON.parse(readFileSync(path, 'utf8')) as LockFile).owner === owner) unlinkSync(path);
  } catch {
    // gone already
  }
}

/** Renews the lock file's time (and the claim row) every CLAIM_HEARTBEAT_MS until cancelled. */
function heartbeat(clock: Clock, renew: (atMs: number) => void): { cancel(): void } {
  let timer: { cancel(): void } | undefined;
  const beat = () => {
    timer = clock.setTimeout(() => {
      renew(clock.now());
      beat();
    }, CLAIM_HEARTBEAT_MS);
  };
  beat();
  return { cancel: () => timer?.cancel() };
}

const touch = (path: string, atMs: number) => {
  try {
    utimesSync(path, new Date(atMs), new Date(atMs));
  } catch {
    // renewed on the next beat
  }
};

/**
 * Runs `work` holding the month's claim in the records and its lock file under `reportsDir/.locks/`; answers who
 * holds it when someone else does.
 */
export async function withMonthClaim<T>(options: {
  month: string;
  records: CloseRecords;
  reportsDir: string;
  claimant: Claimant;
  clock: Clock;
  work: () => Promise<T>;
}): Promise<ClaimResult<T>> {
  const { month, records, claimant, clock } = options;
  const now = clock.now();
  const claim: Claim = {
    month,
    owner: `${claimant.host}:${claimant.pid}:${randomUUID()}`,
    host: claimant.host,
    pid: claimant.pid,
    claimedAtMs: now,
    heartbeatMs: now,
  };
  const taken = records.tryClaim(claim, (existing) => claimIsStale(existing, clock.now(), claimant));
  if (!taken.taken) return taken;
  const lockPath = join(options.reportsDir, LOCKS_DIR, `${month}.lock`);
  let holder: Claim | undefined;
  try {
    holder = takeLockFile(lockPath, claim, clock, claimant);
  } catch (error) {
    records.releaseClaim(month, claim.owner);
    throw error;
  }
  if (holder) {
    records.releaseClaim(month, claim.owner);
    return { taken: false, holder };
  }
  const beat = heartbeat(clock, (atMs) => {
    records.heartbeat(month, claim.owner, atMs);
    touch(lockPath, atMs);
  });
  try {
    return { taken: true, value: await options.work() };
  } finally {
    beat.cancel();
    releaseLockFile(lockPath, claim.owner);
    records.releaseClaim(month, claim.owner);
  }
}

/**
 * Runs `work` holding the lock on the journal files (`reportsDir/.locks/journal.lock`), waiting for it up to
 * `waitMs`: appends of different months must not interleave their read-and-append.
 */
export async function withJournalLock<T>(options: {
  reportsDir: string;
  claimant: Claimant;
  clock: Clock;
  waitMs?: number;
  work: () => T;
}): Promise<T> {
  const { claimant, clock } = options;
  const lockPath = join(options.reportsDir, LOCKS_DIR, 'journal.lock');
  const deadline = Date.now() + (options.waitMs ?? 30_000);
  const now = clock.now();
  const claim: Claim = {
    month: 'journal',
    owner: `${claimant.host}:${claimant.pid}:${randomUUID()}`,
    host: claimant.host,
    pid: claimant.pid,
    claimedAtMs: now,
    heartbeatMs: now,
  };
  for (;;) {
    const holder = takeLockFile(lockPath, claim, clock, claimant);
    if (!holder) break;
    if (Date.now() > deadline) throw new Error(`the journal is locked by ${holder.owner}; try again`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  try {
    return options.work();
  } finally {
    releaseLockFile(lockPath, claim.owner);
  }
}
