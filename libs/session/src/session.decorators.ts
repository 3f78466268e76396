import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import { type CookieReply, type SessionCarrier, sessionOf, writeCookie } from './session.guard.js';
import type { CookieSpec } from './session-transport.js';
import type { AuthenticatedSession } from './session.types.js';

/** The session checked by `SessionGuard` for this request. */
export const CurrentSession = createParamDecorator(
  (_: unknown, context: ExecutionContext): AuthenticatedSession =>
    sessionOf(context.switchToHttp().getRequest<SessionCarrier>()).session,
);

/** Writes session cookies on this request's response, without handing the controller the raw reply. */
export interface ResponseCookieJar {
  set(...cookies: CookieSpec[]): void;
}

/** Injects a {@link ResponseCookieJar} for the current response (login and logout set and clear cookies). */
export const ResponseCookies = createParamDecorator((_: unknown, context: ExecutionContext): ResponseCookieJar => {
  const reply = context.switchToHttp().getResponse<CookieReply>();
  return {
    set(...cookies: CookieSpec[]) {
      reply.header('cache-control', 'no-store');
      for (const cookie of cookies) writeCookie(reply, cookie);
    },
  };
});
