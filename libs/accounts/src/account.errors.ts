/** Registration with an email that already has an account. Mapped to 409. (Defined in `@kura/common`.) */
export { EmailTakenError } from '@kura/common';

/**
 * Wrong email or password. One error for both, so a response never says which emails have accounts.
 * Mapped to 401. `userId`: the account whose password was wrong, for the app's audit log only (absent when no
 * account has the email); never part of an answer.
 */
export class InvalidCredentialsError extends Error {
  override readonly name = 'InvalidCredentialsError';

  constructor(readonly userId?: string) {
    super('Invalid email or password');
  }
}

/**
 * A signed-in user failed to confirm their current password for a sensitive change. Mapped to 403. `raced`:
 * the password was right, but another change replaced it first (two changes at once: only one can win); for
 * the app's audit log, which must not call that a wrong password.
 */
export class ReauthenticationFailedError extends Error {
  override readonly name = 'ReauthenticationFailedError';
  /**
   * How many passwords were checked and found wrong: 2 where a password change checked its new password too (one
   * sent again after its change had landed would bring the password in force there), each counted like a failed login.
   */
  checks = 1;

  constructor(readonly raced = false) {
    super(raced ? 'The password was changed by another request meanwhile' : 'The current password is not correct');
  }
}

/** Too many failed logins for this account or from this client. Mapped to 429 with Retry-After. */
export class TooManyLoginAttemptsError extends Error {
  override readonly name = 'TooManyLoginAttemptsError';

  constructor(readonly retryAfterSeconds: number) {
    super('Too many failed logins; try again later');
  }
}

/** Too many registrations from this client. Mapped to 429 with Retry-After. */
export class TooManyRegistrationsError extends Error {
  override readonly name = 'TooManyRegistrationsError';

  constructor(readonly retryAfterSeconds: number) {
    super('Too many registrations from this client; try again later');
  }
}

/**
 * A new password (at registration or a change) that may not be set: a commonly used one (`reason` `common`), or
 * one made of the account's or the service's own words (`context`); see `PasswordPolicy`. `field`: the input that
 * carried it (`password` at registration, `newPassword` at a change). Mapped to 400; nothing was written.
 */
export class WeakPasswordError extends Error {
  override readonly name = 'WeakPasswordError';

  constructor(
    readonly reason: 'common' | 'context',
    readonly field: string,
  ) {
    super(reason === 'common' ? 'This password is too commonly used' : "This password is made of the account's or the service's own words");
  }
}
