import { Controller, Delete, Get, HttpCode, Param, Post, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiCookieAuth, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { AccountService, ReauthenticationFailedError } from '@kura/accounts';
import {
  type AuthenticatedSession,
  type ClientInfo,
  CurrentSession,
  type IssuedSession,
  isWellFormedSessionId,
  ResponseCookies,
  type ResponseCookieJar,
  type SessionRecord,
  SessionGuard,
  SessionNotFoundError,
  SessionService,
  SessionTransport,
  toSessionView,
  type TransportKind,
} from '@kura/session';
import {
  LoginResponse,
  PasswordChangeBody,
  ReauthenticateBody,
  RevokedResponse,
  SESSION_LIST_LIMIT,
  SessionListResponse,
} from './auth.schemas.js';
import { ApiBodyProblems, ApiDefect, ApiProblem, CROSS_SITE } from '../http/problem.schema.js';
import { RETRY_AFTER, WWW_AUTHENTICATE } from '../openapi/response-headers.js';
import { Client } from './client-info.decorator.js';
import { CurrentTransport } from './current-transport.decorator.js';
import { ValidBody } from '../http/valid-body.js';
import { deleteAccount } from './account-deletion.js';
import { AuditLog, type AuditDetails, type AuditRequest, type DeniedReason } from '../observability/audit-log.js';
import { Audited } from './audit-request.decorator.js';

/** Password confirmations are counted and limited like logins. */
const TOO_MANY_FAILURES = 'Too many failed password checks for this account or client; try again after Retry-After.';
const REAUTHENTICATION_REQUIRED = 'the password was not confirmed recently enough (POST /auth/reauthenticate, KURA_REAUTH_WINDOW)';

/** The `sessionId` an audit line gives for an id that is no session id's shape. */
const MALFORMED_ID = '(malformed)';

/** A user's view of their own sessions and account: list them, end one, end all, change the password, delete the account. */
@ApiTags('sessions')
@ApiCookieAuth()
@ApiBearerAuth()
@ApiDefect()
@ApiProblem(401, 'No valid session.', WWW_AUTHENTICATE)
@ApiProblem(503, 'The session store is unavailable; try again after Retry-After.', RETRY_AFTER)
@UseGuards(SessionGuard)
@Controller('auth')
export class SessionsController {
  constructor(
    private readonly sessions: SessionService,
    private readonly accounts: AccountService,
    private readonly transport: SessionTransport,
    private readonly audit: AuditLog,
  ) {}

  @Get('sessions')
  @ApiOperation({
    summary: `The caller's live sessions, newest first (at most ${SESSION_LIST_LIMIT})`,
    description: 'Read from an index that can lag about a second behind a new login; revocation never depends on it.',
  })
  @ApiOkResponse({ description: "The caller's sessions.", standardSchema: SessionListResponse })
  async list(@CurrentSession() current: AuthenticatedSession) {
    const listed = await this.sessions.listOfUser(current.record.user.id, SESSION_LIST_LIMIT);
    // The index may not show a session made a moment ago (or it is older than the newest listed); the caller's
    // own is always known, and always shown.
    const all = listed.some((record) => record.id === current.record.id) ? listed : [current.record, ...listed.slice(0, SESSION_LIST_LIMIT - 1)];
    return { sessions: all.map((record) => toListEntry(record, record.id === current.record.id)) };
  }

  @Delete('sessions/:id')
  @HttpCode(204)
  @ApiOperation({
    summary: "End one of the caller's sessions (404 for any id that is not theirs)",
    description:
      'Ending the current session is a logout (a cookie session\'s cookie is cleared); ending another needs a recent password confirmation.',
  })
  @ApiParam({
    name: 'id',
    description: 'A session id from GET /auth/sessions. Any other value is 404, like an id of someone else; one over 100 characters is 414, before the session is checked.',
    schema: { type: 'string', maxLength: 43, pattern: '^[A-Za-z0-9_-]{43}$' },
  })
  @ApiNoContentResponse({ description: 'The session ended, on every replica at once.' })
  @ApiBodyProblems()
  @ApiProblem(403, `${CROSS_SITE} Or it is another session, and ${REAUTHENTICATION_REQUIRED}.`)
  @ApiProblem(404, 'The caller has no session with this id.')
  @ApiProblem(414, 'The id is over 100 characters (no session id is), refused before anything else.')
  async revoke(
    @CurrentSession() current: AuthenticatedSession,
    @CurrentTransport() kind: TransportKind,
    @Param('id') id: string,
    @ResponseCookies() cookies: ResponseCookieJar,
    @Audited() audited: AuditRequest,
  ): Promise<void> {
    if (!isWellFormedSessionId(id)) {
      // Recorded as any id that is none of the user's (probing with malformed ids left no line: an outside review),
      // without the id itself, which is the caller's words (a newline in it would forge a line of the text log).
      this.denied(audited, current.record, 'session.revoke', 'no-such-session', MALFORMED_ID);
      throw new SessionNotFoundError();
    }
    // Ending this very session is a logout; ending another one needs the password proved recently (ASVS 7.5.2).
    if (id !== current.record.id) this.proved(current.record, audited, 'session.revoke', id);
    const wasLive = await this.sessions.revokeOwned(current.record.user.id, id).catch((error: unknown) => {
      if (error instanceof SessionNotFoundError) this.denied(audited, current.record, 'session.revoke', 'no-such-session', id);
      throw error;
    });
    if (wasLive) this.audit.record(audited, id === current.record.id ? 'logout' : 'session.revoked', { userId: current.record.user.id, sessionId: id, by: current.record.id });
    if (id === current.record.id) this.forget(kind, cookies);
  }

  @Post('logout-all')
  @HttpCode(200)
  @ApiOperation({
    summary: 'End every session of the caller, this one included, on every replica at once',
    description:
      'Reads the user\'s register of sessions, not the listing index, so a session made a moment ago ends too. This one ' +
      'ends last: a 503 part way leaves it, and the same request sent again finishes.',
  })
  @ApiOkResponse({ description: "Every session ended; a cookie session's cookie is cleared.", standardSchema: RevokedResponse })
  @ApiBodyProblems()
  @ApiProblem(403, `${CROSS_SITE} Or ${REAUTHENTICATION_REQUIRED}.`)
  async logoutAll(
    @CurrentSession() current: AuthenticatedSession,
    @CurrentTransport() kind: TransportKind,
    @ResponseCookies() cookies: ResponseCookieJar,
    @Audited() audited: AuditRequest,
  ) {
    this.proved(current.record, audited, 'sessions.revoke-all');
    const { id: userId } = current.record.user;
    const others = await this.sessions.revokeAllOfUser(userId, current.record.id);
    // This session last: until here, a logout-all that failed part way (a 503) can be sent again with it, and ends
    // the sessions it had not reached (ended first, the retry met a 401 and left them live).
    const own = await this.sessions.revokeOwned(userId, current.record.id).catch((error: unknown) => {
      if (error instanceof SessionNotFoundError) return false;
      // The others have ended all the same (sent again, the request finds them ended and counts only this one).
      if (others > 0) this.audit.record(audited, 'sessions.revoked', { userId, count: others, by: current.record.id });
      throw error;
    });
    const revoked = others + (own ? 1 : 0);
    this.audit.record(audited, 'sessions.revoked', { userId, count: revoked, by: current.record.id });
    this.forget(kind, cookies);
    return { revoked };
  }

  @Delete('account')
  @HttpCode(204)
  @ApiOperation({
    summary: "Delete the caller's account: every session ends with its data, on every replica at once, and the email is free again",
    description:
      'No login succeeds once the deletion begins, and one already past its password check is refused. A deletion ' +
      'that fails part way (503) has already closed the account; sent again, it finishes, with no password proof needed then.',
  })
  @ApiNoContentResponse({ description: "The account and every session of it are gone; a cookie session's cookie is cleared." })
  @ApiBodyProblems()
  @ApiProblem(403, `${CROSS_SITE} Or ${REAUTHENTICATION_REQUIRED}.`)
  async deleteAccount(
    @CurrentSession() current: AuthenticatedSession,
    @CurrentTransport() kind: TransportKind,
    @ResponseCookies() cookies: ResponseCookieJar,
    @Audited() audited: AuditRequest,
  ): Promise<void> {
    // Deleting is for good: the password proved recently, as for ending other sessions (ASVS 7.5.2). A deletion that
    // began and failed part way (503) is finished without it: its account is closed or gone, so no password could prove it.
    await this.requireRecentAuthenticationUnlessDeletionBegun(current.record, audited);
    const { user } = current.record;
    // undefined: no such account any more (a deletion of it, this one sent before or an operator's, came first).
    const ended = await deleteAccount(this.accounts, this.sessions, emailOf(current.record), current.record.id, user.id);
    // This session last: until here, a deletion that failed part way can be asked for again.
    let endedHere = false;
    try {
      endedHere = await this.sessions.revokeOwned(user.id, current.record.id).catch((error: unknown) => {
        if (!(error instanceof SessionNotFoundError)) throw error; // ended meanwhile (an operator's deletion, a logout)
        return false;
      });
    } finally {
      // What this request ended, its own session only if it ended it: of two deletions at once (two devices), each
      // counted the other's session and its own, which the other had ended (an outside review: 4 for 2 sessions).
      // A deletion sent again after one whose answer was lost (a 503) finishes it: its line says what it ended.
      const count = (ended ?? 0) + (endedHere ? 1 : 0);
      if (ended !== undefined || endedHere) this.audit.record(audited, 'account.deleted', { userId: user.id, count, by: current.record.id });
    }
    this.forget(kind, cookies);
  }

  @Post('reauthenticate')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Confirm the password on this session: it is replaced by a new one',
    description:
      'Like a login, this issues a new session (the presented one ends; its data carries over), which may end ' +
      "the user's other sessions for a short window (KURA_REAUTH_WINDOW, 5 minutes by default). The new session " +
      'travels the way this request authenticated (cookie, or `token` for bearer). Wrong passwords count towards ' +
      'the login limits.',
  })
  @ApiOkResponse({ description: 'Password confirmed: the new session.', standardSchema: LoginResponse })
  @ApiBodyProblems('Or it is not `{password}`: `errors` says what is wrong.')
  @ApiProblem(401, 'No valid session, or the password changed meanwhile.', WWW_AUTHENTICATE)
  @ApiProblem(403, `${CROSS_SITE} Or the password is not correct (counted like a failed login).`)
  @ApiProblem(429, TOO_MANY_FAILURES, RETRY_AFTER)
  async reauthenticate(
    @CurrentSession() current: AuthenticatedSession,
    @CurrentTransport() kind: TransportKind,
    @ValidBody(ReauthenticateBody) body: ReauthenticateBody,
    @Client() client: ClientInfo,
    @ResponseCookies() cookies: ResponseCookieJar,
    @Audited() audited: AuditRequest,
  ) {
    const { user: owner } = current.record;
    const user = await this.accounts.confirmPassword(emailOf(current.record), body.password, client.ip, owner.id).catch(this.failedCheck(audited, owner.id));
    const renewed = await this.sessions.reauthenticated(current, client, user.credentialVersion);
    this.audit.record(audited, 'session.reauthenticated', { userId: owner.id, sessionId: renewed.record.id, by: current.record.id });
    this.audit.evictions(audited, owner.id, renewed);
    return this.answer(kind, renewed, cookies);
  }

  @Post('password')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Change the password: every other session ends, and this one is replaced by a new one',
    description:
      'The new session travels the way this request authenticated (cookie, or `token` for bearer). It starts with no ' +
      'session data: the old sessions\' data ends with them (a re-authentication, unlike this, carries it over). A new ' +
      'password refused as at registration (commonly used, or made of the account\'s or the service\'s words) is a 400 ' +
      'after the current one is confirmed; nothing changes.',
  })
  @ApiOkResponse({ description: 'Password changed: the new session.', standardSchema: LoginResponse })
  @ApiBodyProblems('Or it is not `{currentPassword, newPassword}`, or the new password is too easily guessed: `errors` says what is wrong.')
  @ApiProblem(401, 'No valid session, or the password changed meanwhile.', WWW_AUTHENTICATE)
  @ApiProblem(403, `${CROSS_SITE} Or the current password is not correct (counted like a failed login).`)
  @ApiProblem(429, TOO_MANY_FAILURES, RETRY_AFTER)
  async changePassword(
    @CurrentSession() current: AuthenticatedSession,
    @CurrentTransport() kind: TransportKind,
    @ValidBody(PasswordChangeBody) body: PasswordChangeBody,
    @Client() client: ClientInfo,
    @ResponseCookies() cookies: ResponseCookieJar,
    @Audited() audited: AuditRequest,
  ) {
    const { user } = current.record;
    const credentialVersion = await this.accounts
      .changePassword(emailOf(current.record), body.currentPassword, body.newPassword, client.ip, user.id)
      .catch(this.failedCheck(audited, user.id));
    // The first session on the new credentials ends every session on the old ones, this one included, and
    // refuses any login still in flight with the old password. The password has changed whether or not that
    // succeeds (a store failure: 503, and the next login or logout-all ends the rest): the line is written either way.
    const issued = await this.sessions.create(user, client, { credentialVersion }).catch((error: unknown) => {
      this.audit.record(audited, 'password.changed', { userId: user.id, by: current.record.id });
      throw error;
    });
    this.audit.record(audited, 'password.changed', { userId: user.id, sessionId: issued.record.id, by: current.record.id });
    this.audit.evictions(audited, user.id, issued);
    return this.answer(kind, issued, cookies);
  }

  /** `requireRecentAuthentication`, with its refusal recorded as `access.denied`. */
  private proved(record: SessionRecord, audited: AuditRequest, operation: NonNullable<AuditDetails['operation']>, sessionId?: string): void {
    try {
      this.sessions.requireRecentAuthentication(record);
    } catch (error) {
      this.denied(audited, record, operation, 'reauthentication-required', sessionId);
      throw error;
    }
  }

  private denied(audited: AuditRequest, record: SessionRecord, operation: NonNullable<AuditDetails['operation']>, reason: DeniedReason, sessionId?: string): void {
    this.audit.record(audited, 'access.denied', { userId: record.user.id, operation, reason, ...(sessionId ? { sessionId } : {}), by: record.id });
  }

  private async requireRecentAuthenticationUnlessDeletionBegun(record: SessionRecord, audited: AuditRequest): Promise<void> {
    try {
      this.sessions.requireRecentAuthentication(record);
    } catch (error) {
      // Closed, no password opens it to prove; gone, all that is left is to end this session, as a logout does.
      if (await this.accounts.deletionBegun(emailOf(record), record.user.id)) return;
      this.denied(audited, record, 'account.delete', 'reauthentication-required');
      throw error;
    }
  }

  /**
   * Records a wrong password given to confirm a change (counted like a failed login), and passes the error on; a
   * right one that lost a race with another change (`raced`) is not a failed check.
   */
  private failedCheck(audited: AuditRequest, userId: string) {
    return (error: unknown): never => {
      if (error instanceof ReauthenticationFailedError && !error.raced) {
        this.audit.record(audited, 'password.check-failed', { userId, ...(error.checks > 1 ? { count: error.checks } : {}) });
      }
      throw error;
    };
  }

  /**
   * Makes a cookie client forget the session cookie of the session this request ended. A bearer request's answer sets
   * no cookie: a session cookie that client also holds is another session (maybe another user's), still live, which
   * clearing would leave running on the server, held by any copy of it.
   */
  private forget(kind: TransportKind, cookies: ResponseCookieJar): void {
    if (kind === 'cookie') cookies.set(...this.transport.expiredCookies());
  }

  /** A new session, handed over the way the replaced one travelled. */
  private answer(kind: TransportKind, { token, record }: IssuedSession, cookies: ResponseCookieJar) {
    const result = { user: record.user, session: toSessionView(record) };
    if (kind === 'bearer') return { ...result, token };
    cookies.set(this.transport.cookieFor(token, record));
    return result;
  }
}

/**
 * The email a Kura session was created with. The session layer takes users without one; Kura's login always sets
 * it, so its absence is a defect (a 500), never a reason to check another account's password.
 */
function emailOf(record: SessionRecord): string {
  const { email } = record.user;
  if (email === undefined) throw new Error('A Kura session without its user email: it was not created by Kura login');
  return email;
}

function toListEntry(record: SessionRecord, current: boolean) {
  return {
    ...toSessionView(record),
    lastSeenAt: new Date(record.lastSeenAt).toISOString(),
    userAgent: record.userAgent ?? null,
    ip: record.ip ?? null,
    current,
  };
}
