/**
 * A login refused: the credential its session was made with (`credentialOf`) is not the user's credential in force,
 * which a `destroySessionsOf(user, { credential })` noted (a password change while the login was on its way, or
 * before it named its user). The session is deleted. Not an outage: the user logs in again, with the new password
 * (a 401).
 */
export class CredentialReplacedError extends Error {
  override readonly name = 'CredentialReplacedError';
  /** 401 Unauthorized, for express's and Fastify's own error handlers, which answer it as StoreUnavailableError's 503. */
  readonly statusCode = 401;

  constructor() {
    super("The session's credential was replaced (a password change): log in again");
  }
}
