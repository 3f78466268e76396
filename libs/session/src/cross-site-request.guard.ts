import { type CanActivate, type ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { httpRequestOf } from './http-exchange.js';
import { CrossSiteRequestError } from './session.errors.js';
import { SESSION_SETTINGS, type SessionSettings } from './session.options.js';
import { SessionTransport, type TokenSource } from './session-transport.js';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * What the guard reads from a request; Fastify's and Express's requests both fit. Their `protocol` honours the
 * framework's trust-proxy setting (`X-Forwarded-Proto` from a trusted proxy), so behind a proxy that ends TLS,
 * trust it or every https page is taken for another site.
 */
export interface CrossSiteSource extends TokenSource {
  readonly method: string;
  /** `http` or `https`: the scheme the client used. */
  readonly protocol: string;
  /** Host and port the client addressed (Fastify's and Express 5's `host`); the `Host` header when absent. */
  readonly host?: string;
}

/**
 * CSRF defence for cookie sessions (OWASP: Fetch Metadata and Origin verification). A state-changing request
 * that is not bearer-authenticated is refused when the browser says it comes from another site
 * (`Sec-Fetch-Site: cross-site`) or from an `Origin` that is opaque (`null`) or neither the request's own
 * origin (scheme, host and port) nor a trusted one. That includes requests with no session cookie: a login form
 * posted from another site would otherwise log the victim's browser in to the attacker's account (login CSRF),
 * and with `SameSite=Lax` even a logged-in victim's cookie stays off such a post. Bearer requests are not
 * affected: browsers never attach a bearer token on their own. Requests with neither header (non-browser
 * clients) pass. Apply it to every route (`APP_GUARD`); a page on another origin that logs in or changes
 * anything needs its origin in `trustedOrigins`.
 */
@Injectable()
export class CrossSiteRequestGuard implements CanActivate {
  constructor(
    @Inject(SESSION_SETTINGS) private readonly settings: SessionSettings,
    private readonly transport: SessionTransport,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    const request = httpRequestOf<CrossSiteSource>(context);
    if (SAFE_METHODS.has(request.method.toUpperCase())) return true;
    if (this.transport.read(request).kind === 'bearer') return true;
    const reason = crossSiteReason(request, this.settings.trustedOrigins);
    if (reason) throw new CrossSiteRequestError(reason);
    return true;
  }
}

/** Why a request looks cross-site, or `undefined` when it does not. */
export function crossSiteReason(
  request: Omit<CrossSiteSource, 'method'>,
  trustedOrigins: readonly string[],
): string | undefined {
  const origin = single(request.headers.origin);
  // A trusted origin first: browsers send `Sec-Fetch-Site: cross-site` with every request from another site's page,
  // so a trusted origin on another site was refused whatever `trustedOrigins` said (an outside review). The browser
  // sets `Origin` itself: a page cannot claim another's.
  if (origin !== undefined && trustedOrigins.includes(origin)) return undefined;
  const site = single(request.headers['sec-fetch-site']);
  if (site === 'cross-site') return 'Sec-Fetch-Site: cross-site';
  if (origin === undefined) return undefined;
  if (origin === 'null') return 'Origin: null';
  const claimed = originOf(origin);
  if (claimed === undefined) return 'Origin is not a URL';
  const own = originOf(`${request.protocol}://${request.host ?? single(request.headers.host) ?? ''}`);
  return own !== undefined && claimed === own ? undefined : `Origin ${origin} is not this site`;
}

/** The serialised origin (lower-case host, default port dropped), or `undefined` if it is none. */
function originOf(url: string): string | undefined {
  if (!URL.canParse(url)) return undefined;
  const { origin } = new URL(url);
  return origin === 'null' ? undefined : origin;
}

const single = (value: string | string[] | undefined) => (Array.isArray(value) ? value[0] : value);
