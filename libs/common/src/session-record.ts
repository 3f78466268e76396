/**
 * The user a session belongs to, as the app identified them at login. The session layer uses only `id` (the key
 * of the user's session register); `email` and `name` are kept as given and handed back on every request, so an
 * app can answer "who am I" with one read. Kura's API always sets both. A session records a missing `name` as
 * `null`; a missing `email` stays absent. Both are readable by whoever holds a signed cache token: no secrets.
 */
export interface SessionUser {
  readonly id: string;
  readonly email?: string;
  readonly name?: string | null;
}

/**
 * A session as the store keeps it. Times are epoch milliseconds.
 * `id` is the SHA-256 of the secret token (base64url): the store key and the public session id.
 * The raw token is never part of a record.
 */
export interface SessionRecord {
  readonly id: string;
  readonly user: SessionUser;
  readonly createdAt: number;
  readonly lastSeenAt: number;
  readonly idleExpiresAt: number;
  readonly absoluteExpiresAt: number;
  /** When the user last proved their password on this session (login or re-authentication); absent: `createdAt`. */
  readonly authenticatedAt?: number;
  /**
   * The key the session's data is kept under: the id of the session the user first logged in with.
   * Re-authentication hands it on to the new session, so the data never moves and no update can fall between
   * two copies. Absent: `id`.
   */
  readonly dataId?: string;
  readonly userAgent?: string;
  readonly ip?: string;
}
