import type { UserRecord } from './account.types.js';

/** Nest injection token for the configured {@link UserStore}. */
export const USER_STORE = Symbol('kura:user-store');

/**
 * Where accounts live. Failures to reach the engine throw `StoreUnavailableError`. Every write is safe to
 * retry: a write whose answer was lost and that is sent again recognises its own effect.
 */
export interface UserStore {
  /** Stores a new user; throws `EmailTakenError` if the email already has another account (atomically). */
  insert(user: UserRecord): Promise<void>;
  /** Reads a user by normalised email, strongly consistent. */
  findByEmail(email: string): Promise<UserRecord | undefined>;
  /**
   * Replaces the password hash if it is still `expectedHash`, raising the credential version by one; returns
   * the new version, or `undefined` (nothing written) when the hash had changed.
   */
  replacePasswordHash(email: string, expectedHash: string, newHash: string): Promise<number | undefined>;
}
