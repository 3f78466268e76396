/** A user as stored. `email` is normalised (trimmed, lower-case) and unique. Times are epoch milliseconds. */
export interface UserRecord {
  readonly id: string;
  readonly email: string;
  readonly name: string | null;
  readonly passwordHash: string;
  readonly createdAt: number;
  /** Goes up by one with every password change; sessions issued on an older version end with it. Absent: 0. */
  readonly credentialVersion?: number;
}

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
  /**
   * Replaces the password hash by another hash of the same password (made at a higher cost, at a login), if it is
   * still `expectedHash`, leaving the credential version as it is: no session ends, since no password changed.
   * `true` when `newHash` is there now (this call, or its retry that meets it), `false` (nothing written) when the
   * hash had changed or the account is gone. Never for a new password: `replacePasswordHash` is. Optional, so
   * that a store written before hashes were upgraded still serves everything else (its hashes keep their cost).
   */
  rehashPassword?(email: string, expectedHash: string, newHash: string): Promise<boolean>;
  /**
   * Deletes the account if its hash is still `expectedHash`: `true` when no account is left under the email (this
   * call, its retry, or none was there), `false` when one with another hash is (nothing deleted). Optional, so
   * that a store written before accounts could be deleted still serves everything else; Kura's adapters have it.
   */
  remove?(email: string, expectedHash: string): Promise<boolean>;
  /**
   * One cheap call that proves the accounts can be reached (on DynamoDB: the users table exists and the role may read
   * it), for readiness; throws `StoreUnavailableError` saying why. Optional: a store that shares its engine with the
   * sessions (Redis, memory) is proved by the session store's `ping`.
   */
  ping?(): Promise<void>;
}
