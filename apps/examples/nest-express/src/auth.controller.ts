import { BadRequestException, Body, Controller, Get, HttpCode, Post, Req, UseGuards } from '@nestjs/common';
import {
  type AuthenticatedSession,
  CurrentSession,
  ResponseCookies,
  type ResponseCookieJar,
  SessionGuard,
  SessionService,
  SessionTransport,
  type TokenSource,
} from '@kura/session';

/** Login by name only: a demo of the session, not of accounts. Your app checks credentials here. */
@Controller()
export class AuthController {
  constructor(
    private readonly sessions: SessionService,
    private readonly transport: SessionTransport,
  ) {}

  @Post('login')
  @HttpCode(200)
  async login(@Body() body: { user?: unknown }, @Req() request: TokenSource, @ResponseCookies() cookies: ResponseCookieJar) {
    if (typeof body?.user !== 'string' || body.user === '') throw new BadRequestException('user is required');
    const user = { id: body.user, name: body.user };
    // A login never keeps the session the client came with.
    const { token, record } = await this.sessions.create(user, {}, { replaces: this.transport.read(request).token });
    cookies.set(this.transport.cookieFor(token, record));
    return { user: body.user };
  }

  @Get('me')
  @UseGuards(SessionGuard)
  me(@CurrentSession() session: AuthenticatedSession) {
    return { user: session.record.user.name };
  }

  @Post('logout')
  @HttpCode(204)
  async logout(@Req() request: TokenSource, @ResponseCookies() cookies: ResponseCookieJar): Promise<void> {
    const { token } = this.transport.read(request);
    if (token) await this.sessions.revoke(token);
    cookies.set(...this.transport.expiredCookies());
  }
}
