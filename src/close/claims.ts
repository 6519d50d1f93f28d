// Who may close a month right now: a claim row in the state database (processes sharing it) and a lock file in
// the reports folder's .locks/ (processes that share only that folder), both taken before anything is computed.
// A claim whose owner is gone is taken over: at once when the owner ran on this host and its process has ended,
// otherwise once its heartbeat is older than CLAIM_STALE_MS.
import { existsSync, mkdirSync, readFileSync, statSync, unlinkSync, utimesSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { Clock } from '../clock.js';
import { createFileExclusive } from '../files.js';
import type { Claim, CloseRecords } from '../state/close-records.js';

/** A claim is renewed this often while its close runs. */
export const CLAIM_HEARTBEAT_MS = 30_000;
/** A claim not renewed for this long is taken to belong to a process that died. */
export const CLAIM_STALE_MS = 2 * 60_000;
/** The folder of lock files inside the reports folder; never inside a month's folder. */
export const LOCKS_DIR = '.locks';

/** This process as a claimant. */
export interface Claimant {
  owner: string;
  host: string;
  pid: number;
}

export const thisProcess = (): Claimant => ({ owner: `${hostname()}:${process.pid}`, host: hostname(), pid: process.pid });

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Whether another's claim can be taken over now. */
export function claimIsStale(claim: Pick<Claim, 'host' | 'pid' | 'heartbeatMs'>, nowMs: number): boolean {
  if (claim.host === hostname() && !processAlive(claim.pid)) return true;
  return claim.heartbeatMs < nowMs - CLAIM_STALE_MS;
}

export type ClaimResult<T> = { taken: true; value: T } | { taken: false; holder: Claim };

/**
 * Runs `work` holding the month's claim in the records and its lock file under `reportsDir/.locks/`; answers
 * who holds it when someone else does. The heartbeat keeps both fresh while `work` runs.
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
  const claim: Claim = { month, ...claimant, claimedAtMs: now, heartbeatMs: now };
  const taken = records.tryClaim(claim, (existing) => claimIsStale(existing, clock.now()));
  if (!taken.taken) return taken;
  const lockPath = join(options.reportsDir, LOCKS_DIR, `${month}.lock`);
  const holder = takeLockFile(lockPath, claim, clock);
  if (holder) {
    records.releaseClaim(month, claimant.owner);
    return { taken: false, holder };
  }
  let timer: { cancel(): void } | undefined;
  const beat = () => {
    timer = clock.setTimeout(() => {
      const at = clock.now();
      records.heartbeat(month, claimant.owner, at);
      try {
        utimesSync(lockPath, new Date(at), new Date(at));
      } catch {
        // the lock file is renewed on the next beat; the records' claim is the main one
      }
      beat();
    }, CLAIM_HEARTBEAT_MS);
  };
  beat();
  try {
    return { taken: true, value: await options.work() };
  } finally {
    timer?.cancel();
    releaseLockFile(lockPath, claimant.owner);
    records.releaseClaim(month, claimant.owner);
  }
}

interface LockFile {
  owner: string;
  host: string;
  pid: number;
  claimedAtMs: number;
}

/** Creates the lock file, taking over a stale one; returns the holder when someone else holds it. */
function takeLockFile(path: string, claim: Claim, clock: Clock): Claim | undefined {
  mkdirSync(join(path, '..'), { recursive: true });
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      createFileExclusive(path, JSON.stringify({ owner: claim.owner, host: claim.host, pid: claim.pid, claimedAtMs: claim.claimedAtMs } satisfies LockFile));
      return undefined;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw new Error(`cannot create the month-close lock ${path}: ${(error as Error).message}`, { cause: error });
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
    if (existing?.owner === claim.owner) return undefined;
    const holder: Claim = { month: claim.month, owner: existing?.owner ?? 'unknown', host: existing?.host ?? '', pid: existing?.pid ?? 0, claimedAtMs: existing?.claimedAtMs ?? 0, heartbeatMs };
    if (!claimIsStale(holder, clock.now())) return holder;
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
