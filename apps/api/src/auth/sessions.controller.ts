import { Body, Controller, Delete, Get, HttpCode, Param, Post, UseGuards } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiCookieAuth,
  ApiForbiddenResponse,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiServiceUnavailableResponse,
  ApiTags,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { AccountService } from '@kura/accounts';
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
import { problem } from '../http/problem.schema.js';
import { Client } from './client-info.decorator.js';
import { CurrentTransport } from './current-transport.decorator.js';


/** A user's view of their own sessions: list them, end one, end all, and change the password. */
@ApiTags('sessions')
@ApiCookieAuth()
@ApiBearerAuth()
@ApiUnauthorizedResponse({ description: 'No valid session.', ...problem })
@ApiServiceUnavailableResponse({ description: 'The session store is unavailable; see Retry-After.', ...problem })
@UseGuards(SessionGuard)
@Controller('auth')
export class SessionsController {
  constructor(
    private readonly sessions: SessionService,
    private readonly accounts: AccountService,
    private readonly transport: SessionTransport,
  ) {}

  @Get('sessions')
  @ApiOperation({
    summary: "The caller's live sessions, newest first",
    description: 'Read from an index that can lag about a second behind a new login; revocation never depends on it.',
  })
  @ApiOkResponse({ standardSchema: SessionListResponse })
  async list(@CurrentSession() current: AuthenticatedSession) {
    const listed = await this.sessions.listOfUser(current.record.user.id, SESSION_LIST_LIMIT);
    // The index may not show a session made a moment ago (or it is older than the newest listed); the caller's
    // own is always known, and always shown.
    const all = listed.some((record) => record.id === current.record.id) ? listed : [current.record, ...listed.slice(0, SESSION_LIST_LIMIT - 1)];
    return { sessions: all.map((record) => toListEntry(record, record.id === current.record.id)) };
  }

  @Delete('sessions/:id')
  @HttpCode(204)
  @ApiOperation({ summary: "End one of the caller's sessions (404 for any id that is not theirs)" })
  @ApiNoContentResponse({ description: 'The session ended, on every replica at once.' })
  @ApiNotFoundResponse({ description: 'The caller has no session with this id.', ...problem })
  @ApiForbiddenResponse({ description: 'Ending another session needs a recent password confirmation (POST /auth/reauthenticate).', ...problem })
  async revoke(
    @CurrentSession() current: AuthenticatedSession,
    @Param('id') id: string,
    @ResponseCookies() cookies: ResponseCookieJar,
  ): Promise<void> {
    if (!isWellFormedSessionId(id)) throw new SessionNotFoundError();
    // Ending this very session is a logout; ending another one needs the password proved recently (ASVS 7.5.2).
    if (id !== current.record.id) this.sessions.requireRecentAuthentication(current.record);
    await this.sessions.revokeOwned(current.record.user.id, id);
    if (id === current.record.id) cookies.set(...this.transport.expiredCookies());
  }

  @Post('logout-all')
  @HttpCode(200)
  @ApiOperation({ summary: 'End every session of the caller, this one included, on every replica at once' })
  @ApiOkResponse({ standardSchema: RevokedResponse })
  @ApiForbiddenResponse({ description: 'Needs a recent password confirmation (POST /auth/reauthenticate).', ...problem })
  async logoutAll(@CurrentSession() current: AuthenticatedSession, @ResponseCookies() cookies: ResponseCookieJar) {
    this.sessions.requireRecentAuthentication(current.record);
    const revoked = await this.sessions.revokeAllOfUser(current.record.user.id);
    cookies.set(...this.transport.expiredCookies());
    return { revoked };
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
  @ApiOkResponse({ standardSchema: LoginResponse })
  @ApiForbiddenResponse({ description: 'The password is not correct.', ...problem })
  async reauthenticate(
    @CurrentSession() current: AuthenticatedSession,
    @CurrentTransport() kind: TransportKind,
    @Body({ schema: ReauthenticateBody }) body: ReauthenticateBody,
    @Client() client: ClientInfo,
    @ResponseCookies() cookies: ResponseCookieJar,
  ) {
    const user = await this.accounts.confirmPassword(current.record.user.email, body.password, client.ip);
    return this.answer(kind, await this.sessions.reauthenticated(current, client, user.credentialVersion), cookies);
  }

  @Post('password')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Change the password: every other session ends, and this one is replaced by a new one',
    description: 'The new session travels the way this request authenticated (cookie, or `token` for bearer).',
  })
  @ApiOkResponse({ standardSchema: LoginResponse })
  @ApiForbiddenResponse({ description: 'The current password is not correct.', ...problem })
  async changePassword(
    @CurrentSession() current: AuthenticatedSession,
    @CurrentTransport() kind: TransportKind,
    @Body({ schema: PasswordChangeBody }) body: PasswordChangeBody,
    @Client() client: ClientInfo,
    @ResponseCookies() cookies: ResponseCookieJar,
  ) {
    const { user } = current.record;
    const credentialVersion = await this.accounts.changePassword(user.email, body.currentPassword, body.newPassword, client.ip);
    // The first session on the new credentials ends every session on the old ones, this one included, and
    // refuses any login still in flight with the old password.
    return this.answer(kind, await this.sessions.create(user, client, { credentialVersion }), cookies);
  }

  /** A new session, handed over the way the replaced one travelled. */
  private answer(kind: TransportKind, { token, record }: IssuedSession, cookies: ResponseCookieJar) {
    const result = { user: record.user, session: toSessionView(record) };
    if (kind === 'bearer') return { ...result, token };
    cookies.set(this.transport.cookieFor(token, record));
    return result;
  }
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
