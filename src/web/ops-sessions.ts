// The ops pages' sessions: a random id in the cookie, and the live sessions in this process's memory.
// Why not a signed expiry alone (as before) or a list of revoked ids: a signed value stays valid until it expires,
// so logging out could only ask the browser to forget it; a revocation list kept in memory is forgotten at a
// restart, which would bring revoked sessions back. A list of the live sessions fails closed instead: logging out
// removes the session, and a restart ends them all (log in again), which for a handful of ops people is cheap.
import { randomBytes } from 'node:crypto';

export interface OpsSession {
  id: string;
  /** The name of the token that logged in. */
  tokenName: string;
  expiresAtMs: number;
}

export interface OpsSessions {
  /** Starts a session for the token named `tokenName`, lasting the sessions' lifetime from now. */
  open(tokenName: string): OpsSession;
  /** The live session with this id, if any (an expired one is gone). */
  find(id: string | undefined): OpsSession | undefined;
  /** Ends the session with this id (logging out); nothing when there is none. */
  close(id: string | undefined): void;
}

/** Sessions in memory, each lasting `lifetimeMs`. */
export function createOpsSessions(lifetimeMs: number, now: () => number): OpsSessions {
  const live = new Map<string, OpsSession>();
  const dropExpired = () => {
    for (const [id, session] of live) if (session.expiresAtMs <= now()) live.delete(id);
  };
  return {
    open(tokenName) {
      dropExpired(); // logins are rare (a token is needed): pruning here keeps the map to the sessions in use
      const session = { id: randomBytes(32).toString('base64url'), tokenName, expiresAtMs: now() + lifetimeMs };
      live.set(session.id, session);
      return session;
    },
    find(id) {
      const session = id === undefined ? undefined : live.get(id);
      if (session && session.expiresAtMs <= now()) {
        live.delete(session.id);
        return undefined;
      }
      return session;
    },
    close(id) {
      if (id !== undefined) live.delete(id);
    },
  };
}
