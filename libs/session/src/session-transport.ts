import { Inject, Injectable } from '@nestjs/common';
import { SESSION_SETTINGS, type SessionSettings } from './session.options.js';
import type { SessionRecord } from './session.types.js';
import { type HttpRequestLike, requestCookies } from './http-exchange.js';

/** How the client presented its token. */
export type TransportKind = 'cookie' | 'bearer';

/**
 * The parts of an HTTP request the transport reads: Fastify's and Express's requests both fit. Cookies come
 * from `cookies` when a plugin (`@fastify/cookie`, `cookie-parser`) parsed them, from the `Cookie` header otherwise.
 */
export type TokenSource = HttpRequestLike;

/**
 * A cookie to send. `maxAge` is in SECONDS (the `Max-Age` attribute; Express's `res.cookie` takes milliseconds:
 * write it with `ResponseCookies` or `appendCookie`, which serialise it, never pass it to `res.cookie`).
 */
export interface CookieSpec {
  readonly name: string;
  readonly value: string;
  readonly options: {
    readonly httpOnly: true;
    readonly secure: boolean;
    readonly sameSite: 'lax' | 'strict';
    readonly path: '/';
    readonly maxAge: number;
  };
}

const BEARER = /^Bearer +(\S*) *$/i;

/**
 * A cookie's value as a token or a cache token: only text. cookie-parser makes `j:["<43 characters>"]` an array,
 * which a token's pattern took for a token (as its text) and hashing then threw on: a 500 on every route reading a
 * session, where any other value that is no token is a 401.
 */
const textOf = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);

/** The header that carries the signed session cache for bearer clients, both ways. */
export const CACHE_HEADER = 'kura-session-cache';

/** What a request presented. */
export interface PresentedSession {
  readonly token: string | undefined;
  readonly kind: TransportKind;
  /** The signed session cache, when the client sent one back. */
  readonly cache: string | undefined;
}

/**
 * Where tokens travel: `Authorization: Bearer` when the client sends one, the session cookie otherwise.
 * Cookie attributes follow the OWASP session cheat sheet: HttpOnly, Secure, SameSite, Path=/, host-only.
 */
@Injectable()
export class SessionTransport {
  constructor(@Inject(SESSION_SETTINGS) private readonly settings: SessionSettings) {}

  /**
   * The presented token, how it came, and the signed cache that came with it (a cookie next to a cookie
   * session, the `Kura-Session-Cache` header next to a bearer token). A Bearer header wins over a cookie.
   */
  read(request: TokenSource): PresentedSession {
    const authorization = request.headers.authorization;
    if (typeof authorization === 'string' && /^bearer(\s|$)/i.test(authorization)) {
      const cache = request.headers[CACHE_HEADER];
      return { token: BEARER.exec(authorization)?.[1] ?? '', kind: 'bearer', cache: typeof cache === 'string' ? cache : undefined };
    }
    const cookies = requestCookies(request);
    return { token: textOf(cookies[this.settings.cookie.name]), kind: 'cookie', cache: textOf(cookies[this.cacheCookieName]) };
  }

  /** The cookie that carries the signed session cache; it lives as long as the cache token inside. */
  cacheCookieFor(jws: string, expiresAt: number): CookieSpec {
    const seconds = Math.max(0, Math.floor((expiresAt - this.settings.clock.now()) / 1000));
    return this.spec(jws, seconds, this.cacheCookieName);
  }

  /** Cookies that make the browser forget the session: the session cookie, and the cache cookie if in use. */
  expiredCookies(): CookieSpec[] {
    const cookies = [this.spec('', 0)];
    if (this.settings.cache) cookies.push(this.spec('', 0, this.cacheCookieName));
    return cookies;
  }

  private get cacheCookieName(): string {
    return `${this.settings.cookie.name}_cache`;
  }

  /**
   * The cookie that carries a session, set once when the session is made (a login, a re-authentication): it lasts
   * until the session's absolute expiry, the most the session may live, and is never renewed when use extends the
   * idle expiry (the store says whether the session still lives). A renewed cookie was the answer to a request
   * that extended the session; arriving after a login's or re-authentication's answer in the same browser, which
   * ended that session, it put the ended session's cookie back over the new one, and the user was signed out
   * though both requests succeeded (test/review-defects).
   */
  cookieFor(token: string, record: SessionRecord): CookieSpec {
    const seconds = Math.max(0, Math.floor((record.absoluteExpiresAt - this.settings.clock.now()) / 1000));
    return this.spec(token, seconds);
  }

  private spec(value: string, maxAge: number, name = this.settings.cookie.name): CookieSpec {
    const { secure, sameSite } = this.settings.cookie;
    return { name, value, options: { httpOnly: true, secure, sameSite, path: '/', maxAge } };
  }
}
