import { type CanActivate, type ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { CrossSiteRequestError } from './session.errors.js';
import { SESSION_SETTINGS, type SessionSettings } from './session.options.js';
import { SessionTransport, type TokenSource } from './session-transport.js';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

interface HttpRequestLike extends TokenSource {
  readonly method: string;
}

/**
 * CSRF defence for cookie sessions (OWASP: Fetch Metadata and Origin verification). A state-changing request
 * that carries the session cookie is refused when the browser says it comes from another site
 * (`Sec-Fetch-Site: cross-site`) or from a foreign or opaque (`null`) `Origin`. Bearer requests are not
 * affected: browsers never attach a bearer token on their own. Requests with neither header (non-browser
 * clients) pass. Apply it to every route (`APP_GUARD`).
 */
@Injectable()
export class CrossSiteRequestGuard implements CanActivate {
  constructor(
    @Inject(SESSION_SETTINGS) private readonly settings: SessionSettings,
    private readonly transport: SessionTransport,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<HttpRequestLike>();
    if (SAFE_METHODS.has(request.method.toUpperCase())) return true;
    const { token, kind } = this.transport.read(request);
    if (kind === 'bearer' || token === undefined) return true;
    const reason = crossSiteReason(request.headers, this.settings.trustedOrigins);
    if (reason) throw new CrossSiteRequestError(reason);
    return true;
  }
}

/** Why a request looks cross-site, or `undefined` when it does not. */
export function crossSiteReason(
  headers: TokenSource['headers'],
  trustedOrigins: readonly string[],
): string | undefined {
  const site = single(headers['sec-fetch-site']);
  if (site === 'cross-site') return 'Sec-Fetch-Site: cross-site';
  const origin = single(headers.origin);
  if (origin === undefined) return undefined;
  if (origin === 'null') return 'Origin: null';
  if (trustedOrigins.includes(origin)) return undefined;
  const host = single(headers.host);
  let originHost: string;
  try {
    originHost = new URL(origin).host;
  } catch {
    return 'Origin is not a URL';
  }
  return host !== undefined && originHost === host.toLowerCase() ? undefined : `Origin ${origin} is not this site`;
}

const single = (value: string | string[] | undefined) => (Array.isArray(value) ? value[0] : value);
