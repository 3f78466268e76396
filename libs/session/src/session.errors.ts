/** Why a request carried no usable session. For logs and metrics only: clients always see one generic 401. */
export type SessionRejection = 'missing' | 'malformed' | 'unknown' | 'expired' | 'revoked';

/** The request has no valid session. Mapped to 401 with `WWW-Authenticate: Bearer`. */
export class SessionRejectedError extends Error {
  override readonly name = 'SessionRejectedError';

  constructor(readonly reason: SessionRejection) {
    super(`No valid session (${reason})`);
  }
}

/**
 * Ending the user's other sessions needs a recent proof of the password on this session (ASVS 7.5.2): the
 * client re-authenticates and retries. Mapped to 403.
 */
export class ReauthenticationRequiredError extends Error {
  override readonly name = 'ReauthenticationRequiredError';

  constructor(readonly windowSeconds: number) {
    super(`Confirm the password first: this session last proved it more than ${windowSeconds} s ago`);
  }
}

/**
 * The credentials a login checked were replaced (a password change) before its session could be registered:
 * the session was ended before its token left. Mapped like wrong credentials (401).
 */
export class StaleCredentialsError extends Error {
  override readonly name = 'StaleCredentialsError';

  constructor() {
    super('The credentials changed while signing in');
  }
}

/** `SessionModule` was given options that cannot work; lists every problem at once. */
export class SessionOptionsError extends Error {
  override readonly name = 'SessionOptionsError';

  constructor(readonly problems: readonly string[]) {
    super(`Invalid session options:\n- ${problems.join('\n- ')}`);
  }
}

/** No session with that id belongs to the caller (whether it exists for someone else is not said). Mapped to 404. */
export class SessionNotFoundError extends Error {
  override readonly name = 'SessionNotFoundError';

  constructor() {
    super('No such session');
  }
}

/** The version of the session data fails the precondition of the request (`If-Match`, `If-None-Match`). Mapped to 412. */
export class SessionDataConflictError extends Error {
  override readonly name = 'SessionDataConflictError';

  constructor(readonly currentVersion: number) {
    super(`The session data is at version ${currentVersion}`);
  }
}

/** The session data would exceed its size limit. Mapped to 413. */
export class SessionDataTooLargeError extends Error {
  override readonly name = 'SessionDataTooLargeError';

  constructor(readonly limitBytes: number) {
    super(`Session data is limited to ${limitBytes} bytes of JSON`);
  }
}

/** A patch that cannot apply: the document must stay a JSON object with ordinary keys. Mapped to 400. */
export class InvalidSessionDataError extends Error {
  override readonly name = 'InvalidSessionDataError';
}

/**
 * `SessionService.create` was given a user it cannot keep: an empty `id`, or an `id`, `email` or `name` over
 * `MAX_SESSION_USER_FIELD_BYTES` of UTF-8 (DynamoDB refuses a key over 2048 bytes, and each is copied into every
 * session). Nothing was written. Mapped to 400: an app that takes the id from what the user typed (a login name)
 * passes the user's own mistake on.
 */
export class InvalidSessionUserError extends Error {
  override readonly name = 'InvalidSessionUserError';

  constructor(readonly field: 'id' | 'email' | 'name', reason: string) {
    super(`The session's user ${field} ${reason}`);
  }
}

/** So many writers hit the same session data at once that the retries ran out. Mapped to 503 with Retry-After. */
export class SessionDataContentionError extends Error {
  override readonly name = 'SessionDataContentionError';

  constructor(readonly attempts: number) {
    super(`The session data changed under ${attempts} attempts in a row`);
  }
}

/** A state-changing request with the session cookie came from another site. Mapped to 403. */
export class CrossSiteRequestError extends Error {
  override readonly name = 'CrossSiteRequestError';

  constructor(readonly reason: string) {
    super(`Cross-site request refused (${reason})`);
  }
}
