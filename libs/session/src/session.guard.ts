import { type CanActivate, type ExecutionContext, Injectable, SetMetadata } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { SessionService } from './session.service.js';
import { CACHE_HEADER, SessionTransport, type TokenSource, type TransportKind } from './session-transport.js';
import type { AuthenticatedSession } from './session.types.js';
import { appendCookie, httpRequestOf, httpResponseOf, type HttpResponseLike, setResponseHeader } from './http-exchange.js';

/**
 * The reply the session layer writes to: a Fastify reply or an Express (Node) response.
 * @deprecated since the session layer stopped needing `@fastify/cookie`; use `HttpResponseLike`.
 */
export type CookieReply = HttpResponseLike;

const SESSION = Symbol('kura:session');
const CACHEABLE = 'kura:session-cacheable';
const WITH_DATA = 'kura:session-with-data';
const SAFE_METHODS = new Set(['GET', 'HEAD']);

/**
 * Marks a route that only reads: there, and on GET or HEAD only, the signed session cache may vouch for the
 * session instead of a store read. Everywhere else the session is read from the store, so a revoked session
 * can never change anything, whatever cache it still holds.
 */
export const CacheableSession = () => SetMetadata(CACHEABLE, true);

/**
 * Marks a route (or a controller) that reads or changes the session's data right after the guard: the guard
 * reads the data with the session in one round trip where the store can, and hands it on as
 * `AuthenticatedSession.data` (`SessionDataService` takes it as its first read).
 */
export const WithSessionData = () => SetMetadata(WITH_DATA, true);

/** The request after the guard ran: the checked session and how its token came. */
export interface SessionCarrier {
  [SESSION]?: { session: AuthenticatedSession; kind: TransportKind };
}

/**
 * Lets a request through only with a valid session, and makes it available to `@CurrentSession()`.
 * Authenticated responses are marked `Cache-Control: no-store`. A check that extends the idle expiry sets no
 * cookie: the session's lasts until its absolute expiry (`SessionTransport.cookieFor`). The signed cache is
 * consulted, and a new cache token handed out after a store read, only on `@CacheableSession()` routes read with
 * GET or HEAD.
 */
@Injectable()
export class SessionGuard implements CanActivate {
  constructor(
    private readonly sessions: SessionService,
    private readonly transport: SessionTransport,
    private readonly reflector: Reflector,
  ) {}

  /**
   * Synchronous when the signed cache vouches for the session (no store read, and no promise for Nest to wait
   * on); otherwise the store is asked.
   */
  canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    const request = httpRequestOf<TokenSource & SessionCarrier & { method: string }>(context);
    const reply = httpResponseOf<HttpResponseLike>(context);
    const { token, kind, cache } = this.transport.read(request);
    const route = this.routeOf(context);
    const cacheable = route.cacheable && SAFE_METHODS.has(request.method.toUpperCase());
    const vouched = cacheable ? this.sessions.vouchedByCache(token, cache) : undefined;
    if (vouched) return this.admit(request, reply, vouched, kind);
    // The cache, if any, was tried just now: the store decides. A new cache token only where the cache may be used:
    // a route that ends the session (logout-all, account deletion) must not answer with one vouching for it.
    return this.sessions.authenticate(token, undefined, { withData: route.withData, issueCache: cacheable }).then((session) => this.admit(request, reply, session, kind));
  }

  /** Lets the request through with its checked session: `@CurrentSession()` finds it, and the reply is marked. */
  private admit(request: SessionCarrier, reply: HttpResponseLike, session: AuthenticatedSession, kind: TransportKind): true {
    request[SESSION] = { session, kind };
    setResponseHeader(reply, 'cache-control', 'no-store');
    if (session.cache) {
      if (kind === 'cookie') appendCookie(reply, this.transport.cacheCookieFor(session.cache.jws, session.cache.expiresAt));
      else setResponseHeader(reply, CACHE_HEADER, session.cache.jws);
    }
    return true;
  }

  /** What a route's decorators ask of the guard, read once per handler (metadata does not change at run time). */
  private routeOf(context: ExecutionContext): RouteNeeds {
    const handler = context.getHandler();
    let needs = this.routes.get(handler);
    if (!needs) {
      needs = {
        cacheable: this.reflector.get<boolean>(CACHEABLE, handler) === true,
        withData: this.reflector.getAllAndOverride<boolean>(WITH_DATA, [handler, context.getClass()]) === true,
      };
      this.routes.set(handler, needs);
    }
    return needs;
  }

  private readonly routes = new WeakMap<object, RouteNeeds>();
}

interface RouteNeeds {
  readonly cacheable: boolean;
  readonly withData: boolean;
}

/** How the checked session's token came on this request. */
export function transportOf(request: SessionCarrier): TransportKind {
  return sessionOf(request).kind;
}

/** Reads what {@link SessionGuard} stored on the request; throws if the guard did not run on this route. */
export function sessionOf(request: SessionCarrier): { session: AuthenticatedSession; kind: TransportKind } {
  const found = request[SESSION];
  if (!found) throw new Error('No session on this request: protect the route with SessionGuard');
  return found;
}
