import { Inject, Injectable } from '@nestjs/common';
import { SESSION_SETTINGS, type SessionSettings } from './session.options.js';
import { effectiveExpiry, type SessionRecord } from './session.types.js';

/** How the client presented its token. */
export type TransportKind = 'cookie' | 'bearer';

/** The parts of an HTTP request the transport reads (a Fastify request with `@fastify/cookie` fits). */
export interface TokenSource {
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly cookies?: Readonly<Record<string, string | undefined>>;
}

/** A cookie to send, in the shape `@fastify/cookie`'s `reply.setCookie(name, value, options)` takes. */
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
 * Where tokens travel: `Authorization: Bearer` when the client sends one, the session cookie otherwise.
 * Cookie attributes follow the OWASP session cheat sheet: HttpOnly, Secure, SameSite, Path=/, host-only.
 */
@Injectable()
export class SessionTransport {
  constructor(@Inject(SESSION_SETTINGS) private readonly settings: SessionSettings) {}

  /** The presented token and how it came; a Bearer header wins over a cookie. */
  read(request: TokenSource): { token: string | undefined; kind: TransportKind } {
    const authorization = request.headers.authorization;
    if (typeof authorization === 'string' && /^bearer(\s|$)/i.test(authorization)) {
      return { token: BEARER.exec(authorization)?.[1] ?? '', kind: 'bearer' };
    }
    if (request.cookies === undefined) {
      throw new Error('SessionTransport needs parsed cookies: register @fastify/cookie on the Fastify instance');
    }
    return { token: request.cookies[this.settings.cookie.name], kind: 'cookie' };
  }

  /** The cookie that carries a session; it lives exactly as long as the session may. */
  cookieFor(token: string, record: SessionRecord): CookieSpec {
    const seconds = Math.max(0, Math.floor((effectiveExpiry(record) - this.settings.clock.now()) / 1000));
    return this.spec(token, seconds);
  }

  /** The cookie that makes the browser forget the session (same name and attributes, Max-Age=0). */
  expiredCookie(): CookieSpec {
    return this.spec('', 0);
  }

  private spec(value: string, maxAge: number): CookieSpec {
    const { name, secure, sameSite } = this.settings.cookie;
    return { name, value, options: { httpOnly: true, secure, sameSite, path: '/', maxAge } };
  }
}
