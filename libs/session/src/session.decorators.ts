import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import { appendCookie, httpRequestOf, httpResponseOf, type HttpResponseLike, setResponseHeader } from './http-exchange.js';
import { type SessionCarrier, sessionOf } from './session.guard.js';
import type { CookieSpec } from './session-transport.js';
import type { AuthenticatedSession } from './session.types.js';

/** The session checked by `SessionGuard` for this request. */
export const CurrentSession = createParamDecorator(
  (_: unknown, context: ExecutionContext): AuthenticatedSession =>
    sessionOf(httpRequestOf<SessionCarrier>(context)).session,
);

/** Writes session cookies on this request's response, without handing the controller the raw reply. */
export interface ResponseCookieJar {
  set(...cookies: CookieSpec[]): void;
}

/**
 * Injects a {@link ResponseCookieJar} for the current response (login and logout set and clear cookies), on
 * Fastify and Express alike: each cookie becomes a `Set-Cookie` header beside any the app sets (`appendCookie`).
 */
export const ResponseCookies = createParamDecorator((_: unknown, context: ExecutionContext): ResponseCookieJar => {
  const reply = httpResponseOf<HttpResponseLike>(context);
  return {
    set(...cookies: CookieSpec[]) {
      setResponseHeader(reply, 'cache-control', 'no-store');
      for (const cookie of cookies) appendCookie(reply, cookie);
    },
  };
});
