import { Controller, Get, HttpCode, Post, Req, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiCookieAuth, ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiSecurity, ApiTags } from '@nestjs/swagger';
import { AccountService, InvalidCredentialsError, type PublicUser } from '@kura/accounts';
import {
  type AuthenticatedSession,
  CacheableSession,
  type ClientInfo,
  CurrentSession,
  ResponseCookies,
  type ResponseCookieJar,
  SessionGuard,
  SessionService,
  SessionTransport,
  type TokenSource,
  toSessionView,
} from '@kura/session';
import { LoginBody, LoginResponse, MeResponse, RegisterBody, UserResponse } from './auth.schemas.js';
import { ApiBodyProblems, ApiDefect, ApiProblem, CROSS_SITE } from '../http/problem.schema.js';
import { RETRY_AFTER, SESSION_CACHE, WWW_AUTHENTICATE } from '../openapi/response-headers.js';
import { Client } from './client-info.decorator.js';
import { ValidBody } from '../http/valid-body.js';
import { AuditLog, type AuditRequest } from '../observability/audit-log.js';
import { Audited } from './audit-request.decorator.js';

@ApiTags('auth')
@ApiDefect()
@ApiProblem(503, 'The session store is unavailable; try again after Retry-After.', RETRY_AFTER)
@Controller('auth')
export class AuthController {
  constructor(
    private readonly accounts: AccountService,
    private readonly sessions: SessionService,
    private readonly transport: SessionTransport,
    private readonly audit: AuditLog,
  ) {}

  @Post('register')
  @ApiOperation({
    summary: 'Create an account',
    description:
      'Anyone may register; no session is created (log in next). The email is stored lower-cased. Registrations are ' +
      'limited per client address (KURA_REGISTRATION_MAX_PER_CLIENT): past the limit the answer is 429 before the ' +
      'password is hashed. A commonly used password (one of about 49,000, also with digits or symbols around it) or one ' +
      "made of the email, the name or the service's name (KURA_PASSWORD_SERVICE_WORDS) is refused with 400, before " +
      'anything is counted or stored.',
    security: [],
  })
  @ApiCreatedResponse({ description: 'The new account.', standardSchema: UserResponse })
  @ApiBodyProblems('Or it is not a valid registration, or the password is too easily guessed: `errors` says what is wrong.')
  @ApiProblem(403, CROSS_SITE)
  @ApiProblem(409, 'The email already has an account.')
  @ApiProblem(429, 'Too many registrations from this client; try again after Retry-After.', RETRY_AFTER)
  async register(@ValidBody(RegisterBody) body: RegisterBody, @Client() client: ClientInfo, @Audited() request: AuditRequest): Promise<PublicUser> {
    const user = await this.accounts.register(body, client.ip);
    this.audit.record(request, 'account.registered', { userId: user.id });
    return user;
  }

  @Post('login')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Log in: a new session, as an HttpOnly cookie or a bearer token',
    description:
      'Needs no credentials but the email and password. A session the client came with (cookie or bearer) ends once ' +
      'the new one exists. Where KURA_MAX_SESSIONS_PER_USER is set and the user is at it, their least recently used ' +
      'sessions end so this one fits (the login is never refused for it). Failed logins are limited per account and ' +
      'client address, per account from all addresses, and per client address (KURA_LOGIN_MAX_FAILURES_*): past a ' +
      'limit the answer is 429 before the password is checked.',
    security: [],
  })
  @ApiOkResponse({ description: 'Logged in; with `transport: "cookie"` the session cookie is set.', standardSchema: LoginResponse })
  @ApiBodyProblems('Or it is not a valid login: `errors` says what is wrong.')
  @ApiProblem(401, 'Wrong email or password (one answer for both), or the password changed while signing in.')
  @ApiProblem(403, CROSS_SITE)
  @ApiProblem(429, 'Too many failed logins for this account or client; try again after Retry-After.', RETRY_AFTER)
  async login(
    @ValidBody(LoginBody) body: LoginBody,
    @Req() request: TokenSource,
    @Client() client: ClientInfo,
    @ResponseCookies() cookies: ResponseCookieJar,
    @Audited() audited: AuditRequest,
  ) {
    const user = await this.accounts.verifyCredentials(body.email, body.password, client.ip).catch((error: unknown) => {
      if (error instanceof InvalidCredentialsError) this.audit.record(audited, 'login.failed', error.userId ? { userId: error.userId } : { account: 'none' });
      throw error;
    });
    // A login never keeps the session the client came with (ASVS 7.2.4): it ends once the new one exists.
    const { token: presented } = this.transport.read(request);
    const issued = await this.sessions.create(user, client, { credentialVersion: user.credentialVersion, replaces: presented });
    const { token, record, replaced } = issued;
    this.audit.record(audited, 'login.succeeded', { userId: user.id, sessionId: record.id });
    this.audit.evictions(audited, user.id, issued);
    // The session this browser or client held (maybe another user's) ended with this login.
    if (replaced) this.audit.record(audited, 'logout', { userId: replaced.userId, sessionId: replaced.sessionId, by: record.id });
    const result = { user: record.user, session: toSessionView(record) };
    if (body.transport === 'bearer') return { ...result, token };
    cookies.set(this.transport.cookieFor(token, record));
    return result;
  }

  @Get('me')
  @UseGuards(SessionGuard)
  @CacheableSession()
  @ApiCookieAuth()
  @ApiBearerAuth()
  @ApiOperation({
    summary: 'The current user and session',
    description:
      'Read from the session store, or, with KURA_SESSION_CACHE_SECONDS set, from the signed session cache: then a ' +
      'session ended since, on any replica, can still read this for up to that many seconds.',
  })
  @ApiOkResponse({ description: 'The session is valid.', standardSchema: MeResponse, headers: SESSION_CACHE })
  @ApiProblem(401, 'No valid session.', WWW_AUTHENTICATE)
  me(@CurrentSession() session: AuthenticatedSession) {
    return { user: session.record.user, session: toSessionView(session.record) };
  }

  @Post('logout')
  @HttpCode(204)
  @ApiCookieAuth()
  @ApiBearerAuth()
  // Or none: logging out without a session is not an error.
  @ApiSecurity({})
  @ApiOperation({
    summary: 'End the current session everywhere (and, for a cookie session, clear the cookie)',
    description:
      'The session ends for good on every replica at once; its token can never be used again. A bearer logout sets no ' +
      'cookie: a session cookie the client also holds is another session, which lives on until it logs out too.',
  })
  @ApiNoContentResponse({ description: 'Logged out (also when there was no session).' })
  @ApiBodyProblems()
  @ApiProblem(403, CROSS_SITE)
  async logout(@Req() request: TokenSource, @ResponseCookies() cookies: ResponseCookieJar, @Audited() audited: AuditRequest): Promise<void> {
    const { token, kind } = this.transport.read(request);
    const ended = token ? await this.sessions.revoke(token) : undefined;
    if (ended?.live) this.audit.record(audited, 'logout', { userId: ended.userId, sessionId: ended.sessionId });
    // Only the cookie that carried the ended session is cleared: cleared by a bearer logout, a cookie the client also
    // held left its session live on the server, held by any copy of it, while the browser was told to forget it.
    if (kind === 'cookie') cookies.set(...this.transport.expiredCookies());
  }
}
