import type { SessionRecord } from './session.types.js';

/** Nest injection token for the configured {@link SessionStore}. */
export const SESSION_STORE = Symbol('kura:session-store');

/** The fields `extend` changes. */
export type SessionExtension = Pick<SessionRecord, 'lastSeenAt' | 'idleExpiresAt' | 'absoluteExpiresAt' | 'authenticatedAt'>;

/**
 * Where sessions live. Implementations must keep sessions outside the process for Kura's promise to hold;
 * the in-memory store exists for unit tests and to demonstrate what breaks without that.
 *
 * Contract every adapter follows:
 * - a record whose effective expiry (the earlier of idle and absolute) has passed is absent, whether or not
 *   the engine has deleted it yet;
 * - failures to reach or use the engine throw `StoreUnavailableError`, never "absent";
 * - `extend` never re-creates a record that was removed meanwhile;
 * - removing a session removes its data (see `SessionDataStore`) too.
 */
export interface SessionStore {
  /**
   * Stores a new session and registers it with its user, so that `removeAllOfUser` finds it without
   * depending on an eventually consistent index. Fails if a record with that id already exists.
   */
  insert(record: SessionRecord): Promise<void>;

  /** Reads a session by id (strongly consistent unless configured otherwise); `undefined` if absent or expired. */
  find(id: string, now: number): Promise<SessionRecord | undefined>;

  /**
   * Moves the idle expiry forward. Returns `false` when the session no longer exists (it was revoked
   * between the read and this write), in which case nothing is written.
   */
  extend(id: string, change: SessionExtension): Promise<boolean>;

  /** Deletes a session; deleting an absent session is not an error. */
  remove(id: string): Promise<void>;

  /** Deletes a session only if it belongs to `userId`; `false` when there was no such session of theirs. */
  removeOwned(id: string, userId: string): Promise<boolean>;

  /**
   * Deletes every session of a user except `keep`, by primary key, from the user's session register (read
   * strongly consistent): a session created before this call started is never missed. Returns how many.
   */
  removeAllOfUser(userId: string, keep?: string): Promise<number>;

  /**
   * Deletes every session of every user, with their data and registers: the operator's last resort (a
   * suspected token leak). Walks the whole store; never on a request path. Returns how many sessions.
   */
  removeAll(): Promise<number>;

  /** The user's live sessions, newest first. May lag behind by about a second (eventually consistent index). */
  listOfUser(userId: string, now: number): Promise<SessionRecord[]>;

  /** Resolves when the store can serve requests; throws `StoreUnavailableError` otherwise. */
  ping(): Promise<void>;
}
