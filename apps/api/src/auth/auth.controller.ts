import { Body, Controller, Get, HttpCode, Post, Req, UseGuards } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiConflictResponse,
  ApiCookieAuth,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiServiceUnavailableResponse,
  ApiTags,
  ApiUnauthorizedResponse,
  ApiBadRequestResponse,
  ApiTooManyRequestsResponse,
} from '@nestjs/swagger';
import { AccountService, type PublicUser } from '@kura/accounts';
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
import { problem } from '../http/problem.schema.js';
import { Client } from './client-info.decorator.js';


@ApiTags('auth')
@ApiBadRequestResponse({ description: 'Malformed or invalid request.', ...problem })
@ApiServiceUnavailableResponse({ description: 'The session store is unavailable; see Retry-After.', ...problem })
@Controller('auth')
export class AuthController {
  constructor(
    private readonly accounts: AccountService,
    private readonly sessions: SessionService,
    private readonly transport: SessionTransport,
  ) {}

  @Post('register')
  @ApiOperation({ summary: 'Create an account' })
  @ApiCreatedResponse({ standardSchema: UserResponse })
  @ApiConflictResponse({ description: 'The email already has an account.', ...problem })
  register(@Body({ schema: RegisterBody }) body: RegisterBody): Promise<PublicUser> {
    return this.accounts.register(body);
  }

  @Post('login')
  @HttpCode(200)
  @ApiOperation({ summary: 'Log in: a new session, as an HttpOnly cookie or a bearer token' })
  @ApiOkResponse({ standardSchema: LoginResponse })
  @ApiUnauthorizedResponse({ description: 'Wrong email or password (one answer for both).', ...problem })
  @ApiTooManyRequestsResponse({ description: 'Too many failed logins for this account or client; see Retry-After.', ...problem })
  async login(
    @Body({ schema: LoginBody }) body: LoginBody,
    @Req() request: TokenSource,
    @Client() client: ClientInfo,
    @ResponseCookies() cookies: ResponseCookieJar,
  ) {
    const user = await this.accounts.verifyCredentials(body.email, body.password, client.ip);
    // A login never keeps the session the client came with (ASVS 7.2.4): it ends once the new one exists.
    const { token: presented } = this.transport.read(request);
    const { token, record } = await this.sessions.create(user, client, { credentialVersion: user.credentialVersion, replaces: presented });
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
  @ApiOperation({ summary: 'The current user and session' })
  @ApiOkResponse({ standardSchema: MeResponse })
  @ApiUnauthorizedResponse({ description: 'No valid session.', ...problem })
  me(@CurrentSession() session: AuthenticatedSession) {
    return { user: session.record.user, session: toSessionView(session.record) };
  }

  @Post('logout')
  @HttpCode(204)
  @ApiCookieAuth()
  @ApiBearerAuth()
  @ApiOperation({ summary: 'End the current session everywhere and clear the cookie' })
  @ApiNoContentResponse({ description: 'Logged out (also when there was no session).' })
  async logout(@Req() request: TokenSource, @ResponseCookies() cookies: ResponseCookieJar): Promise<void> {
    const { token } = this.transport.read(request);
    if (token) await this.sessions.revoke(token);
    cookies.set(...this.transport.expiredCookies());
  }
}
