/**
 * A login's session was not written: the credential it was made with (`credentialOf`) was replaced, by a
 * `destroySessionsOf(user, { credential })` that ran while the login was on its way (it checked the old password
 * just before the change). Not an outage: the user logs in again, with the new password (a 401).
 */
export class CredentialReplacedError extends Error {
  override readonly name = 'CredentialReplacedError';

  constructor() {
    super("The session's credential was replaced (a password change) while its login was on its way: log in again");
  }
}
