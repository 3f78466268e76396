/** Why a request carried no usable session. For logs and metrics only: clients always see one generic 401. */
export type SessionRejection = 'missing' | 'malformed' | 'unknown' | 'expired' | 'revoked';

/** The request has no valid session. Mapped to 401 with `WWW-Authenticate: Bearer`. */
export class SessionRejectedError extends Error {
  override readonly name = 'SessionRejectedError';

  constructor(readonly reason: SessionRejection) {
    super(`No valid session (${reason})`);
  }
}

/** `SessionModule` was given options that cannot work; lists every problem at once. */
export class SessionOptionsError extends Error {
  override readonly name = 'SessionOptionsError';

  constructor(readonly problems: readonly string[]) {
    super(`Invalid session options:\n- ${problems.join('\n- ')}`);
  }
}
