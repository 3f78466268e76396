import { ExecutionContextHost } from '@nestjs/core/helpers/execution-context-host.js';
import { CrossSiteRequestGuard, crossSiteReason } from './cross-site-request.guard.js';
import { InMemorySessionStore } from './in-memory-session.store.js';
import { CrossSiteRequestError } from './session.errors.js';
import { resolveSessionSettings } from './session.options.js';
import { SessionTransport } from './session-transport.js';

const settings = resolveSessionSettings({ store: new InMemorySessionStore(), trustedOrigins: ['https://app.example.com'] });
const sut = new CrossSiteRequestGuard(settings, new SessionTransport(settings));

/** A request to https://api.example.com as Fastify (or Express) presents it, with the session cookie. */
function cookieRequest(headers: Record<string, string> = {}, method = 'POST') {
  return {
    method,
    protocol: 'https',
    host: 'api.example.com',
    headers: { host: 'api.example.com', ...headers },
    cookies: { '__Host-kura_session': 'T'.repeat(43) },
  };
}
/** Nest's own HTTP execution context: request, response, next. */
const contextOf = (request: object) => new ExecutionContextHost([request, {}, () => {}]);
const FROM_ANOTHER_SITE = { origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' };

describe('CrossSiteRequestGuard', () => {
  it.each(['GET', 'HEAD', 'OPTIONS'])('lets a %s from another site through: it changes nothing', (method) => {
    expect(sut.canActivate(contextOf(cookieRequest(FROM_ANOTHER_SITE, method)))).toBe(true);
  });

  it('lets a bearer request from another site through: browsers never attach a bearer token on their own', () => {
    const request = { ...cookieRequest({ ...FROM_ANOTHER_SITE, authorization: `Bearer ${'B'.repeat(43)}` }) };

    expect(sut.canActivate(contextOf(request))).toBe(true);
  });

  // Login CSRF: a form on another site logs the victim's browser in to the attacker's account. With SameSite=Lax
  // the browser sends no session cookie on such a post even when the victim is logged in.
  it('refuses a request with no session cookie from another site too (login CSRF)', () => {
    expect(() => sut.canActivate(contextOf({ ...cookieRequest(FROM_ANOTHER_SITE), cookies: {} }))).toThrow(CrossSiteRequestError);
    expect(() => sut.canActivate(contextOf({ ...cookieRequest({ origin: 'https://evil.example' }), cookies: {} }))).toThrow(CrossSiteRequestError);
  });

  it('lets a request with no session cookie through from its own or a trusted origin, or from no browser', () => {
    const allowed: Record<string, string>[] = [{ origin: 'https://api.example.com', 'sec-fetch-site': 'same-origin' }, { origin: 'https://app.example.com' }, {}];
    for (const headers of allowed) {
      expect(sut.canActivate(contextOf({ ...cookieRequest(headers), cookies: {} }))).toBe(true);
    }
  });

  it.each([
    ['its own origin', { origin: 'https://api.example.com', 'sec-fetch-site': 'same-origin' }],
    ['its own origin with the default port spelled out', { origin: 'https://api.example.com:443' }],
    ['a trusted origin', { origin: 'https://app.example.com', 'sec-fetch-site': 'same-site' }],
    // Every browser says cross-site for a page of another site: a trusted one was refused all the same (an outside review).
    ['a trusted origin on another site', { origin: 'https://app.example.com', 'sec-fetch-site': 'cross-site' }],
    ['neither Origin nor Sec-Fetch-Site (not a browser)', {}],
  ])('lets a cookie request from %s through', (_case, headers) => {
    expect(sut.canActivate(contextOf(cookieRequest(headers)))).toBe(true);
  });

  it.each([
    ['Sec-Fetch-Site: cross-site', { 'sec-fetch-site': 'cross-site' }],
    ['Sec-Fetch-Site: cross-site from a foreign Origin', { origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' }],
    ['a foreign Origin', { origin: 'https://evil.example' }],
    ['Origin: null', { origin: 'null' }],
    ['its own host over plain http', { origin: 'http://api.example.com' }],
    ['its own host on another port', { origin: 'https://api.example.com:8443' }],
    ['a look-alike of its own origin', { origin: 'https://api.example.com.evil.example' }],
    ['a look-alike of a trusted origin', { origin: 'https://app.example.com.evil.example' }],
    ['a trusted host over plain http', { origin: 'http://app.example.com' }],
    ['an Origin that is not a URL', { origin: 'api.example.com' }],
  ])('refuses a cookie request with %s', (_case, headers) => {
    expect(() => sut.canActivate(contextOf(cookieRequest(headers)))).toThrow(CrossSiteRequestError);
  });

  it('refuses a cookie request from https to a service served over http', () => {
    const request = { ...cookieRequest({ origin: 'https://api.example.com' }), protocol: 'http' };

    expect(() => sut.canActivate(contextOf(request))).toThrow(CrossSiteRequestError);
  });
});


describe('crossSiteReason', () => {
  const to = (protocol: string, host: string | undefined, headers: Record<string, string> = {}) => ({
    protocol,
    headers: { ...(host ? { host } : {}), ...headers },
  });

  it.each([
    ['no Origin', to('https', 'api.example.com'), undefined],
    ['its own origin', to('https', 'api.example.com', { origin: 'https://api.example.com' }), undefined],
    ['its own origin, host in another case, port given', to('https', 'API.example.com:8443', { origin: 'https://api.example.com:8443' }), undefined],
    ['its own http origin', to('http', '127.0.0.1:3000', { origin: 'http://127.0.0.1:3000' }), undefined],
    ['a trusted origin', to('https', 'api.example.com', { origin: 'https://app.example.com' }), undefined],
    ['Sec-Fetch-Site: same-origin', to('https', 'api.example.com', { 'sec-fetch-site': 'same-origin' }), undefined],
    ['Sec-Fetch-Site: same-site', to('https', 'api.example.com', { 'sec-fetch-site': 'same-site' }), undefined],
    ['Sec-Fetch-Site: none', to('https', 'api.example.com', { 'sec-fetch-site': 'none' }), undefined],
  ])('lets %s through', (_case, request, expected) => {
    expect(crossSiteReason(request, ['https://app.example.com'])).toBe(expected);
  });

  it('prefers the host the framework derived (X-Forwarded-Host from a trusted proxy) to the Host header', () => {
    const request = { protocol: 'https', host: 'api.example.com', headers: { host: 'kura.internal:3000', origin: 'https://api.example.com' } };

    expect(crossSiteReason(request, [])).toBeUndefined();
  });

  it.each([
    ['Sec-Fetch-Site: cross-site', to('https', 'api.example.com', { 'sec-fetch-site': 'cross-site' }), /Sec-Fetch-Site/],
    ['cross-site even with its own Origin', to('https', 'api.example.com', { 'sec-fetch-site': 'cross-site', origin: 'https://api.example.com' }), /Sec-Fetch-Site/],
    ['Origin: null', to('https', 'api.example.com', { origin: 'null' }), /null/],
    ['a foreign Origin', to('https', 'api.example.com', { origin: 'https://evil.example' }), /not this site/],
    ['a look-alike Origin', to('https', 'api.example.com', { origin: 'https://api.example.com.evil.example' }), /not this site/],
    ['another port', to('https', 'api.example.com:8443', { origin: 'https://api.example.com' }), /not this site/],
    ['https to an http service', to('http', 'api.example.com', { origin: 'https://api.example.com' }), /not this site/],
    ['http to an https service', to('https', 'api.example.com', { origin: 'http://api.example.com' }), /not this site/],
    ['no Host at all', to('https', undefined, { origin: 'https://api.example.com' }), /not this site/],
    ['an Origin that is not a URL', to('https', 'api.example.com', { origin: 'not a url' }), /not a URL/],
  ])('refuses %s', (_case, request, reason) => {
    expect(crossSiteReason(request, ['https://app.example.com'])).toMatch(reason);
  });
});
