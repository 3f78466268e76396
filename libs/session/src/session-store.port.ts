import type { SessionRecord } from './session.types.js';

/** Nest injection token for the configured {@link SessionStore}. */
export const SESSION_STORE = Symbol('kura:session-store');

/**
 * Where sessions live. Implementations must keep sessions outside the process for Kura's promise to hold;
 * the in-memory store exists for unit tests and to demonstrate what breaks without that.
 *
 * Contract every adapter follows:
 * - a record whose effective expiry (the earlier of idle and absolute) has passed is absent, whether or not
 *   the engine has deleted it yet;
 * - failures to reach or use the engine throw `StoreUnavailableError`, never "absent";
 * - `extend` never re-creates a record that was removed meanwhile.
 */
export interface SessionStore {
  /** Stores a new session. Fails if a record with that id already exists. */
  insert(record: SessionRecord): Promise<void>;

  /** Reads a session by id (strongly consistent unless configured otherwise); `undefined` if absent or expired. */
  find(id: string, now: number): Promise<SessionRecord | undefined>;

  /**
   * Moves the idle expiry forward. Returns `false` when the session no longer exists (it was revoked
   * between the read and this write), in which case nothing is written.
   */
  extend(id: string, change: Pick<SessionRecord, 'lastSeenAt' | 'idleExpiresAt' | 'absoluteExpiresAt'>): Promise<boolean>;

  /** Deletes a session; deleting an absent session is not an error. */
  remove(id: string): Promise<void>;

  /** Resolves when the store can serve requests; throws `StoreUnavailableError` otherwise. */
  ping(): Promise<void>;
}
