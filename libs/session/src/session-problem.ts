import { StoreUnavailableError, statusTitle } from '@kura/common';
import {
  CrossSiteRequestError,
  InvalidSessionDataError,
  InvalidSessionUserError,
  ReauthenticationRequiredError,
  SessionDataConflictError,
  SessionDataContentionError,
  SessionDataTooLargeError,
  SessionNotFoundError,
  SessionRejectedError,
  StaleCredentialsError,
} from './session.errors.js';

/** Every error {@link sessionProblemOf} maps (what `SessionErrorFilter` catches). */
export const SESSION_ERRORS = [
  SessionRejectedError,
  StaleCredentialsError,
  CrossSiteRequestError,
  ReauthenticationRequiredError,
  SessionNotFoundError,
  SessionDataConflictError,
  SessionDataTooLargeError,
  InvalidSessionDataError,
  InvalidSessionUserError,
  SessionDataContentionError,
  StoreUnavailableError,
] as const;

/** What an error of this package means in HTTP: an RFC 9457 problem document, and the headers that go with it. */
export interface SessionProblem {
  readonly status: number;
  /** `urn:kura:problem:<slug>`, the same types as Kura's own API. */
  readonly type: string;
  /** The status code's reason phrase. */
  readonly title: string;
  /** One sentence for the client: never a token, an address or a store's message. */
  readonly detail: string;
  /** `WWW-Authenticate` with a 401 for want of a session, `Retry-After` with a 503, `ETag` with a 412. */
  readonly headers: Readonly<Record<string, string>>;
}

const problem = (status: number, slug: string, detail: string, headers: Record<string, string> = {}): SessionProblem => ({
  status,
  type: `urn:kura:problem:${slug}`,
  title: statusTitle(status),
  detail,
  headers,
});

/**
 * The HTTP answer to each error this package throws (the table in its README), or `undefined` for any other
 * error. For an app that writes its own exception filter in a format of its own; `SessionErrorFilter` is this
 * table sent as `application/problem+json` (a module of its own: an app using only this table loads no Nest filter).
 */
export function sessionProblemOf(error: unknown): SessionProblem | undefined {
  if (error instanceof SessionRejectedError) return problem(401, 'session-required', 'A valid session is required.', { 'www-authenticate': 'Bearer' });
  if (error instanceof StaleCredentialsError) return problem(401, 'invalid-credentials', 'The password changed while signing in; sign in with the new one.');
  if (error instanceof CrossSiteRequestError) return problem(403, 'cross-site-request', 'A request from another site may not change this session.');
  if (error instanceof ReauthenticationRequiredError) {
    return problem(403, 'reauthentication-required', `Confirm your password and try again within ${error.windowSeconds} seconds.`);
  }
  if (error instanceof SessionNotFoundError) return problem(404, 'session-not-found', 'You have no session with this id.');
  if (error instanceof SessionDataConflictError) {
    return problem(412, 'session-data-changed', 'The session data is not at a version If-Match or If-None-Match allows; ETag names the one it is at.', { etag: `"${error.currentVersion}"` });
  }
  if (error instanceof SessionDataTooLargeError) return problem(413, 'session-data-too-large', `Session data is limited to ${error.limitBytes} bytes of JSON.`);
  if (error instanceof InvalidSessionDataError) return problem(400, 'invalid-session-data', error.message);
  if (error instanceof InvalidSessionUserError) return problem(400, 'invalid-request', error.message);
  if (error instanceof SessionDataContentionError) {
    return problem(503, 'session-data-contention', 'Too many concurrent updates of this session data; try again.', { 'retry-after': '1' });
  }
  if (error instanceof StoreUnavailableError) {
    return problem(503, 'store-unavailable', 'The session store is unavailable; try again shortly.', { 'retry-after': String(error.retryAfterSeconds) });
  }
  return undefined;
}
