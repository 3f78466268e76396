import type { UserRecord } from './account.types.js';

/** Nest injection token for the configured {@link UserStore}. */
export const USER_STORE = Symbol('kura:user-store');

/** Where accounts live. Failures to reach the engine throw `StoreUnavailableError`. */
export interface UserStore {
  /** Stores a new user; throws `EmailTakenError` if the email already has an account (atomically). */
  insert(user: UserRecord): Promise<void>;
  /** Reads a user by normalised email, strongly consistent. */
  findByEmail(email: string): Promise<UserRecord | undefined>;
  /** Replaces the password hash if it is still `expectedHash`; `false` (nothing written) otherwise. */
  replacePasswordHash(email: string, expectedHash: string, newHash: string): Promise<boolean>;
}
